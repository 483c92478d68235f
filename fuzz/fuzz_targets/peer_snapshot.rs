//! A peer's stored state (a Cloudflare attachment, a DynamoDB item) is read
//! back from storage: arbitrary JSON never panics, and a snapshot that
//! decodes stores and loads again unchanged.

#![no_main]

use chat::ChatContext;
use libfuzzer_sys::fuzz_target;
use xws::adapter::PeerSnapshot;

fuzz_target!(|data: &[u8]| {
    if let Ok(snapshot) = serde_json::from_slice::<PeerSnapshot<ChatContext>>(data) {
        let stored = serde_json::to_vec(&snapshot).expect("a snapshot serializes");
        let loaded: PeerSnapshot<ChatContext> =
            serde_json::from_slice(&stored).expect("a stored snapshot loads");
        assert_eq!(loaded, snapshot);
    }
});
