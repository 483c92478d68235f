//! What a handler knows of a request that reached a Vercel function.

use std::net::{IpAddr, SocketAddr};

use xws::RequestInfo;

/// The request as [`RequestInfo`]: path, query and headers as the function
/// received them; the client's address from `x-real-ip`, or the first hop of
/// `x-forwarded-for`, which Vercel's edge sets (the TCP peer is the
/// function bridge).
///
/// ```
/// let request = http::Request::get("/api/stream?user=ada")
///     .header("x-forwarded-for", "203.0.113.7, 10.0.0.1")
///     .body(())
///     .unwrap();
/// let info = xws_vercel::request_info(&request.into_parts().0);
/// assert_eq!(info.query_param("user").as_deref(), Some("ada"));
/// assert_eq!(info.remote_addr.unwrap().ip().to_string(), "203.0.113.7");
/// ```
pub fn request_info(parts: &http::request::Parts) -> RequestInfo {
    let mut info = RequestInfo::new(parts.uri.path(), parts.uri.query());
    info.headers = parts.headers.clone();
    let client = info
        .header("x-real-ip")
        .or_else(|| info.header("x-forwarded-for")?.split(',').next())
        .and_then(|ip| ip.trim().parse::<IpAddr>().ok());
    if let Some(ip) = client {
        info.remote_addr = Some(SocketAddr::new(ip, 0));
    }
    info
}
