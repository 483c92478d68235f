//! App routes served by the Durable Object itself: the Worker forwards the
//! request, minus the adapter's private headers, to the object it names.

use worker::{Method, Request, Response, Stub};

use crate::{internal_request, wire::public_headers};

/// Sends `request` to the object behind `stub`. The private `x-xws-*`
/// headers are dropped, so the object's [`Object::handles`](crate::Object::handles)
/// is false for it and a client cannot pose as the adapter.
pub async fn forward(stub: &Stub, mut request: Request) -> worker::Result<Response> {
    let method = request.method();
    let body = match method {
        Method::Get | Method::Head => None,
        _ => Some(js_sys::Uint8Array::from(&request.bytes().await?[..]).into()),
    };
    let url = request.inner().url();
    let forwarded = internal_request::new(&url, method, &public_headers(&request), body.as_ref())?;
    stub.fetch_with_request(forwarded).await
}
