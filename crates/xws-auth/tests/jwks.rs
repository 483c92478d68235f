//! A key set fetched from a JWKS URL over a real socket: tokens signed with
//! its keys pass; a rotated-in key (a `kid` the set lacked) is fetched
//! again once; made-up key ids cannot make it fetch more than once per
//! interval; a URL that does not answer fails at start-up.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use xws::RequestInfo;
use xws_auth::{AuthError, Claims, HttpFetcher, Issuer, JwksVerifier, now_seconds};

const JWKS: &str = include_str!("keys/jwks.json");
const RSA_PRIVATE: &[u8] = include_bytes!("keys/rsa_private.pem");
const EC_PRIVATE: &[u8] = include_bytes!("keys/ec_private.pem");

/// Serves the set on 127.0.0.1: the RSA key alone for the first request,
/// then both keys (the EC key rotated in). Returns its URL and the count of
/// requests.
async fn provider() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/.well-known/jwks.json",
        listener.local_addr().unwrap()
    );
    let hits = Arc::new(AtomicUsize::new(0));
    let both: serde_json::Value = serde_json::from_str(JWKS).unwrap();
    let rsa_only = serde_json::json!({ "keys": [both["keys"][0].clone()] });
    let counted = hits.clone();
    tokio::spawn(async move {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            let body = match counted.fetch_add(1, Ordering::SeqCst) {
                0 => rsa_only.to_string(),
                _ => both.to_string(),
            };
            let mut request = [0u8; 2048];
            let _ = socket.read(&mut request).await;
            let response = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(response.as_bytes()).await;
        }
    });
    (url, hits)
}

fn request_with(token: &str) -> RequestInfo {
    RequestInfo::new("/api/ws", Some(&format!("token={token}")))
}

fn token(issuer: Issuer, kid: &str) -> String {
    let claims = Claims::new("ada", now_seconds() + 60).with_audience("xws-test");
    issuer.key_id(kid).issue(&claims).unwrap()
}

#[tokio::test]
async fn a_rotated_key_is_fetched_once_and_made_up_ones_are_not() {
    let (url, hits) = provider().await;
    let verifier = JwksVerifier::new(&url, HttpFetcher::new().unwrap(), |v| {
        v.audience("xws-test")
    })
    .await
    .unwrap()
    .min_refetch(Duration::ZERO);
    assert_eq!(hits.load(Ordering::SeqCst), 1, "fetched at start");

    let rs = token(Issuer::rs256_pem(RSA_PRIVATE).unwrap(), "rsa-1");
    let who = verifier.authenticate(&request_with(&rs)).await.unwrap();
    assert_eq!(who.identity.user, "ada");
    assert_eq!(
        hits.load(Ordering::SeqCst),
        1,
        "a known key fetches nothing"
    );

    // The EC key was not in the first set: one more fetch finds it.
    let ec = token(Issuer::es256_pem(EC_PRIVATE).unwrap(), "ec-1");
    assert!(verifier.authenticate(&request_with(&ec)).await.is_ok());
    assert_eq!(hits.load(Ordering::SeqCst), 2);

    // The audience the configuration asked for is still required.
    let other = Issuer::rs256_pem(RSA_PRIVATE)
        .unwrap()
        .key_id("rsa-1")
        .issue(&Claims::new("ada", now_seconds() + 60).with_audience("elsewhere"))
        .unwrap();
    assert_eq!(
        verifier
            .authenticate(&request_with(&other))
            .await
            .unwrap_err(),
        AuthError::WrongAudience
    );
}

#[tokio::test]
async fn made_up_key_ids_fetch_at_most_once_per_interval() {
    let (url, hits) = provider().await;
    let verifier = JwksVerifier::new(&url, HttpFetcher::new().unwrap(), |v| v)
        .await
        .unwrap()
        .min_refetch(Duration::from_secs(3600));
    for kid in ["made-up-1", "made-up-2", "made-up-3"] {
        let forged = token(Issuer::rs256_pem(RSA_PRIVATE).unwrap(), kid);
        assert_eq!(
            verifier
                .authenticate(&request_with(&forged))
                .await
                .unwrap_err(),
            AuthError::UnknownKey(Some(kid.to_owned()))
        );
    }
    assert_eq!(
        hits.load(Ordering::SeqCst),
        1,
        "no fetch within the interval"
    );
}

#[tokio::test]
async fn a_url_that_does_not_answer_fails_at_start() {
    let closed = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap()
    };
    let url = format!("http://{closed}/jwks.json");
    let error = JwksVerifier::new(&url, HttpFetcher::new().unwrap(), |v| v)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("JWKS at"), "{error}");
}
