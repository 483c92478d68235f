//! The upgrade request as handlers read it: arbitrary query strings,
//! cookies and subprotocol lists never panic, and a stored `RequestInfo`
//! loads back unchanged.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use xws::RequestInfo;

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    path: &'a str,
    query: Option<&'a str>,
    cookie: &'a str,
    protocols: &'a str,
    name: &'a str,
    stored: &'a [u8],
}

fuzz_target!(|input: Input<'_>| {
    let request = RequestInfo::new(input.path, input.query)
        .with_header("cookie", input.cookie)
        .with_header("sec-websocket-protocol", input.protocols);
    let _ = request.query_param(input.name);
    let _ = request.query_params(input.name).count();
    let _ = request.cookie(input.name);
    for protocol in request.protocols() {
        assert!(!protocol.is_empty() && !protocol.contains(','));
    }
    let _ = request.path_and_query();
    let json = serde_json::to_vec(&request).unwrap();
    assert_eq!(
        serde_json::from_slice::<RequestInfo>(&json).unwrap(),
        request
    );

    if let Ok(stored) = serde_json::from_slice::<RequestInfo>(input.stored) {
        let json = serde_json::to_vec(&stored).unwrap();
        assert_eq!(
            serde_json::from_slice::<RequestInfo>(&json).unwrap(),
            stored
        );
    }
});
