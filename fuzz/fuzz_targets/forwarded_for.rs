//! `X-Forwarded-For` comes from the client (or, behind trusted proxies,
//! from them): any header values and any trusted-proxy list either fail to
//! parse or give a client address without a panic, and that address is the
//! peer itself unless the peer is a trusted proxy.
//!
//! xws-tokio's `client_ip.rs` is compiled into this target from its source
//! file: depending on xws-tokio would build hyper, tungstenite and axum
//! under nightly for the sake of one module.

#![no_main]

#[path = "../../crates/xws-tokio/src/client_ip.rs"]
mod client_ip;

use client_ip::TrustedProxies;
use http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;
use std::net::IpAddr;

fuzz_target!(|data: &[u8]| {
    // `proxies \n peer \n value \n value…`
    let mut parts = data.split(|&b| b == b'\n');
    let proxies = std::str::from_utf8(parts.next().unwrap_or_default()).unwrap_or_default();
    let Ok(proxies) = proxies.parse::<TrustedProxies>() else {
        return;
    };
    // What Display prints parses back to the same list.
    assert_eq!(proxies.to_string().parse::<TrustedProxies>().unwrap(), proxies);
    let peer = std::str::from_utf8(parts.next().unwrap_or_default())
        .ok()
        .and_then(|p| p.parse::<IpAddr>().ok())
        .unwrap_or(IpAddr::from([127, 0, 0, 1]));
    let mut headers = HeaderMap::new();
    for value in parts {
        if let Ok(value) = HeaderValue::from_bytes(value) {
            headers.append("x-forwarded-for", value);
        }
    }
    let client = proxies.client_ip(peer, &headers);
    if !proxies.contains(peer) {
        assert_eq!(client, peer.to_canonical(), "an untrusted peer named another client");
    }
});
