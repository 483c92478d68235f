//! Query parameters of a Worker request, for the app's own routes.

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
