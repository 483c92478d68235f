//! Envelopes sealed with HMAC-SHA256, so that only the nodes holding the
//! shared secret can deliver through the channel.
//!
//! Anyone who can `PUBLISH` to the Redis channel could otherwise deliver to
//! any topic, broadcast, or address any peer. A sealed envelope is
//! `XWSH`, then the 32-byte HMAC-SHA256 tag, then the envelope; the tag
//! covers the channel name and the envelope, so a node refuses what was
//! not sealed with a secret it holds, for its channel.

use bytes::{BufMut, Bytes, BytesMut};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt;

type HmacSha256 = Hmac<Sha256>;

/// The header of a sealed envelope.
const MAGIC: &[u8; 4] = b"XWSH";
/// Length of an HMAC-SHA256 tag.
const TAG_LEN: usize = 32;
/// What sealing adds to an envelope, in bytes.
pub(crate) const OVERHEAD: usize = MAGIC.len() + TAG_LEN;
/// The shortest secret accepted: 16 bytes (128 bits); 32 random bytes are
/// recommended (`openssl rand -hex 32`).
pub const MIN_SECRET_LEN: usize = 16;

/// Why a message on the channel was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// It does not carry a seal at all.
    #[error("not a sealed envelope")]
    Unsealed,
    /// Its seal was made with a secret this node does not hold, or it was
    /// changed after sealing.
    #[error("the seal does not match any secret of this node")]
    Forged,
}

impl Refusal {
    /// A short description, for logs.
    pub fn as_str(&self) -> &'static str {
        match self {
            Refusal::Unsealed => "a message without a seal",
            Refusal::Forged => "a message whose seal does not match",
        }
    }
}

/// Seals and opens the envelopes of one channel: seals with the current
/// secret, opens what the current or an accepted secret sealed (during a
/// rotation).
///
/// ```
/// use xws_redis::EnvelopeSeal;
/// let seal = EnvelopeSeal::new("chat", b"0123456789abcdef0123456789abcdef", &[]);
/// let sealed = seal.seal(b"an encoded envelope");
/// assert_eq!(&seal.open(&sealed).unwrap()[..], b"an encoded envelope");
///
/// let stranger = EnvelopeSeal::new("chat", b"another secret of 32 bytes......", &[]);
/// assert!(stranger.open(&sealed).is_err());
/// ```
#[derive(Clone)]
pub struct EnvelopeSeal {
    /// Keyed with the current secret, fed the channel: cloned per envelope.
    sealing: HmacSha256,
    /// The same for every secret that opens envelopes, current first.
    opening: Vec<HmacSha256>,
}

impl fmt::Debug for EnvelopeSeal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnvelopeSeal")
            .field("secrets", &self.opening.len())
            .finish_non_exhaustive()
    }
}

/// An HMAC keyed with `secret` that has absorbed `channel`, length first.
fn keyed(secret: &[u8], channel: &str) -> HmacSha256 {
    // HMAC accepts keys of any length.
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(&(channel.len() as u64).to_be_bytes());
    mac.update(channel.as_bytes());
    mac
}

impl EnvelopeSeal {
    /// Seals with `secret` for `channel`, and also opens what one of the
    /// `accepted` secrets sealed.
    pub fn new(channel: &str, secret: &[u8], accepted: &[&[u8]]) -> Self {
        let sealing = keyed(secret, channel);
        let mut opening = vec![sealing.clone()];
        opening.extend(accepted.iter().map(|other| keyed(other, channel)));
        Self { sealing, opening }
    }

    /// `XWSH`, the tag, then `envelope`.
    pub fn seal(&self, envelope: &[u8]) -> Bytes {
        let mut mac = self.sealing.clone();
        mac.update(envelope);
        let tag = mac.finalize().into_bytes();
        let mut sealed = BytesMut::with_capacity(MAGIC.len() + TAG_LEN + envelope.len());
        sealed.put_slice(MAGIC);
        sealed.put_slice(&tag);
        sealed.put_slice(envelope);
        sealed.freeze()
    }

    /// The envelope inside `sealed`, if a secret of this node sealed it for
    /// this channel (compared in constant time).
    pub fn open(&self, sealed: &Bytes) -> Result<Bytes, Refusal> {
        if sealed.len() < MAGIC.len() + TAG_LEN || &sealed[..MAGIC.len()] != MAGIC {
            return Err(Refusal::Unsealed);
        }
        let tag = &sealed[MAGIC.len()..MAGIC.len() + TAG_LEN];
        let envelope = sealed.slice(MAGIC.len() + TAG_LEN..);
        let genuine = self.opening.iter().any(|mac| {
            let mut mac = mac.clone();
            mac.update(&envelope);
            mac.verify_slice(tag).is_ok()
        });
        if genuine {
            Ok(envelope)
        } else {
            Err(Refusal::Forged)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CURRENT: &[u8] = b"current secret, thirty-two bytes";
    const PREVIOUS: &[u8] = b"previous secret, also 32 bytes..";

    #[test]
    fn opens_its_own_seal_and_refuses_changes_strangers_and_other_channels() {
        let seal = EnvelopeSeal::new("chat", CURRENT, &[]);
        let sealed = seal.seal(b"envelope");
        assert_eq!(&seal.open(&sealed).unwrap()[..], b"envelope");

        let mut changed = sealed.to_vec();
        *changed.last_mut().unwrap() ^= 1;
        assert_eq!(seal.open(&Bytes::from(changed)), Err(Refusal::Forged));
        let other_channel = EnvelopeSeal::new("news", CURRENT, &[]);
        assert_eq!(other_channel.open(&sealed), Err(Refusal::Forged));
        let stranger = EnvelopeSeal::new("chat", PREVIOUS, &[]);
        assert_eq!(stranger.open(&sealed), Err(Refusal::Forged));
        assert_eq!(
            seal.open(&Bytes::from_static(b"XWS1....")),
            Err(Refusal::Unsealed)
        );
        assert_eq!(
            seal.open(&Bytes::from_static(b"XWSH")),
            Err(Refusal::Unsealed)
        );
    }

    #[test]
    fn a_rotation_opens_both_secrets_and_seals_with_the_current_one() {
        let old = EnvelopeSeal::new("chat", PREVIOUS, &[]);
        let rotating = EnvelopeSeal::new("chat", CURRENT, &[PREVIOUS]);
        assert!(rotating.open(&old.seal(b"from an old node")).is_ok());
        let sealed = rotating.seal(b"from a new node");
        assert_eq!(old.open(&sealed), Err(Refusal::Forged));
        assert!(
            EnvelopeSeal::new("chat", CURRENT, &[])
                .open(&sealed)
                .is_ok()
        );
    }
}
