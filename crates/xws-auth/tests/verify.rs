//! Verification against real signatures of every supported algorithm, and
//! every way a token can be wrong: forged, expired, not yet valid, wrong
//! audience, wrong issuer, wrong algorithm, unknown key, not a JWT.

use xws::RequestInfo;
use xws_auth::{AuthError, Claims, Issuer, Verifier, now_seconds};

const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
const RSA_PRIVATE: &[u8] = include_bytes!("keys/rsa_private.pem");
const RSA_PUBLIC: &[u8] = include_bytes!("keys/rsa_public.pem");
const EC_PRIVATE: &[u8] = include_bytes!("keys/ec_private.pem");
const EC_PUBLIC: &[u8] = include_bytes!("keys/ec_public.pem");
const JWKS: &str = include_str!("keys/jwks.json");

fn in_a_minute(sub: &str) -> Claims {
    Claims::new(sub, now_seconds() + 60)
}

#[test]
fn each_algorithm_verifies_its_own_tokens() {
    let cases = [
        (Issuer::hs256(SECRET), Verifier::hs256(SECRET)),
        (
            Issuer::rs256_pem(RSA_PRIVATE).unwrap(),
            Verifier::rs256_pem(RSA_PUBLIC).unwrap(),
        ),
        (
            Issuer::es256_pem(EC_PRIVATE).unwrap(),
            Verifier::es256_pem(EC_PUBLIC).unwrap(),
        ),
    ];
    for (issuer, verifier) in cases {
        let token = issuer.issue(&in_a_minute("ada")).unwrap();
        assert_eq!(verifier.verify(&token).unwrap().sub, "ada", "{issuer:?}");
    }
}

#[test]
fn a_forged_or_altered_token_is_refused() {
    let verifier = Verifier::hs256(SECRET);
    let forged = Issuer::hs256(b"not the secret, but just as long!")
        .issue(&in_a_minute("ada"))
        .unwrap();
    assert_eq!(verifier.verify(&forged), Err(AuthError::BadSignature));

    // Same signature, another user in the payload.
    let real = Issuer::hs256(SECRET).issue(&in_a_minute("ada")).unwrap();
    let other = Issuer::hs256(SECRET).issue(&in_a_minute("bob")).unwrap();
    let (header, rest) = real.split_once('.').unwrap();
    let signature = rest.rsplit_once('.').unwrap().1;
    let payload = other.split('.').nth(1).unwrap();
    let altered = format!("{header}.{payload}.{signature}");
    assert_eq!(verifier.verify(&altered), Err(AuthError::BadSignature));

    let rs = Verifier::rs256_pem(RSA_PUBLIC).unwrap();
    let other_key = Issuer::es256_pem(EC_PRIVATE).unwrap();
    assert!(
        rs.verify(&other_key.issue(&in_a_minute("ada")).unwrap())
            .is_err()
    );
}

#[test]
fn an_expired_token_is_refused_without_leeway_by_default() {
    let issuer = Issuer::hs256(SECRET);
    let expired = issuer
        .issue(&Claims::new("ada", now_seconds() - 1))
        .unwrap();
    assert_eq!(
        Verifier::hs256(SECRET).verify(&expired),
        Err(AuthError::Expired)
    );
    assert!(Verifier::hs256(SECRET).leeway(30).verify(&expired).is_ok());
}

#[test]
fn audience_and_issuer_are_checked_when_configured() {
    let issuer = Issuer::hs256(SECRET);
    let verifier = Verifier::hs256(SECRET).audience("xws").issuer("login");
    let good = in_a_minute("ada").with_audience("xws").with_issuer("login");
    assert!(verifier.verify(&issuer.issue(&good).unwrap()).is_ok());

    let wrong_aud = in_a_minute("ada")
        .with_audience("billing")
        .with_issuer("login");
    assert_eq!(
        verifier.verify(&issuer.issue(&wrong_aud).unwrap()),
        Err(AuthError::WrongAudience)
    );
    let wrong_iss = in_a_minute("ada").with_audience("xws").with_issuer("evil");
    assert_eq!(
        verifier.verify(&issuer.issue(&wrong_iss).unwrap()),
        Err(AuthError::WrongIssuer)
    );
    let no_aud = in_a_minute("ada").with_issuer("login");
    assert!(verifier.verify(&issuer.issue(&no_aud).unwrap()).is_err());
}

