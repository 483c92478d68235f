//! `POST /api/start-import?token=T`, validated the same way on every target.

use serde::Deserialize;

use crate::Import;

/// Records in an import when the body does not say.
pub const DEFAULT_TOTAL: u64 = 50;
/// The largest import a request may start.
pub const MAX_TOTAL: u64 = 10_000;
/// The largest `POST /api/start-import` body read (it is `{"total":N}`).
pub const BODY_LIMIT: usize = 4 * 1024;

/// The optional JSON body: `{"total":N}`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartImport {
    /// How many records to import.
    pub total: Option<u64>,
}

/// Why a start request was refused: 401 without a valid token, 413 for a
/// body over [`BODY_LIMIT`], else 400.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// No valid `?token=`.
    #[error(transparent)]
    User(#[from] per_user::UserError),
    /// A body that is not `{"total":N}`.
    #[error("expected an empty body or {{\"total\":N}}: {0}")]
    Body(#[from] serde_json::Error),
    /// A total of zero or over [`MAX_TOTAL`].
    #[error("total must be 1 to {MAX_TOTAL}, not {0}")]
    Total(u64),
    /// A request body over [`BODY_LIMIT`] bytes, not read.
    #[error("the request body is over {BODY_LIMIT} bytes")]
    TooLarge,
}

impl StartError {
    /// The HTTP status to answer with.
    pub fn status(&self) -> u16 {
        match self {
            StartError::User(error) => error.status().as_u16(),
            StartError::TooLarge => 413,
            _ => 400,
        }
    }

    /// The error body: `{"error":"…"}`.
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({ "error": self.to_string() })
    }
}

impl StartImport {
    /// The import a request starts: `token` is its `?token=` (the user is
    /// the token's, checked first), `body` its body. A route that reads the
    /// body itself calls [`per_user::user_from_token`] before it, then
    /// [`Self::for_user`].
    pub fn parse(token: Option<&str>, body: &[u8]) -> Result<Import, StartError> {
        let user = per_user::user_from_token(token)?;
        Self::for_user(user, body)
    }

    /// The import `user`'s request body starts.
    pub fn for_user(user: String, body: &[u8]) -> Result<Import, StartError> {
        if body.len() > BODY_LIMIT {
            return Err(StartError::TooLarge);
        }
        let request = if body.iter().all(u8::is_ascii_whitespace) {
            Self::default()
        } else {
            serde_json::from_slice(body)?
        };
        let total = request.total.unwrap_or(DEFAULT_TOTAL);
        if !(1..=MAX_TOTAL).contains(&total) {
            return Err(StartError::Total(total));
        }
        Ok(Import::new(user, total))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ada() -> String {
        per_user::login("ada").unwrap()
    }

    #[test]
    fn an_empty_body_starts_the_default_import() {
        let import = StartImport::parse(Some(&ada()), b"").unwrap();
        assert_eq!((import.user.as_str(), import.total), ("ada", DEFAULT_TOTAL));
    }

    #[test]
    fn bad_requests_are_refused_with_reasons() {
        assert!(matches!(
            StartImport::parse(None, b""),
            Err(StartError::User(_))
        ));
        assert!(matches!(
            StartImport::parse(Some(&ada()), b"{"),
            Err(StartError::Body(_))
        ));
        assert!(matches!(
            StartImport::parse(Some(&ada()), br#"{"total":0}"#),
            Err(StartError::Total(0))
        ));
        assert!(matches!(
            StartImport::parse(Some(&ada()), br#"{"records":5}"#),
            Err(StartError::Body(_))
        ));
        assert_eq!(
            StartImport::parse(Some(&ada()), br#"{"total":7}"#)
                .unwrap()
                .total,
            7
        );
    }
}
