//! Query parameters and the declared body length of a Worker request, for
//! the app's own routes.

use worker::Request;

/// The decoded value of query parameter `name` of `request`, the first if
/// it is repeated; `None` when absent.
///
/// ```ignore
/// let user = xws_cloudflare::query_param(&request, "user")?;
/// ```
pub fn query_param(request: &Request, name: &str) -> worker::Result<Option<String>> {
    Ok(request
        .url()?
        .query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned()))
}

/// The request's `Content-Length`, 0 when it has none: a route compares it
/// with its body limit before it reads the body (and checks the body it
/// read again, as a chunked body declares nothing).
pub fn declared_length(request: &Request) -> worker::Result<usize> {
    Ok(request
        .headers()
        .get("content-length")?
        .and_then(|length| length.trim().parse().ok())
        .unwrap_or(0))
}
