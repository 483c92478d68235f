//! xws-tokio's WebSocket decoder, the first code to read a client's bytes:
//! any bytes, cut into reads anywhere, decode without a panic into the
//! same events and the same error as when they arrive in one read; the
//! events are the client's frames read plainly (unmasked, messages put
//! together); no message is over the size limit; decoding ends at the first
//! error, a close code the decoder may send (1002, 1007, 1009).
//!
//! The input: a flags byte (bit 0: permessage-deflate negotiated; bit 1: no
//! size limit), the size limit (u16, little endian), a count `n` and `n`
//! read lengths (used in turn; 0 is an empty read), then the client's bytes.
//!
//! xws-tokio's `wire/` module is compiled into this target from its source
//! files: depending on xws-tokio would build hyper and axum under nightly.

#![no_main]

// Only the decoder is fuzzed: the server's frames (`encoder`) go unused.
#[allow(dead_code, unused_imports)]
#[path = "../../crates/xws-tokio/src/wire/mod.rs"]
mod wire;

use libfuzzer_sys::fuzz_target;
use wire::{Decoded, Decoder, Incoming, ProtocolError, decoder::PAUSE_AT};
use xws::CloseCode;

/// What the decoder made of a client's bytes.
#[derive(Debug, PartialEq)]
struct Outcome {
    events: Vec<Incoming>,
    /// The error decoding stopped at.
    error: Option<ProtocolError>,
    /// Continuation and control frames handed to the rate limit.
    charged: u32,
}

/// Feeds `reads` to `decoder` one after the other, each until the decoder
/// needs more, as the connection does; stops at the first error.
fn feed<'a>(mut decoder: Decoder, reads: impl IntoIterator<Item = &'a [u8]>) -> Outcome {
    let mut outcome = Outcome {
        events: Vec::new(),
        error: None,
        charged: 0,
    };
    'reads: for read in reads {
        let mut input = read;
        loop {
            match decoder.decode(&mut input) {
                Ok(Decoded::Incoming(incoming)) => outcome.events.push(incoming),
                Ok(Decoded::NeedMore) => {
                    // The connection reads again on NeedMore: bytes left
                    // here would wait behind the next read's.
                    assert!(input.is_empty(), "NeedMore with {} bytes left", input.len());
                    break;
                }
                Ok(Decoded::ChargeFrames) => {
                    assert_eq!(decoder.take_uncharged(), PAUSE_AT);
                    outcome.charged += PAUSE_AT;
                }
                Err(error) => {
                    outcome.error = Some(error);
                    break 'reads;
                }
            }
        }
    }
    outcome.charged += decoder.take_uncharged();
    outcome
}

/// A complete frame's worth of what the client sent, without any check.
#[derive(Debug)]
enum Plain {
    Message {
        text: bool,
        compressed: bool,
        payload: Vec<u8>,
    },
    Ping(Vec<u8>),
    Pong,
    Close(Vec<u8>),
}

/// The client's bytes read the simplest way: whole frames unmasked by the
/// bytewise rule, data frames joined at FIN, no check. Reading on past what
/// the decoder refuses is harmless: only the events before its error are
/// compared.
struct ReadPlainly {
    /// A complete frame's worth each.
    frames: Vec<Plain>,
    /// The data message still arriving: its first frame's first byte, and
    /// what arrived of its payload (a frame's part included).
    pending: Option<(u8, Vec<u8>)>,
}

fn read_plainly(mut bytes: &[u8]) -> ReadPlainly {
    let mut frames = Vec::new();
    let mut message: Option<(u8, Vec<u8>)> = None;
    while let [first, second, rest @ ..] = bytes {
        let (len, rest) = match second & 0x7f {
            126 if rest.len() >= 2 => (
                u64::from(u16::from_be_bytes([rest[0], rest[1]])),
                &rest[2..],
            ),
            127 if rest.len() >= 8 => (
                u64::from_be_bytes(rest[..8].try_into().expect("8 bytes")),
                &rest[8..],
            ),
            126 | 127 => break,
            short => (u64::from(short), rest),
        };
        let (mask, rest) = if second & 0x80 != 0 {
            let Some((mask, rest)) = rest.split_first_chunk::<4>() else {
                break;
            };
            (*mask, rest)
        } else {
            ([0; 4], rest)
        };
        let whole = usize::try_from(len).ok().and_then(|len| rest.get(..len));
        let payload = whole.unwrap_or(rest);
        bytes = &rest[payload.len()..];
        let payload: Vec<u8> = payload
            .iter()
            .enumerate()
            .map(|(i, byte)| byte ^ mask[i % 4])
            .collect();
        match first & 0x0f {
            0x1 | 0x2 => message = Some((*first, payload)),
            0x0 => {
                if let Some((_, so_far)) = &mut message {
                    so_far.extend(payload);
                }
            }
            _ if whole.is_none() => {}
            0x8 => frames.push(Plain::Close(payload)),
            0x9 => frames.push(Plain::Ping(payload)),
            0xA => frames.push(Plain::Pong),
            _ => {}
        }
        if whole.is_none() {
            break;
        }
        let data = matches!(first & 0x0f, 0x0..=0x2);
        if data && first & 0x80 != 0 {
            if let Some((opening, payload)) = message.take() {
                frames.push(Plain::Message {
                    text: opening & 0x0f == 0x1,
                    compressed: opening & 0x40 != 0,
                    payload,
                });
            }
        }
    }
    ReadPlainly {
        frames,
        pending: message,
    }
}

