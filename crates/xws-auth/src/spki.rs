//! The DER WebCrypto needs to import an RSA public key (`"spki"`; it has
//! no PKCS#1 format) from what jsonwebtoken keeps of one: a PKCS#1
//! `RSAPublicKey` (PEM keys) or the modulus and exponent (JWKs). Small
//! enough to write out rather than pull the `der`/`spki` crates, which are
//! part of what the WebCrypto backend takes out of a Worker.

/// A DER element: `tag`, definite length, `content`.
fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let length = content.len();
    if length < 0x80 {
        out.push(length as u8);
    } else {
        let bytes = length.to_be_bytes();
        let significant = &bytes[bytes.iter().take_while(|byte| **byte == 0).count()..];
        out.push(0x80 | significant.len() as u8);
        out.extend_from_slice(significant);
    }
    out.extend_from_slice(content);
    out
}

/// A DER INTEGER of the unsigned big-endian `value`.
fn der_unsigned(value: &[u8]) -> Vec<u8> {
    let leading_zeros = value.iter().take_while(|byte| **byte == 0).count();
    let value = &value[leading_zeros.min(value.len().saturating_sub(1))..];
    let mut content = Vec::with_capacity(value.len() + 1);
    if value.first().is_none_or(|byte| byte & 0x80 != 0) {
        content.push(0);
    }
    content.extend_from_slice(value);
    der(0x02, &content)
}

/// PKCS#1 `RSAPublicKey` (what jsonwebtoken keeps of a PEM key) from a
/// JWK's modulus and exponent.
pub(crate) fn rsa_public_key(n: &[u8], e: &[u8]) -> Vec<u8> {
    let mut content = der_unsigned(n);
    content.extend(der_unsigned(e));
    der(0x30, &content)
}

/// `AlgorithmIdentifier { rsaEncryption, NULL }`.
const RSA_ENCRYPTION: [u8; 15] = [
    0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
];

/// The `SubjectPublicKeyInfo` WebCrypto imports (`"spki"`; it has no
/// PKCS#1 format) around a PKCS#1 `RSAPublicKey`.
pub(crate) fn rsa_spki(pkcs1: &[u8]) -> Vec<u8> {
    let mut bits = Vec::with_capacity(pkcs1.len() + 1);
    bits.push(0); // no unused bits
    bits.extend_from_slice(pkcs1);
    let mut content = RSA_ENCRYPTION.to_vec();
    content.extend(der(0x03, &bits));
    der(0x30, &content)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_lengths_and_integers() {
        assert_eq!(der(0x04, &[1, 2]), [0x04, 2, 1, 2]);
        let long = der(0x04, &[0; 300]);
        assert_eq!(&long[..4], &[0x04, 0x82, 0x01, 0x2c]);
        // A set high bit gets a zero byte; leading zeros go.
        assert_eq!(der_unsigned(&[0x80]), [0x02, 2, 0, 0x80]);
        assert_eq!(der_unsigned(&[0, 0, 1, 0]), [0x02, 2, 1, 0]);
        assert_eq!(der_unsigned(&[0]), [0x02, 1, 0]);
    }

    /// What WebCrypto is given for the test RSA key, from its PEM (PKCS#1
    /// inside) and from its modulus and exponent (the same key in the test
    /// JWKS), is the PEM's own `SubjectPublicKeyInfo`.
    #[test]
    fn rsa_spki_is_the_pem_subject_public_key_info() {
        use base64::{
            Engine,
            engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
        };
        use jsonwebtoken::{DecodingKey, DecodingKeyKind};

        let pem = include_str!("../tests/keys/rsa_public.pem");
        let body: String = pem
            .lines()
            .filter(|line| !line.starts_with("-----"))
            .collect();
        let spki = STANDARD.decode(body).unwrap();
        let key = DecodingKey::from_rsa_pem(pem.as_bytes()).unwrap();
        let DecodingKeyKind::SecretOrDer(pkcs1) = key.kind() else {
            panic!("a PEM RSA key is kept as PKCS#1 DER");
        };
        assert_eq!(rsa_spki(pkcs1), spki);

        let jwks: serde_json::Value =
            serde_json::from_str(include_str!("../tests/keys/jwks.json")).unwrap();
        let rsa = &jwks["keys"][0];
        assert_eq!(rsa["kid"], "rsa-1");
        let component = |name: &str| URL_SAFE_NO_PAD.decode(rsa[name].as_str().unwrap()).unwrap();
        assert_eq!(
            rsa_spki(&rsa_public_key(&component("n"), &component("e"))),
            spki
        );
    }
}
