//! Envelopes arrive from a broker (Redis) that anyone on the network may
//! write to: decoding arbitrary bytes never panics, and what decodes
//! encodes back to the same envelope.

#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use xws::adapter::Envelope;

fuzz_target!(|data: &[u8]| {
    if let Ok(envelope) = Envelope::decode(Bytes::copy_from_slice(data)) {
        let again = Envelope::decode(envelope.encode()).expect("an encoded envelope decodes");
        assert_eq!(again, envelope);
    }
});
