//! The frame header (RFC 6455 §5.2): parsed from a client's bytes, built
//! on the stack for the server's frames.

use super::ProtocolError;

pub(crate) const FIN: u8 = 0x80;
pub(crate) const RSV1: u8 = 0x40;
const RSV2_RSV3: u8 = 0x30;
const MASKED: u8 = 0x80;
/// The longest header a client sends: 2 bytes, a 64-bit length, the mask.
pub(crate) const MAX_CLIENT_HEADER: usize = 14;
/// The longest header the server sends: 2 bytes and a 64-bit length.
pub(crate) const MAX_SERVER_HEADER: usize = 10;
/// The longest payload of a control frame (RFC 6455 §5.5).
pub(crate) const MAX_CONTROL_PAYLOAD: u64 = 125;

/// A frame's opcode; the reserved ones are refused while parsing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OpCode {
    Continuation,
    Text,
    Binary,
    Close,
    Ping,
    Pong,
}

impl OpCode {
    fn from_bits(bits: u8) -> Option<Self> {
        Some(match bits {
            0x0 => Self::Continuation,
            0x1 => Self::Text,
            0x2 => Self::Binary,
            0x8 => Self::Close,
            0x9 => Self::Ping,
            0xA => Self::Pong,
            _ => return None,
        })
    }

    pub(crate) const fn bits(self) -> u8 {
        match self {
            Self::Continuation => 0x0,
            Self::Text => 0x1,
            Self::Binary => 0x2,
            Self::Close => 0x8,
            Self::Ping => 0x9,
            Self::Pong => 0xA,
        }
    }

    pub(crate) const fn is_control(self) -> bool {
        matches!(self, Self::Close | Self::Ping | Self::Pong)
    }
}

/// A client frame's header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FrameHeader {
    pub(crate) fin: bool,
    /// permessage-deflate's "compressed" bit.
    pub(crate) rsv1: bool,
    pub(crate) opcode: OpCode,
    pub(crate) mask: [u8; 4],
    pub(crate) payload_len: u64,
}

/// Parses the client frame header at the start of `bytes`: `None` while
/// it is incomplete, else the header and its length on the wire. Refuses
/// (1002) what the header alone shows wrong: an unmasked frame, RSV2/RSV3,
/// RSV1 unless `compression` was negotiated (and never on a continuation
/// or control frame), reserved opcodes, fragmented or long control frames.
pub(crate) fn parse(
    bytes: &[u8],
    compression: bool,
) -> Result<Option<(FrameHeader, usize)>, ProtocolError> {
    let [first, second, rest @ ..] = bytes else {
        return Ok(None);
    };
    // What the first two bytes tell is checked before the rest arrives.
    let opcode =
        OpCode::from_bits(first & 0x0f).ok_or(ProtocolError::protocol("reserved opcode"))?;
    let (fin, rsv1) = (first & FIN != 0, first & RSV1 != 0);
    if second & MASKED == 0 {
        return Err(ProtocolError::protocol("client frames must be masked"));
    }
    if first & RSV2_RSV3 != 0 {
        return Err(ProtocolError::protocol("reserved bits set"));
    }
    if rsv1 && (!compression || opcode == OpCode::Continuation || opcode.is_control()) {
        return Err(ProtocolError::protocol(
            "RSV1 set where no compression applies",
        ));
    }
    let (length_bytes, short_len) = match second & 0x7f {
        126 => (2, None),
        127 => (8, None),
        short => (0, Some(u64::from(short))),
    };
    if opcode.is_control() && (!fin || short_len.is_none_or(|len| len > MAX_CONTROL_PAYLOAD)) {
        return Err(ProtocolError::protocol(
            "control frames are short and not fragmented",
        ));
    }
    let header_len = 2 + length_bytes + 4;
    if bytes.len() < header_len {
        return Ok(None);
    }
    let payload_len = match short_len {
        Some(len) => len,
        None => {
            let mut be = [0; 8];
            be[8 - length_bytes..].copy_from_slice(&rest[..length_bytes]);
            u64::from_be_bytes(be)
        }
    };
    if payload_len >> 63 != 0 {
        return Err(ProtocolError::protocol(
            "64-bit length with its top bit set",
        ));
    }
    let header = FrameHeader {
        fin,
        rsv1,
        opcode,
        mask: rest[length_bytes..length_bytes + 4]
            .try_into()
            .expect("four mask bytes"),
        payload_len,
    };
    Ok(Some((header, header_len)))
}

/// A server frame's header, built on the stack: at most 10 bytes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct EncodedHeader {
    bytes: [u8; MAX_SERVER_HEADER],
    len: u8,
}

impl EncodedHeader {
    /// The header of an unmasked, final frame whose first byte is `first`
    /// (opcode and RSV1) and whose payload is `payload_len` bytes.
    pub(crate) fn new(first: u8, payload_len: usize) -> Self {
        let mut bytes = [0; MAX_SERVER_HEADER];
        bytes[0] = first;
        let len = match payload_len {
            0..=125 => {
                bytes[1] = payload_len as u8;
                2
            }
            126..=0xffff => {
                bytes[1] = 126;
                bytes[2..4].copy_from_slice(&(payload_len as u16).to_be_bytes());
                4
            }
            _ => {
                bytes[1] = 127;
                bytes[2..10].copy_from_slice(&(payload_len as u64).to_be_bytes());
                10
            }
        };
        Self { bytes, len }
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}