/// Whether the decoder's `event` is what the client sent as `plain`.
fn agrees(event: &Incoming, plain: &Plain) -> bool {
    match (event, plain) {
        (
            Incoming::Message(message),
            Plain::Message {
                text,
                compressed,
                payload,
            },
        ) => message.is_text() == *text && (*compressed || message.bytes()[..] == payload[..]),
        (Incoming::Ping(got), Plain::Ping(sent)) => got[..] == sent[..],
        (Incoming::Pong, Plain::Pong) => true,
        (Incoming::Close(close), Plain::Close(sent)) => match sent.split_first_chunk::<2>() {
            None => !close.has_code && close.frame.code == CloseCode::NO_STATUS,
            Some((code, reason)) => {
                close.has_code
                    && close.frame.code.as_u16() == u16::from_be_bytes(*code)
                    && close.frame.reason.as_bytes() == reason
            }
        },
        _ => false,
    }
}

fuzz_target!(|data: &[u8]| {
    let [flags, limit_low, limit_high, count, rest @ ..] = data else {
        return;
    };
    let deflate = flags & 1 != 0;
    let limit = if flags & 2 != 0 {
        usize::MAX // A server that set no limit.
    } else {
        usize::from(u16::from_le_bytes([*limit_low, *limit_high]))
    };
    let (lengths, client) = rest.split_at(usize::from(*count).min(rest.len()));

    let whole = feed(Decoder::new(deflate, limit), [client]);

    // The same bytes in reads of the given lengths, in turn.
    let mut reads = Vec::new();
    let mut left = client;
    if lengths.iter().any(|&len| len > 0) {
        for &len in lengths.iter().cycle() {
            if left.is_empty() {
                break;
            }
            let (read, rest) = left.split_at(usize::from(len).min(left.len()));
            reads.push(read);
            left = rest;
        }
    }
    reads.push(left);
    let split = feed(Decoder::new(deflate, limit), reads);
    assert_eq!(whole, split, "the reads changed what the bytes decode to");

    if let Some(error) = &whole.error {
        let code = error.code.as_u16();
        assert!(matches!(code, 1002 | 1007 | 1009), "closing with {code}");
    }
    let ReadPlainly {
        frames: plain,
        pending,
    } = read_plainly(client);
    if whole.error.is_none() {
        assert_eq!(whole.events.len(), plain.len(), "frames lost or made up");
        if let Some((opening, so_far)) = pending {
            // Checked as it arrives: an invalid sequence fails before the
            // message ends (a code point cut off at the end may go on).
            if opening & 0x4f == 0x1 {
                let invalid = std::str::from_utf8(&so_far).is_err_and(|e| e.error_len().is_some());
                assert!(!invalid, "invalid text let through until its end");
            }
            assert!(
                so_far.len() <= limit,
                "an unfinished message over the limit"
            );
        }
    }
    for (i, (event, plain)) in whole.events.iter().zip(&plain).enumerate() {
        assert!(
            agrees(event, plain),
            "event {i} is {event:?}, the client sent {plain:?}"
        );
        match (event, plain) {
            (
                Incoming::Message(message),
                Plain::Message {
                    compressed,
                    payload,
                    ..
                },
            ) => {
                assert!(
                    message.len() <= limit,
                    "{} bytes over a limit of {limit}",
                    message.len()
                );
                // The client's own bytes, not only the `Text` made of them.
                if message.is_text() && !compressed {
                    assert!(
                        std::str::from_utf8(payload).is_ok(),
                        "text that is not UTF-8"
                    );
                }
            }
            (Incoming::Ping(payload), _) => assert!(payload.len() <= 125),
            (Incoming::Close(close), _) => {
                assert!(close.frame.code.is_sendable() || !close.has_code);
            }
            _ => {}
        }
    }
    assert!(whole.events.len() <= plain.len(), "more events than frames");
});
