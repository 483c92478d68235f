//! permessage-deflate (RFC 7692), when [`Config::permessage_deflate`] is on.
//!
//! Compression is done here over `flate2` (zlib-rs backend: pure Rust, and
//! the only `flate2` backend without C that takes window bits):
//!
//! - Outgoing messages are compressed into ready frames. The server always
//!   answers `server_no_context_takeover`, so every message is compressed on
//!   its own by a compressor per thread, and a publication is compressed
//!   **once** per window size and the same frame (`Bytes`) is queued for
//!   every subscriber that negotiated that size (the way uWebSockets'
//!   shared compressor works). No connection holds a compressor.
//! - Incoming compressed messages are inflated whole at their end by
//!   [`crate::wire::inflate`] (the server's decoder calls it; [`Inflating`]
//!   does the same under tungstenite for the bench's clients). The server also
//!   answers `client_no_context_takeover` (RFC 7692 §7.1.1.2 lets it, even
//!   when not offered), so the inflater is per thread too and no
//!   connection keeps a 32 KiB window.
//!
//! [`Config::permessage_deflate`]: crate::Config::permessage_deflate

mod inflate;
mod negotiate;

use bytes::Bytes;
use flate2::{Compress, Compression, FlushCompress};
use std::cell::RefCell;
use xws::Message;

use crate::wire::{ServerFrame, inflate::SYNC_TAIL};
pub use inflate::{Inflating, Side};
pub(crate) use negotiate::{Negotiated, negotiate};

/// Payloads shorter than this go out uncompressed (RFC 7692 allows it per
/// message): the deflate block costs more than it saves.
const MIN_COMPRESSED_SIZE: usize = 32;
/// zlib level 2: CPU per delivery matters more than the last bytes, and
/// zlib-rs 0.6.8's level 1 (`deflate_quick`) panics on some incompressible
/// input (`buf.len() must fit in remaining()`, found by Autobahn 12.2.*).
const LEVEL: u32 = 2;
/// zlib's smallest window (2^9 bytes); a client asking for 2^8 gets
/// uncompressed messages, which it must accept.
const MIN_WINDOW_BITS: u8 = 9;

thread_local! {
    /// One compressor per window size (9..=15), reset after every message.
    static COMPRESSORS: RefCell<[Option<Compress>; 7]> = const { RefCell::new([const { None }; 7]) };
}

/// `payload` deflated as one RFC 7692 message with a window of
/// 2^`window_bits` bytes, or `None` when sending it plain is as good
/// (short, incompressible, or a window zlib cannot make).
pub(crate) fn compress(payload: &[u8], window_bits: u8) -> Option<Bytes> {
    if payload.len() < MIN_COMPRESSED_SIZE || window_bits < MIN_WINDOW_BITS {
        return None;
    }
    let slot = usize::from(window_bits.min(15) - MIN_WINDOW_BITS);
    COMPRESSORS.with_borrow_mut(|compressors| {
        let compressor = compressors[slot].get_or_insert_with(|| {
            Compress::new_with_window_bits(Compression::new(LEVEL), false, window_bits.min(15))
        });
        // Room for the worst case (stored blocks), so one call completes:
        // zlib-rs 0.6.8's level 1 panics when output room runs short.
        let mut out = Vec::with_capacity(payload.len() + payload.len() / 8 + 64);
        let result = compressor.compress_vec(payload, &mut out, FlushCompress::Sync);
        let consumed = compressor.total_in() as usize;
        compressor.reset();
        let complete = result.is_ok() && consumed == payload.len() && out.len() < out.capacity();
        // What does not shrink goes plain.
        if !complete || !out.ends_with(&SYNC_TAIL) || out.len() - SYNC_TAIL.len() >= payload.len() {
            return None;
        }
        out.truncate(out.len() - SYNC_TAIL.len());
        xws::metrics::deflated(out.len());
        Some(Bytes::from(out))
    })
}

/// `message` as the frame a client that negotiated `window_bits` gets:
/// compressed (RSV1 set) when that pays, plain otherwise.
pub(crate) fn frame_for(message: &Message, window_bits: u8) -> ServerFrame {
    match compress(message.bytes(), window_bits) {
        Some(compressed) => ServerFrame::compressed(message, compressed),
        None => ServerFrame::message(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{Decompress, FlushDecompress};

    fn inflate(compressed: &[u8]) -> Vec<u8> {
        let mut input = compressed.to_vec();
        input.extend_from_slice(&SYNC_TAIL);
        let mut out = Vec::with_capacity(1 << 20);
        Decompress::new(false)
            .decompress_vec(&input, &mut out, FlushDecompress::Sync)
            .unwrap();
        out
    }

    #[test]
    fn compresses_each_message_on_its_own_without_the_sync_tail() {
        let text = "the same sentence, again and again. ".repeat(40);
        for window_bits in 9..=15 {
            let first = compress(text.as_bytes(), window_bits).unwrap();
            // No context taken over: the second message is the first again.
            let second = compress(text.as_bytes(), window_bits).unwrap();
            assert_eq!(first, second);
            assert!(first.len() < text.len() / 4);
            assert!(!first.ends_with(&SYNC_TAIL));
            assert_eq!(inflate(&first), text.as_bytes());
        }
    }

    /// Bytes deflate cannot shrink, with runs it can in between.
    fn image_like(len: usize, seed: u64) -> Vec<u8> {
        let mut state = seed | 1;
        (0..len)
            .map(|i| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                if (i / 64) % 3 == 0 {
                    0x80
                } else {
                    (state >> 24) as u8
                }
            })
            .collect()
    }

    #[test]
    fn half_compressible_messages_of_every_size_round_trip() {
        // (Autobahn 12.2.*, on an image, is what caught zlib-rs 0.6.8's
        // level 1 panicking; this data does not, but checks the bounds.)
        for (seed, len) in [256, 1024, 4096, 8192, 65536].into_iter().enumerate() {
            for round in 0..50 {
                let data = image_like(len, (seed * 100 + round) as u64);
                if let Some(compressed) = compress(&data, 15) {
                    assert_eq!(inflate(&compressed), data);
                }
            }
        }
    }

    #[test]
    fn short_incompressible_or_tiny_window_messages_stay_plain() {
        assert_eq!(compress(b"hello", 15), None);
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let noise: Vec<u8> = (0..4096)
            .map(|_| {
                // xorshift64: bytes deflate cannot shrink.
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 24) as u8
            })
            .collect();
        assert_eq!(compress(&noise, 15), None);
        assert_eq!(compress(&[b'a'; 1000], 8), None);
        let frame = frame_for(&Message::from("a".repeat(100)), 15);
        assert!(frame.is_compressed());
        assert_eq!(inflate(frame.payload()), "a".repeat(100).as_bytes());
    }
}
