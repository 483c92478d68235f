//! UTF-8 checked as a text message arrives, so an invalid byte fails the
//! connection (1007) at the fragment that holds it, not at the message's
//! end. std's validator is enough: `Utf8Error::error_len` tells an invalid
//! sequence (`Some`) from a code point cut off by the fragment's end
//! (`None`), which the next fragment may complete.

use super::ProtocolError;

/// How far into a text message the bytes are known to be valid.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Utf8Progress {
    valid_up_to: usize,
}

impl Utf8Progress {
    /// Checks what arrived of `message` since the last call; `complete`
    /// when the message ends here (a cut-off code point is then invalid).
    pub(crate) fn check(&mut self, message: &[u8], complete: bool) -> Result<(), ProtocolError> {
        match std::str::from_utf8(&message[self.valid_up_to..]) {
            Ok(_) => {
                self.valid_up_to = message.len();
                Ok(())
            }
            Err(error) if error.error_len().is_none() && !complete => {
                self.valid_up_to += error.valid_up_to();
                Ok(())
            }
            Err(_) => Err(ProtocolError::invalid_utf8()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_point_split_across_fragments_passes() {
        let text = "κόσμε €".as_bytes();
        for split in 0..text.len() {
            let mut progress = Utf8Progress::default();
            progress.check(&text[..split], false).unwrap();
            progress.check(text, true).unwrap();
        }
    }

    #[test]
    fn an_invalid_byte_fails_at_its_fragment_and_a_cut_end_at_the_last() {
        let mut progress = Utf8Progress::default();
        progress.check(b"hello ", false).unwrap();
        // 0xff is never UTF-8: the message need not end to know.
        assert!(progress.check(b"hello \xffworld", false).is_err());
        let mut progress = Utf8Progress::default();
        // The first byte of a 3-byte sequence: fine until the message ends.
        progress.check(b"ab\xe2", false).unwrap();
        assert!(progress.check(b"ab\xe2", true).is_err());
    }
}
