//! jsonwebtoken's signatures checked (and made) by ring on native targets.
//!
//! ring is already in every native build that has TLS (rustls, the AWS
//! SDK's connector, reqwest for JWKS); jsonwebtoken's `rust_crypto`
//! backend brought a second implementation of the same algorithms (rsa,
//! crypto-bigint, p256, p384, curve25519), about 0.4 MB of a Lambda
//! bootstrap (BENCHMARKS.md, "Deploy sizes"). Only what xws verifies is
//! here: HS256, RS256 and ES256 ([`SUPPORTED`](crate::SUPPORTED)); any
//! other algorithm is refused as unsupported.
//!
//! ring refuses RSA keys shorter than 2048 bits, as current guidance does;
//! RustCrypto accepted 1024-bit ones.

use jsonwebtoken::{
    Algorithm, DecodingKey, DecodingKeyKind, EncodingKey,
    crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils},
    errors::{Error, ErrorKind},
    signature,
};
use ring::{
    hmac,
    rand::SystemRandom,
    signature::{
        ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair,
        RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256, RsaKeyPair, RsaPublicKeyComponents,
        UnparsedPublicKey,
    },
};

/// Makes [`PROVIDER`] jsonwebtoken's, unless the application installed
/// another first (which then signs and verifies by itself).
pub(crate) fn install() {
    let _ = PROVIDER.install_default();
}

/// jsonwebtoken's crypto on native targets: ring for HS256, RS256, ES256.
/// No JWK utilities: xws reads JWKs (`DecodingKey::from_jwk`, which needs
/// none) and never writes them.
static PROVIDER: CryptoProvider = CryptoProvider {
    signer_factory: new_signer,
    verifier_factory: new_verifier,
    key_utils: KeyUtils::new_unimplemented(),
};

fn unsupported(algorithm: &Algorithm) -> Error {
    ErrorKind::Provider(format!(
        "xws-auth signs and verifies HS256, RS256 and ES256 only, not {algorithm:?}"
    ))
    .into()
}

fn new_signer(algorithm: &Algorithm, key: &EncodingKey) -> Result<Box<dyn JwtSigner>, Error> {
    // As jsonwebtoken's own providers: a key of another family is refused.
    if key.family() != algorithm.family() {
        return Err(ErrorKind::InvalidKeyFormat.into());
    }
    match algorithm {
        Algorithm::HS256 => Ok(Box::new(Hs256(hmac::Key::new(
            hmac::HMAC_SHA256,
            key.as_bytes(),
        )))),
        // jsonwebtoken keeps a PEM RSA private key as PKCS#1 DER.
        Algorithm::RS256 => Ok(Box::new(Rs256Signer(
            RsaKeyPair::from_der(key.as_bytes())
                .map_err(|e| ErrorKind::InvalidRsaKey(e.to_string()))?,
        ))),
        // And an EC private key as PKCS#8.
        Algorithm::ES256 => Ok(Box::new(Es256Signer(
            EcdsaKeyPair::from_pkcs8(
                &ECDSA_P256_SHA256_FIXED_SIGNING,
                key.as_bytes(),
                &SystemRandom::new(),
            )
            .map_err(|_| ErrorKind::InvalidEcdsaKey)?,
        ))),
        other => Err(unsupported(other)),
    }
}

fn new_verifier(algorithm: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>, Error> {
    if key.family() != algorithm.family() {
        return Err(ErrorKind::InvalidKeyFormat.into());
    }
    match algorithm {
        Algorithm::HS256 => Ok(Box::new(Hs256(hmac::Key::new(
            hmac::HMAC_SHA256,
            key.try_get_as_bytes()?,
        )))),
        Algorithm::RS256 => Ok(Box::new(Rs256Verifier(key.clone()))),
        Algorithm::ES256 => Ok(Box::new(Es256Verifier(key.try_get_as_bytes()?.to_vec()))),
        other => Err(unsupported(other)),
    }
}

jwt_algorithm!(
    JwtSigner for Hs256 => HS256,
    JwtVerifier for Hs256 => HS256,
    JwtVerifier for Rs256Verifier => RS256,
    JwtSigner for Rs256Signer => RS256,
    JwtVerifier for Es256Verifier => ES256,
    JwtSigner for Es256Signer => ES256,
);

/// HMAC-SHA256, both ways.
struct Hs256(hmac::Key);

impl signature::Signer<Vec<u8>> for Hs256 {
    fn try_sign(&self, message: &[u8]) -> Result<Vec<u8>, signature::Error> {
        Ok(hmac::sign(&self.0, message).as_ref().to_vec())
    }
}

impl signature::Verifier<Vec<u8>> for Hs256 {
    fn verify(&self, message: &[u8], signature: &Vec<u8>) -> Result<(), signature::Error> {
        // Constant time.
        hmac::verify(&self.0, message, signature).map_err(|_| signature::Error::new())
    }
}

/// RSASSA-PKCS1-v1_5 with SHA-256, checked.
struct Rs256Verifier(DecodingKey);

impl signature::Verifier<Vec<u8>> for Rs256Verifier {
    fn verify(&self, message: &[u8], signature: &Vec<u8>) -> Result<(), signature::Error> {
        let verified = match self.0.kind() {
            // A PEM public key: PKCS#1 `RSAPublicKey` DER, ring's own input.
            DecodingKeyKind::SecretOrDer(pkcs1) => {
                UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, pkcs1)
                    .verify(message, signature)
            }
            // A JWK's modulus and exponent; ring wants them without leading
            // zero bytes, which some key sets keep.
            DecodingKeyKind::RsaModulusExponent { n, e } => RsaPublicKeyComponents {
                n: without_leading_zeros(n),
                e: without_leading_zeros(e),
            }
            .verify(&RSA_PKCS1_2048_8192_SHA256, message, signature),
        };
        verified.map_err(|_| signature::Error::new())
    }
}

fn without_leading_zeros(bytes: &[u8]) -> &[u8] {
    let zeros = bytes.iter().take_while(|byte| **byte == 0).count();
    &bytes[zeros..]
}

/// RSASSA-PKCS1-v1_5 with SHA-256, made.
struct Rs256Signer(RsaKeyPair);

impl signature::Signer<Vec<u8>> for Rs256Signer {
    fn try_sign(&self, message: &[u8]) -> Result<Vec<u8>, signature::Error> {
        let mut signature = vec![0; self.0.public().modulus_len()];
        self.0
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                message,
                &mut signature,
            )
            .map_err(|_| signature::Error::new())?;
        Ok(signature)
    }
}

/// ECDSA on P-256 with SHA-256, the JWS form (r and s, 32 bytes each),
/// checked against a SEC1 point (from a PEM key or a JWK's x and y).
struct Es256Verifier(Vec<u8>);

impl signature::Verifier<Vec<u8>> for Es256Verifier {
    fn verify(&self, message: &[u8], signature: &Vec<u8>) -> Result<(), signature::Error> {
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &self.0)
            .verify(message, signature)
            .map_err(|_| signature::Error::new())
    }
}

/// ECDSA on P-256 with SHA-256, made.
struct Es256Signer(EcdsaKeyPair);

impl signature::Signer<Vec<u8>> for Es256Signer {
    fn try_sign(&self, message: &[u8]) -> Result<Vec<u8>, signature::Error> {
        let signature = self
            .0
            .sign(&SystemRandom::new(), message)
            .map_err(|_| signature::Error::new())?;
        Ok(signature.as_ref().to_vec())
    }
}