#[test]
fn a_token_for_another_algorithm_is_refused() {
    // The classic confusion: the RS256 public key used as an HS256 secret.
    let confused = Issuer::hs256(RSA_PUBLIC)
        .issue(&in_a_minute("ada"))
        .unwrap();
    let verifier = Verifier::rs256_pem(RSA_PUBLIC).unwrap();
    assert_eq!(verifier.verify(&confused), Err(AuthError::WrongAlgorithm));

    // An RS256 token where HS256 is expected.
    let rs = Issuer::rs256_pem(RSA_PRIVATE)
        .unwrap()
        .issue(&in_a_minute("ada"))
        .unwrap();
    assert_eq!(
        Verifier::hs256(SECRET).verify(&rs),
        Err(AuthError::WrongAlgorithm)
    );

    // "alg": "none", unsigned.
    let header = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0"; // {"alg":"none","typ":"JWT"}
    let payload = Issuer::hs256(SECRET).issue(&in_a_minute("ada")).unwrap();
    let payload = payload.split('.').nth(1).unwrap();
    let none = format!("{header}.{payload}.");
    assert!(Verifier::hs256(SECRET).verify(&none).is_err());
}

#[test]
fn missing_claims_and_garbage_are_malformed() {
    let verifier = Verifier::hs256(SECRET);
    assert!(matches!(
        verifier.verify("not a token"),
        Err(AuthError::Malformed(_))
    ));
    #[derive(serde::Serialize)]
    struct NoSub {
        exp: u64,
    }
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &NoSub {
            exp: now_seconds() + 60,
        },
        &jsonwebtoken::EncodingKey::from_secret(SECRET).unwrap(),
    )
    .unwrap();
    assert!(matches!(
        verifier.verify(&token),
        Err(AuthError::Malformed(_))
    ));
}

#[test]
fn a_jwks_picks_the_key_by_kid() {
    let verifier = Verifier::from_jwks(JWKS).unwrap();
    let rs = Issuer::rs256_pem(RSA_PRIVATE).unwrap().key_id("rsa-1");
    let ec = Issuer::es256_pem(EC_PRIVATE).unwrap().key_id("ec-1");
    assert!(
        verifier
            .verify(&rs.issue(&in_a_minute("ada")).unwrap())
            .is_ok()
    );
    assert!(
        verifier
            .verify(&ec.issue(&in_a_minute("ada")).unwrap())
            .is_ok()
    );

    let unknown = Issuer::rs256_pem(RSA_PRIVATE).unwrap().key_id("rsa-9");
    assert_eq!(
        verifier.verify(&unknown.issue(&in_a_minute("ada")).unwrap()),
        Err(AuthError::UnknownKey(Some("rsa-9".into())))
    );
    // The RSA key's kid on an ES256 token: the key is bound to RS256.
    let mislabelled = Issuer::es256_pem(EC_PRIVATE).unwrap().key_id("rsa-1");
    assert_eq!(
        verifier.verify(&mislabelled.issue(&in_a_minute("ada")).unwrap()),
        Err(AuthError::WrongAlgorithm)
    );
}

#[test]
fn claims_become_an_identity_with_topics() {
    let issuer = Issuer::hs256(SECRET);
    let verifier = Verifier::hs256(SECRET).default_topics(["user:{sub}"]);

    let plain = issuer.issue(&in_a_minute("ada")).unwrap();
    let request = RequestInfo::new("/ws", Some(&format!("token={plain}")));
    let who = verifier.authenticate(&request).unwrap().identity;
    assert_eq!(who.user, "ada");
    assert!(who.allows("user:ada"));
    assert!(!who.allows("user:bob"));
    assert!(!who.allows("room:lobby"));

    let rooms = issuer
        .issue(&in_a_minute("bob").with_topics(["room:*"]))
        .unwrap();
    let request =
        RequestInfo::new("/ws", None).with_header("cookie", &format!("xws_token={rooms}"));
    let who = verifier.authenticate(&request).unwrap().identity;
    assert!(who.allows("room:lobby"));
    assert!(!who.allows("user:bob"));
    assert_eq!(
        who.authorize("user:bob").unwrap_err().to_string(),
        "topic \"user:bob\" is not allowed by your token"
    );
}

