//! Issuing tokens: for demo login routes and tests. In production an
//! identity provider or the application's own login issues them.

use jsonwebtoken::{Algorithm, EncodingKey, Header};

use crate::{Claims, KeyError};

/// Signs [`Claims`] into a compact JWT.
///
/// ```
/// use xws_auth::{Claims, Issuer, Verifier, now_seconds};
///
/// let secret = b"a secret of at least 32 bytes....";
/// let token = Issuer::hs256(secret).issue(&Claims::new("ada", now_seconds() + 60)).unwrap();
/// assert_eq!(Verifier::hs256(secret).verify(&token).unwrap().sub, "ada");
/// ```
#[derive(Clone)]
pub struct Issuer {
    header: Header,
    key: EncodingKey,
}

impl std::fmt::Debug for Issuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issuer")
            .field("alg", &self.header.alg)
            .finish_non_exhaustive()
    }
}

impl Issuer {
    /// Signs with HMAC-SHA256 and the shared `secret`.
    pub fn hs256(secret: &[u8]) -> Self {
        Self {
            header: Header::new(Algorithm::HS256),
            key: EncodingKey::from_secret(secret)
                .unwrap_or_else(|_| unreachable!("any bytes are an HMAC key")),
        }
    }

    /// Signs with RS256 and this PEM private key (PKCS#1 or PKCS#8).
    pub fn rs256_pem(private_key_pem: &[u8]) -> Result<Self, KeyError> {
        Ok(Self {
            header: Header::new(Algorithm::RS256),
            key: EncodingKey::from_rsa_pem(private_key_pem)?,
        })
    }

    /// Signs with ES256 and this PEM private key (PKCS#8, P-256).
    pub fn es256_pem(private_key_pem: &[u8]) -> Result<Self, KeyError> {
        Ok(Self {
            header: Header::new(Algorithm::ES256),
            key: EncodingKey::from_ec_pem(private_key_pem)?,
        })
    }

    /// Names the key in the token's `kid` header (to pick it from a JWKS).
    pub fn key_id(mut self, kid: impl Into<String>) -> Self {
        self.header.kid = Some(kid.into());
        self
    }

    /// A signed token carrying `claims`. On wasm32 HS256 only (RS256 and
    /// ES256 signing would bring back the RustCrypto code a Worker leaves
    /// to WebCrypto).
    pub fn issue(&self, claims: &Claims) -> Result<String, KeyError> {
        crate::crypto_provider::install();
        Ok(jsonwebtoken::encode(&self.header, claims, &self.key)?)
    }
}
