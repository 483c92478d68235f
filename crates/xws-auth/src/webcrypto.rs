//! Signatures checked by the runtime's WebCrypto on wasm32 (a Worker).
//!
//! RustCrypto's RSA and P-256 (with their big-integer, DER and PKCS#8
//! crates) compiled to wasm were about 300 KB of a Worker's module; the
//! runtime verifies the same signatures natively. WebCrypto is
//! asynchronous and jsonwebtoken's crypto providers are not, so an RS256 or
//! ES256 check is split in two:
//!
//! 1. [`decode`] asks `crypto.subtle.verify` about the token's signature
//!    with the key and algorithm the [`Verifier`](crate::Verifier) chose,
//!    and records the answer for exactly that message, signature and key;
//! 2. it then calls `jsonwebtoken::decode` as the native build does, with
//!    [`PROVIDER`] installed, whose RS256/ES256 verifier answers what was
//!    recorded. So the header, algorithm and claims checks (`exp`, `nbf`,
//!    `aud`, `iss`, required claims) and their errors are jsonwebtoken's,
//!    unchanged. The record is cleared before `decode` returns, and nothing
//!    awaits in between (one thread on wasm32).
//!
//! HS256 stays in Rust (HMAC-SHA256 is a few KB), signing included, so that
//! the synchronous [`Verifier::verify`](crate::Verifier::verify) and
//! [`Issuer`](crate::Issuer) keep working on wasm32 for HS256 (the per-user
//! examples' login). A synchronous RS256/ES256 check on wasm32 is refused
//! with an error that names `verify_async`.

use std::cell::RefCell;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, KeyInit, Mac};
use js_sys::{Array, Object, Reflect, Uint8Array};
use jsonwebtoken::{
    Algorithm, AlgorithmFamily, DecodingKey, DecodingKeyKind, EncodingKey, Validation,
    crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils},
    errors::{Error, ErrorKind},
    signature,
};
use sha2::Sha256;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{CryptoKey, SubtleCrypto};

use crate::{
    AuthError, Claims,
    spki::{rsa_public_key, rsa_spki},
};

type HmacSha256 = Hmac<Sha256>;

/// WebCrypto's answer about one token, for one `decode` call.
struct Checked {
    /// The key it was checked with (the caller's, borrowed for the call).
    key: *const DecodingKey,
    algorithm: Algorithm,
    /// `base64(header).base64(claims)`.
    message: Vec<u8>,
    signature: Vec<u8>,
    valid: bool,
}

thread_local! {
    static CHECKED: RefCell<Option<Checked>> = const { RefCell::new(None) };
}

/// `jsonwebtoken::decode` with `key`, an RS256 or ES256 signature checked
/// by WebCrypto.
pub(crate) async fn decode(
    token: &str,
    algorithm: Algorithm,
    key: &DecodingKey,
    validation: &Validation,
) -> Result<Claims, AuthError> {
    install();
    if algorithm != Algorithm::HS256 {
        // A signature that does not split or decode is refused by `decode`
        // below with jsonwebtoken's own error; recorded as invalid so that
        // it gets that far.
        let (message, signature) = token.rsplit_once('.').unwrap_or_default();
        let signature = URL_SAFE_NO_PAD.decode(signature).unwrap_or_default();
        let valid = !signature.is_empty()
            && webcrypto_verify(algorithm, key, message.as_bytes(), &signature)
                .await
                .map_err(|error| AuthError::Malformed(format!("unusable key: {error}")))?;
        CHECKED.with(|checked| {
            *checked.borrow_mut() = Some(Checked {
                key,
                algorithm,
                message: message.as_bytes().to_vec(),
                signature,
                valid,
            })
        });
    }
    let decoded = jsonwebtoken::decode::<Claims>(token, key, validation);
    CHECKED.with(|checked| checked.borrow_mut().take());
    Ok(decoded?.claims)
}

/// Makes [`PROVIDER`] jsonwebtoken's, unless the application installed
/// another first (which then verifies by itself).
pub(crate) fn install() {
    let _ = PROVIDER.install_default();
}

/// Why WebCrypto could not check a signature (a key it would not import).
#[derive(Debug, thiserror::Error)]
#[error("WebCrypto: {0}")]
struct WebCryptoError(String);

impl From<JsValue> for WebCryptoError {
    fn from(value: JsValue) -> Self {
        let message = value
            .dyn_ref::<js_sys::Error>()
            .map(|error| String::from(error.message()))
            .unwrap_or_else(|| format!("{value:?}"));
        WebCryptoError(message)
    }
}

