//! Whatever anyone publishes to the Redis channel reaches
//! `EnvelopeSeal::open` first: any bytes are refused or opened without a
//! panic, and what opens is exactly what sealing its envelope gives back.
//! The first byte picks which secrets the node holds, so forged, rotated
//! and genuine seals are all explored.
//!
//! xws-redis's `seal.rs` is compiled into this target from its source file:
//! depending on xws-redis would build the Redis client under nightly for
//! the sake of one module.

#![no_main]

#[path = "../../crates/xws-redis/src/seal.rs"]
mod seal;

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use seal::{EnvelopeSeal, Refusal};

const CURRENT: &[u8] = b"fuzzing secret number one.......";
const PREVIOUS: &[u8] = b"fuzzing secret number two.......";

fuzz_target!(|data: &[u8]| {
    let Some((&choice, rest)) = data.split_first() else {
        return;
    };
    let seal = match choice % 3 {
        0 => EnvelopeSeal::new("xws", CURRENT, &[]),
        1 => EnvelopeSeal::new("xws", CURRENT, &[PREVIOUS]),
        _ => EnvelopeSeal::new("other", PREVIOUS, &[]),
    };
    let input = Bytes::copy_from_slice(rest);
    match seal.open(&input) {
        Ok(envelope) => {
            // Only a seal made with a secret the node holds opens; with the
            // current one, sealing again gives the same bytes.
            let resealed = seal.seal(&envelope);
            if resealed != input {
                let previous = EnvelopeSeal::new("xws", PREVIOUS, &[]);
                assert_eq!(previous.seal(&envelope), input, "opened a seal nobody made");
            }
        }
        Err(Refusal::Unsealed) => assert!(rest.len() < 36 || !rest.starts_with(b"XWSH")),
        Err(Refusal::Forged) => {}
    }
    // Sealing anything opens back to it.
    assert_eq!(seal.open(&seal.seal(rest)).unwrap(), rest);
});