#[test]
fn a_request_without_a_token_is_401_before_the_upgrade() {
    let verifier = Verifier::hs256(SECRET);
    let error = verifier
        .authenticate(&RequestInfo::new("/ws", Some("user=ada")))
        .unwrap_err();
    assert_eq!(error, AuthError::Missing);
    let reject = error.reject();
    assert_eq!(reject.status, 401);
    assert_eq!(reject.headers["www-authenticate"], "Bearer");
    let expired = AuthError::Expired.reject();
    assert!(
        expired.headers["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );
}

#[test]
fn a_subprotocol_token_selects_the_other_protocol() {
    let token = Issuer::hs256(SECRET).issue(&in_a_minute("ada")).unwrap();
    let request = RequestInfo::new("/ws", None)
        .with_header("sec-websocket-protocol", &format!("xws, bearer.{token}"));
    let ok = Verifier::hs256(SECRET).authenticate(&request).unwrap();
    assert_eq!(ok.protocol.as_deref(), Some("xws"));
    assert_eq!(ok.accept(()).protocol.as_deref(), Some("xws"));
}

/// Tokens signed outside xws-auth, by `openssl dgst -sha256 -sign` with the
/// test keys (`sub` "ada", `exp` in 2100; the ES256 one's DER signature
/// rewritten as the JWS `r || s`), so that the signatures xws-auth checks
/// are the standard ones and not only its own `Issuer`'s.
const OPENSSL_RS256: &str = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6InJzYS0xIn0.eyJzdWIiOiJhZGEiLCJleHAiOjQxMDI0NDQ4MDB9.1XCF4OwlwGFOcCyBkCJWet0B9Cvr2b2hDh7H1qizHr0IWok7mpnI7ezpwnITsFR-APvo9WWjrNjV2oGrYLaWlFnuBE4_0QDCYOVegLXcuJo885Oo_msaHe02PbJjX2p1NNh78cPJzLJyH4GJPg7HZwQZc--L5aeWQuY5rgpIsqS-p28eur9giygbtjXl0UMoNy7zZis1zymAUu8yKGyvW1dATC-qW3OQzPkA4Us8MHZ2_ZXBsCx4-wzIGMDvq6SKB1vXyN0O3vIWk4cx6AkxNhUQuxst4ek-VqDOCST9GAw7qy1jsQnqOdSKrEcrGDJxT2TExn2s_hsA-p9SAKUYWA";
const OPENSSL_ES256: &str = "eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImVjLTEifQ.eyJzdWIiOiJhZGEiLCJleHAiOjQxMDI0NDQ4MDB9.Tp6iVu8DV9gBN9gSFdSxBP726g7DT47n_COVBoRQCGKqlzGA5gUdmqvtgouEV-CtC2TB7Uqls3cCV3Irt7wgPA";

/// `token` with one bit of its signature's first byte flipped.
fn with_a_flipped_signature_bit(token: &str) -> String {
    let (message, signature) = token.rsplit_once('.').unwrap();
    let mut signature = signature.as_bytes().to_vec();
    // `A` and `B` differ in the lowest of the six bits they encode.
    signature[0] = if signature[0] == b'A' { b'B' } else { b'A' };
    format!("{message}.{}", String::from_utf8(signature).unwrap())
}

#[test]
fn signatures_made_elsewhere_verify_and_altered_ones_do_not() {
    let cases = [
        (OPENSSL_RS256, Verifier::rs256_pem(RSA_PUBLIC).unwrap()),
        (OPENSSL_ES256, Verifier::es256_pem(EC_PUBLIC).unwrap()),
        // The same keys as a JWK's modulus and exponent, and x and y.
        (OPENSSL_RS256, Verifier::from_jwks(JWKS).unwrap()),
        (OPENSSL_ES256, Verifier::from_jwks(JWKS).unwrap()),
    ];
    for (token, verifier) in cases {
        assert_eq!(verifier.verify(token).unwrap().sub, "ada", "{token}");
        assert_eq!(
            verifier.verify(&with_a_flipped_signature_bit(token)),
            Err(AuthError::BadSignature),
            "{token}"
        );
        // The signature of one user's token over another user's claims.
        let (header, rest) = token.split_once('.').unwrap();
        let signature = rest.rsplit_once('.').unwrap().1;
        let bob = Issuer::hs256(SECRET).issue(&in_a_minute("bob")).unwrap();
        let payload = bob.split('.').nth(1).unwrap();
        assert_eq!(
            verifier.verify(&format!("{header}.{payload}.{signature}")),
            Err(AuthError::BadSignature),
            "{token}"
        );
    }
}