/// Whether `signature` is `algorithm`'s signature of `message` by `key`.
async fn webcrypto_verify(
    algorithm: Algorithm,
    key: &DecodingKey,
    message: &[u8],
    signature: &[u8],
) -> Result<bool, WebCryptoError> {
    let (format, key_data, import, verify) = match (algorithm, key.kind()) {
        (Algorithm::RS256, kind) => {
            let pkcs1 = match kind {
                DecodingKeyKind::SecretOrDer(pkcs1) => pkcs1.clone(),
                DecodingKeyKind::RsaModulusExponent { n, e } => rsa_public_key(n, e),
            };
            let rsa = params(&[("name", "RSASSA-PKCS1-v1_5"), ("hash", "SHA-256")])?;
            ("spki", rsa_spki(&pkcs1), rsa.clone(), rsa)
        }
        // A SEC1 point, from a PEM key or a JWK's x and y.
        (Algorithm::ES256, DecodingKeyKind::SecretOrDer(point)) => (
            "raw",
            point.clone(),
            params(&[("name", "ECDSA"), ("namedCurve", "P-256")])?,
            params(&[("name", "ECDSA"), ("hash", "SHA-256")])?,
        ),
        // HS256 is checked in Rust (`Hs256`).
        _ => return Err(WebCryptoError(format!("no {algorithm:?} key"))),
    };
    let subtle = subtle()?;
    let usages = Array::of1(&JsValue::from_str("verify"));
    let key_data = Uint8Array::from(key_data.as_slice());
    let crypto_key: CryptoKey =
        JsFuture::from(subtle.import_key_with_object(format, &key_data, &import, false, &usages)?)
            .await?
            .unchecked_into();
    let verified = JsFuture::from(subtle.verify_with_object_and_u8_array_and_u8_array(
        &verify,
        &crypto_key,
        signature,
        message,
    )?)
    .await?;
    Ok(verified.as_bool() == Some(true))
}

/// The runtime's `crypto.subtle` (a Worker's global scope is neither a
/// window nor a plain worker scope for web-sys, so it is read by name).
fn subtle() -> Result<SubtleCrypto, WebCryptoError> {
    let crypto = Reflect::get(&js_sys::global(), &JsValue::from_str("crypto"))?;
    if crypto.is_undefined() {
        return Err(WebCryptoError("no crypto in this runtime".into()));
    }
    Ok(crypto.unchecked_into::<web_sys::Crypto>().subtle())
}

/// A WebCrypto algorithm object.
fn params(fields: &[(&str, &str)]) -> Result<Object, WebCryptoError> {
    let object = Object::new();
    for (name, value) in fields {
        Reflect::set(&object, &JsValue::from_str(name), &JsValue::from_str(value))?;
    }
    Ok(object)
}

/// jsonwebtoken's crypto on wasm32: HS256 in Rust, RS256 and ES256 as
/// WebCrypto answered [`decode`].
static PROVIDER: CryptoProvider = CryptoProvider {
    signer_factory: new_signer,
    verifier_factory: new_verifier,
    key_utils: KeyUtils::new_unimplemented(),
};

fn new_signer(algorithm: &Algorithm, key: &EncodingKey) -> Result<Box<dyn JwtSigner>, Error> {
    match algorithm {
        Algorithm::HS256 if key.family() == AlgorithmFamily::Hmac => Ok(Box::new(Hs256(
            HmacSha256::new_from_slice(key.as_bytes()).map_err(|_| ErrorKind::InvalidKeyFormat)?,
        ))),
        Algorithm::HS256 => Err(ErrorKind::InvalidKeyFormat.into()),
        _ => Err(ErrorKind::Provider(format!(
            "xws-auth signs {algorithm:?} tokens on native targets only (HS256 on wasm32)"
        ))
        .into()),
    }
}

fn new_verifier(algorithm: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>, Error> {
    // As jsonwebtoken's own providers: a key of another family is refused.
    if key.family() != algorithm.family() {
        return Err(ErrorKind::InvalidKeyFormat.into());
    }
    match algorithm {
        Algorithm::HS256 => Ok(Box::new(Hs256(
            HmacSha256::new_from_slice(key.try_get_as_bytes()?)
                .map_err(|_| ErrorKind::InvalidKeyFormat)?,
        ))),
        Algorithm::RS256 | Algorithm::ES256
            if CHECKED.with(|checked| checked.borrow().is_some()) =>
        {
            Ok(Box::new(WebCryptoAnswer {
                algorithm: *algorithm,
                key,
            }))
        }
        _ => Err(ErrorKind::Provider(format!(
            "on wasm32 {algorithm:?} tokens are verified by WebCrypto: \
             use Verifier::verify_async or authenticate_async"
        ))
        .into()),
    }
}

/// HMAC-SHA256, both ways.
#[derive(Clone)]
struct Hs256(HmacSha256);

jwt_algorithm!(JwtSigner for Hs256 => HS256, JwtVerifier for Hs256 => HS256);

impl signature::Signer<Vec<u8>> for Hs256 {
    fn try_sign(&self, message: &[u8]) -> Result<Vec<u8>, signature::Error> {
        let mut mac = self.0.clone();
        mac.update(message);
        Ok(mac.finalize().into_bytes().to_vec())
    }
}

impl signature::Verifier<Vec<u8>> for Hs256 {
    fn verify(&self, message: &[u8], signature: &Vec<u8>) -> Result<(), signature::Error> {
        let mut mac = self.0.clone();
        mac.update(message);
        mac.verify_slice(signature)
            .map_err(|_| signature::Error::new())
    }
}

/// What WebCrypto answered [`decode`] about this key, algorithm, message
/// and signature; anything else is not valid.
struct WebCryptoAnswer {
    algorithm: Algorithm,
    key: *const DecodingKey,
}

impl signature::Verifier<Vec<u8>> for WebCryptoAnswer {
    fn verify(&self, message: &[u8], signature: &Vec<u8>) -> Result<(), signature::Error> {
        CHECKED.with(|checked| match &*checked.borrow() {
            Some(checked)
                if checked.valid
                    && std::ptr::eq(checked.key, self.key)
                    && checked.algorithm == self.algorithm
                    && checked.message == message
                    && checked.signature == *signature =>
            {
                Ok(())
            }
            _ => Err(signature::Error::new()),
        })
    }
}

impl JwtVerifier for WebCryptoAnswer {
    fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
}
