//! `xws.js`, the browser client, served as an ES module.

use http::{HeaderValue, Request, Response, header};
use std::{
    convert::Infallible,
    future::{Ready, ready},
    task::{Context, Poll},
};

use crate::{Body, body::full};

/// The browser client, [`xws::client::JS`].
pub const CLIENT_JS: &str = xws::client::JS;

/// Serves [`CLIENT_JS`] as `text/javascript`, for any request:
/// `axum::Router::route_service("/xws.js", xws_tokio::client_js())`.
pub fn client_js() -> ClientJsService {
    ClientJsService
}

/// The service returned by [`client_js`].
#[derive(Clone, Copy, Debug, Default)]
pub struct ClientJsService;

impl<B> tower_service::Service<Request<B>> for ClientJsService {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Ready<Result<Response<Body>, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Request<B>) -> Self::Future {
        let mut response = Response::new(full(CLIENT_JS));
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(xws::client::JS_CONTENT_TYPE),
        );
        // Small, and must match the server it talks to after a deploy.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        ready(Ok(response))
    }
}
