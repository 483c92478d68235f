//! Compressed messages inflated (RFC 7692): the decoder inflates a message
//! whose first frame had RSV1 once the message is complete. Here rather
//! than in [`crate::deflate`] so the wire layer depends on nothing else in
//! the crate (the fuzz target compiles it from source alone).
//!
//! The server answers `client_no_context_takeover`, so every message
//! inflates on its own and the inflater is one per thread, not a 32 KiB
//! window per connection.

use flate2::{Decompress, FlushDecompress};
use std::cell::RefCell;

/// The empty stored block a sync flush ends with; RFC 7692 §7.2.1 has it
/// removed from every message and added back before inflating.
pub(crate) const SYNC_TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];
/// The most output room made ahead of the first inflate call; a message
/// that inflates to more grows it as it goes.
const FIRST_OUTPUT_ROOM: usize = 16 * 1024;

thread_local! {
    /// Raw inflate with the largest window, which inflates any smaller one;
    /// reset per message (clients agreed to no context takeover).
    static INFLATER: RefCell<Decompress> = RefCell::new(Decompress::new(false));
}

/// What a compressed message inflated to.
pub(crate) enum Inflated {
    Plain(Vec<u8>),
    TooLarge,
    Corrupt,
}

/// Inflates one compressed message (without its sync tail, RFC 7692
/// §7.2.2) into at most `limit` bytes, with the thread's inflater.
pub(crate) fn inflate_message(mut compressed: Vec<u8>, limit: usize) -> Inflated {
    compressed.extend_from_slice(&SYNC_TAIL);
    INFLATER.with_borrow_mut(|inflater| {
        inflater.reset(false);
        inflate_limited(inflater, &compressed, limit)
    })
}

/// Inflates `input` (tail included) into at most `limit` bytes.
fn inflate_limited(inflater: &mut Decompress, input: &[u8], limit: usize) -> Inflated {
    // Room for one byte over the limit tells a message too large; no limit
    // (`usize::MAX`) must not overflow (found by the `ws_decoder` fuzz target).
    let room_to_tell = limit.saturating_add(1);
    let mut out = Vec::with_capacity(
        (input.len() * 4)
            .clamp(64, FIRST_OUTPUT_ROOM)
            .min(room_to_tell),
    );
    let mut consumed = 0;
    loop {
        let (in_before, out_before) = (inflater.total_in(), out.len());
        let status = inflater.decompress_vec(&input[consumed..], &mut out, FlushDecompress::Sync);
        consumed += (inflater.total_in() - in_before) as usize;
        let status = match status {
            Ok(status) => status,
            Err(_) => return Inflated::Corrupt,
        };
        if out.len() > limit {
            return Inflated::TooLarge;
        }
        let finished = status == flate2::Status::StreamEnd
            || (consumed == input.len() && out.len() < out.capacity());
        if finished {
            return Inflated::Plain(out);
        }
        if out.len() == out.capacity() {
            let more = out.capacity().max(1024).min(room_to_tell - out.len());
            out.reserve(more.max(1));
        } else if consumed == input.len() || out.len() == out_before {
            // Nothing more comes out of what there is.
            return Inflated::Plain(out);
        }
    }
}
