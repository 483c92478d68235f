//! The permessage-deflate offer and answer (RFC 7692 §5, §7.1).

use http::{HeaderMap, HeaderValue, header::SEC_WEBSOCKET_EXTENSIONS};

const EXTENSION: &str = "permessage-deflate";

/// What one connection agreed to. Both sides compress every message on its
/// own (no context takeover), so only the server's window size varies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Negotiated {
    /// `server_max_window_bits`: the largest window the client can inflate
    /// (15, 32 KiB, unless it asked for less).
    pub(crate) server_window_bits: u8,
    /// Whether the offer named `server_max_window_bits`, which the answer
    /// then repeats.
    window_requested: bool,
}

impl Negotiated {
    /// The `Sec-WebSocket-Extensions` answer.
    pub(crate) fn response(&self) -> HeaderValue {
        let mut answer =
            format!("{EXTENSION}; server_no_context_takeover; client_no_context_takeover");
        if self.window_requested {
            answer.push_str(&format!(
                "; server_max_window_bits={}",
                self.server_window_bits
            ));
        }
        HeaderValue::from_str(&answer).expect("the answer is ASCII")
    }
}

/// The first permessage-deflate offer in `headers` this server can accept,
/// in the client's order of preference; offers with unknown, repeated or
/// invalid parameters are declined, as §7.1 asks.
pub(crate) fn negotiate(headers: &HeaderMap) -> Option<Negotiated> {
    headers
        .get_all(SEC_WEBSOCKET_EXTENSIONS)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .find_map(accept)
}

/// One offer (`permessage-deflate; param; param=value`), if acceptable.
fn accept(offer: &str) -> Option<Negotiated> {
    let mut parts = offer.split(';').map(str::trim);
    if !parts.next()?.eq_ignore_ascii_case(EXTENSION) {
        return None;
    }
    let mut seen: Vec<&str> = Vec::new();
    let mut negotiated = Negotiated {
        server_window_bits: 15,
        window_requested: false,
    };
    for param in parts {
        let (name, value) = match param.split_once('=') {
            Some((name, value)) => (name.trim(), Some(value.trim().trim_matches('"'))),
            None => (param, None),
        };
        if seen.contains(&name) {
            return None;
        }
        seen.push(name);
        match (name, value) {
            ("server_no_context_takeover" | "client_no_context_takeover", None) => {}
            ("server_max_window_bits", Some(bits)) => {
                negotiated.server_window_bits = window_bits(bits)?;
                negotiated.window_requested = true;
            }
            // The client's window does not matter: its messages are
            // inflated with the largest one.
            ("client_max_window_bits", None) => {}
            ("client_max_window_bits", Some(bits)) => {
                window_bits(bits)?;
            }
            _ => return None,
        }
    }
    Some(negotiated)
}

/// A window size parameter: 8 to 15, without leading zeros or signs.
fn window_bits(value: &str) -> Option<u8> {
    let bits: u8 = value.parse().ok()?;
    ((8..=15).contains(&bits) && !value.starts_with(['0', '+'])).then_some(bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offers(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(SEC_WEBSOCKET_EXTENSIONS, value.parse().unwrap());
        }
        headers
    }

    fn answer(values: &[&str]) -> Option<String> {
        negotiate(&offers(values)).map(|n| n.response().to_str().unwrap().to_owned())
    }

    #[test]
    fn answers_with_no_context_takeover_both_ways() {
        // What Chromium offers.
        assert_eq!(
            answer(&["permessage-deflate; client_max_window_bits"]).as_deref(),
            Some("permessage-deflate; server_no_context_takeover; client_no_context_takeover")
        );
        assert_eq!(
            answer(&[
                "x-webkit-deflate-frame",
                "permessage-deflate; server_max_window_bits=\"10\""
            ])
            .as_deref(),
            Some(
                "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10"
            )
        );
        assert_eq!(answer(&[]), None);
        assert_eq!(answer(&["x-webkit-deflate-frame"]), None);
    }

    #[test]
    fn declines_invalid_offers_and_takes_the_next() {
        for invalid in [
            "permessage-deflate; server_max_window_bits",
            "permessage-deflate; server_max_window_bits=16",
            "permessage-deflate; server_max_window_bits=09",
            "permessage-deflate; client_max_window_bits=7",
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            "permessage-deflate; server_no_context_takeover=1",
            "permessage-deflate; unknown",
        ] {
            assert_eq!(negotiate(&offers(&[invalid])), None, "{invalid}");
        }
        let negotiated = negotiate(&offers(&[
            "permessage-deflate; server_max_window_bits=99, permessage-deflate; server_max_window_bits=9",
        ]))
        .unwrap();
        assert_eq!(negotiated.server_window_bits, 9);
    }
}
