//! `xws.js`, the browser client, served by a Worker.

use worker::Response;

/// The browser client (the same file `xws_tokio::CLIENT_JS` serves): one
/// dependency-free ES module with reconnection and the heartbeat.
pub const CLIENT_JS: &str = xws::client::JS;

/// [`CLIENT_JS`] as a `text/javascript` response, for a Worker's
/// `GET /xws.js` route.
pub fn client_js() -> worker::Result<Response> {
    let response = Response::ok(CLIENT_JS)?;
    response
        .headers()
        .set("content-type", xws::client::JS_CONTENT_TYPE)?;
    Ok(response)
}
