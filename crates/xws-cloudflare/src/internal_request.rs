//! The requests the adapter itself sends to a Durable Object's stub.
//!
//! Built on the runtime's own `RequestInit` rather than with
//! `worker::Request::new_with_init`, whose conversion of a
//! `worker::RequestInit` carries that of its `cf` properties (image
//! resizing, caching), ~11 KB of a worker's module although the adapter
//! never sets them (BENCHMARKS.md).

use wasm_bindgen::JsValue;
use worker::{Headers, Method, Request, web_sys};

/// A `method` request to `url` with `headers` and, if any, `body`.
pub(crate) fn new(
    url: &str,
    method: Method,
    headers: &Headers,
    body: Option<&JsValue>,
) -> worker::Result<Request> {
    let init = web_sys::RequestInit::new();
    init.set_method(method.as_ref());
    init.set_headers(&headers.0);
    if let Some(body) = body {
        init.set_body(body);
    }
    Ok(web_sys::Request::new_with_str_and_init(url, &init)?.into())
}
