//! The path and query parameters and the declared body length of a Worker
//! request, for the app's own routes.
//!
//! The URL is read as the runtime serialized it (`Request.url` in
//! JavaScript, a WHATWG URL already) and split, rather than parsed again
//! with `worker::Request::url`: the `url` crate's parser and its IDNA tables
//! are then left out of the module, ~45 KB of a worker (BENCHMARKS.md).

use worker::Request;

/// The decoded value of query parameter `name` of `request`, the first if
/// it is repeated; `None` when absent.
///
/// ```ignore
/// let user = xws_cloudflare::query_param(&request, "user")?;
/// ```
pub fn query_param(request: &Request, name: &str) -> worker::Result<Option<String>> {
    let url = request.inner().url();
    let query = split_url(&url).1.unwrap_or_default();
    Ok(form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned()))
}

/// The path and query of `request`'s URL, as `url::Url::path` and
/// `url::Url::query` give them: the path starts with `/`; the query is
/// what follows `?` (`Some("")` for a bare `?`), without a fragment.
///
/// ```ignore
/// let (path, query) = xws_cloudflare::path_and_query(&request);
/// ```
pub fn path_and_query(request: &Request) -> (String, Option<String>) {
    let url = request.inner().url();
    let (path, query) = split_url(&url);
    (path.to_owned(), query.map(str::to_owned))
}

/// Splits a serialized URL with an authority (`scheme://host/path?query`).
/// Serialization gives special schemes a path of at least `/`, so the first
/// `/` after the host begins it.
pub(crate) fn split_url(url: &str) -> (&str, Option<&str>) {
    let url = url.split_once('#').map_or(url, |(before, _)| before);
    let (target, query) = match url.split_once('?') {
        Some((target, query)) => (target, Some(query)),
        None => (url, None),
    };
    let after_scheme = target.find("://").map_or(0, |at| at + 3);
    let path = target[after_scheme..]
        .find('/')
        .map_or("/", |at| &target[after_scheme + at..]);
    (path, query)
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
