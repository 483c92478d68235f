//! The local gateway's HTTP surface as a client reaches it, driven through
//! its router without a socket: `POST|GET|DELETE /@connections/{id}` with
//! any id, method, headers and body, the stats route and the fallback. No
//! request panics or answers 500; unknown connections are 410, oversized
//! posts 413, as API Gateway answers. The Lambda Invoke route is left out:
//! it forwards to a function over the network.

#![no_main]

use std::net::SocketAddr;
use std::sync::{Arc, LazyLock};

use arbitrary::Arbitrary;
use axum::body::Body;
use axum::extract::ConnectInfo;
use http::{HeaderName, HeaderValue, Method, Request, StatusCode};
use libfuzzer_sys::fuzz_target;
use tower_service::Service;
use xws_aws_local::{Emulator, EmulatorConfig};

/// Small, so the fuzzer reaches the size check.
const MAX_MESSAGE_BYTES: usize = 64;

#[derive(Arbitrary, Debug)]
enum Target<'a> {
    /// `/@connections/{segment}`, the segment as the client wrote it.
    Connection(&'a str),
    /// Any path.
    Path(&'a str),
}

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    method: &'a str,
    target: Target<'a>,
    headers: Vec<(&'a str, &'a [u8])>,
    body: &'a [u8],
}

static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
});

static EMULATOR: LazyLock<Arc<Emulator>> = LazyLock::new(|| {
    let mut config = EmulatorConfig::new("http://127.0.0.1:9/2015-03-31/functions/ws/invocations");
    config.ws_path = "/ws".into();
    config.max_message_bytes = MAX_MESSAGE_BYTES;
    Emulator::new(config)
});

fuzz_target!(|input: Input<'_>| {
    let Ok(method) = Method::from_bytes(input.method.as_bytes()) else {
        return;
    };
    let (uri, connection) = match input.target {
        Target::Connection(segment) => (format!("/@connections/{segment}"), true),
        Target::Path(path) => (path.to_owned(), false),
    };
    let mut request = Request::builder().method(method.clone()).uri(&uri);
    for (name, value) in &input.headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(*name), HeaderValue::from_bytes(value))
        {
            request = request.header(name, value);
        }
    }
    let Ok(mut request) = request.body(Body::from(input.body.to_vec())) else {
        return;
    };
    if request.uri().path().starts_with("/2015-03-31/") {
        return;
    }
    let source: SocketAddr = ([127, 0, 0, 1], 40000).into();
    request.extensions_mut().insert(ConnectInfo(source));
    let path = request.uri().path().to_owned();

    let mut router = EMULATOR.router();
    let response = RUNTIME.block_on(router.call(request)).unwrap();
    let status = response.status();
    assert_ne!(status, StatusCode::INTERNAL_SERVER_ERROR, "{method} {uri}");
    let segments = path.split('/').count();
    if connection && path.starts_with("/@connections/") && segments == 3 && path.len() > 14 {
        match method {
            // An id that does not percent-decode to UTF-8 is refused first.
            Method::POST if input.body.len() > MAX_MESSAGE_BYTES => assert!(
                status == StatusCode::PAYLOAD_TOO_LARGE || status == StatusCode::BAD_REQUEST,
                "{uri}: {status}"
            ),
            // axum answers HEAD with the GET route, as RFC 9110 wants.
            Method::POST | Method::GET | Method::HEAD | Method::DELETE => assert!(
                status == StatusCode::GONE || status == StatusCode::BAD_REQUEST,
                "{method} {uri}: {status}"
            ),
            _ => assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {uri}"),
        }
    }
});
