//! Every text frame a chat client sends goes through `protocol::parse`:
//! it never panics, and a command it accepts names a room whose topic is
//! valid (so the handler answers bad input with an error message instead
//! of failing the peer with 1011).

#![no_main]

use chat::protocol::parse;
use libfuzzer_sys::fuzz_target;
use xws::Topic;

fuzz_target!(|text: &str| {
    if let Ok(Some(command)) = parse(text)
        && let Some(room) = command.room_id()
        && let Err(error) = Topic::new(room.topic())
    {
        panic!("parse accepted {text:?}, whose room is not a valid topic: {error}");
    }
});
