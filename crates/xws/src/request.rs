//! What a handler knows about the HTTP request that opened a connection.

use http::{HeaderMap, HeaderName, HeaderValue, header};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::{borrow::Cow, net::SocketAddr};

/// The upgrade request: path, query, headers and the remote address where the
/// runtime knows it.
///
/// It is serializable so adapters can keep it across hibernation (Cloudflare)
/// and invocations (AWS); headers that are not valid UTF-8 are dropped then.
///
/// ```
/// use xws::RequestInfo;
/// let req = RequestInfo::new("/api/ws", Some("user=ada&token=s%20cret"))
///     .with_header("cookie", "theme=dark; session=abc")
///     .with_header("sec-websocket-protocol", "chat, token.xyz");
/// assert_eq!(req.query_param("user").as_deref(), Some("ada"));
/// assert_eq!(req.query_param("token").as_deref(), Some("s cret"));
/// assert_eq!(req.cookie("session"), Some("abc"));
/// assert_eq!(req.protocols().collect::<Vec<_>>(), ["chat", "token.xyz"]);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RequestInfo {
    /// The URL path, such as `/api/ws`.
    pub path: String,
    /// The raw query string without `?`, if any.
    pub query: Option<String>,
    /// The request headers.
    #[serde(with = "headers_serde")]
    pub headers: HeaderMap,
    /// The client's address, where the runtime exposes it.
    pub remote_addr: Option<SocketAddr>,
}

impl RequestInfo {
    /// A request for `path` with an optional raw query string.
    pub fn new(path: impl Into<String>, query: Option<&str>) -> Self {
        Self {
            path: path.into(),
            query: query.filter(|q| !q.is_empty()).map(str::to_owned),
            ..Self::default()
        }
    }

    /// Adds a header (builder style); invalid names or values are ignored.
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            self.headers.append(name, value);
        }
        self
    }

    /// Sets the remote address (builder style).
    pub fn with_remote_addr(mut self, addr: SocketAddr) -> Self {
        self.remote_addr = Some(addr);
        self
    }

    /// The first value of query parameter `name`, percent-decoded.
    pub fn query_param(&self, name: &str) -> Option<Cow<'_, str>> {
        let query = self.query.as_deref()?;
        form_urlencoded::parse(query.as_bytes())
            .find(|(key, _)| key == name)
            .map(|(_, value)| value)
    }

    /// Every value of query parameter `name`, percent-decoded.
    pub fn query_params<'a>(&'a self, name: &'a str) -> impl Iterator<Item = Cow<'a, str>> + 'a {
        form_urlencoded::parse(self.query.as_deref().unwrap_or("").as_bytes())
            .filter(move |(key, _)| key == name)
            .map(|(_, value)| value)
    }

    /// A header value as text, if present and valid UTF-8.
    pub fn header(&self, name: impl header::AsHeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The value of cookie `name` from the `Cookie` headers.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.trim_matches('"'))
    }

    /// The `Origin` header, if any.
    pub fn origin(&self) -> Option<&str> {
        self.header(header::ORIGIN)
    }

    /// The subprotocols the client offered in `Sec-WebSocket-Protocol`.
    pub fn protocols(&self) -> impl Iterator<Item = &str> {
        self.headers
            .get_all(header::SEC_WEBSOCKET_PROTOCOL)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|p| !p.is_empty())
    }

    /// What a peer keeps of this request after the upgrade (the default of
    /// [`Handler::kept_request`](crate::Handler::kept_request)): the path,
    /// the remote address, the query without the parameters that look like
    /// credentials ([`RequestInfo::is_credential_param`]), and only the headers named in
    /// `headers` (any case). Cookies and `Authorization` stay only when
    /// named.
    ///
    /// ```
    /// use xws::RequestInfo;
    /// let req = RequestInfo::new("/ws", Some("room=a&token=s3cret&access_token=t"))
    ///     .with_header("cookie", "session=abc")
    ///     .with_header("authorization", "Bearer t")
    ///     .with_header("user-agent", "curl");
    /// let kept = req.kept(&["User-Agent"]);
    /// assert_eq!(kept.query.as_deref(), Some("room=a"));
    /// assert_eq!(kept.header("user-agent"), Some("curl"));
    /// assert_eq!(kept.headers.len(), 1);
    /// ```
    pub fn kept(&self, headers: &[&str]) -> RequestInfo {
        let query = self.query.as_deref().map(|query| {
            query
                .split('&')
                .filter(|pair| {
                    let name = pair.split('=').next().unwrap_or_default();
                    let name: String = form_urlencoded::parse(name.as_bytes())
                        .map(|(key, _)| key.into_owned())
                        .collect();
                    !pair.is_empty() && !Self::is_credential_param(&name)
                })
                .collect::<Vec<_>>()
                .join("&")
        });
        let mut kept = HeaderMap::new();
        for name in headers {
            let Ok(name) = HeaderName::try_from(*name) else {
                continue;
            };
            for value in self.headers.get_all(&name) {
                kept.append(name.clone(), copy_of(value));
            }
        }
        RequestInfo {
            path: self.path.clone(),
            query: query.filter(|q| !q.is_empty()),
            headers: kept,
            remote_addr: self.remote_addr,
        }
    }

    /// Whether query parameter `name` looks like a credential: its name
    /// contains (in any case) `token`, `auth`, `key`, `secret`, `pass`,
    /// `session`, `jwt`, `sig` or `cred`.
    pub fn is_credential_param(name: &str) -> bool {
        let name = name.to_ascii_lowercase();
        CREDENTIAL_PARTS.iter().any(|part| name.contains(part))
    }

    /// The path and query as one string, such as `/api/ws?user=ada`.
    pub fn path_and_query(&self) -> String {
        match &self.query {
            Some(q) => format!("{}?{q}", self.path),
            None => self.path.clone(),
        }
    }
}

/// Parts of query parameter names that mark a credential: a peer does not
/// keep such parameters after the upgrade ([`RequestInfo::kept`]).
const CREDENTIAL_PARTS: &[&str] = &[
    "token", "auth", "key", "secret", "pass", "session", "jwt", "sig", "cred",
];

mod headers_serde {
    use super::*;

    pub fn serialize<S: Serializer>(headers: &HeaderMap, s: S) -> Result<S::Ok, S::Error> {
        // `HeaderValue::to_str` accepts visible ASCII only; any UTF-8 value
        // (a name with an accent in a cookie) must survive storage too.
        let pairs: Vec<(&str, &str)> = headers
            .iter()
            .filter_map(|(k, v)| Some((k.as_str(), std::str::from_utf8(v.as_bytes()).ok()?)))
            .collect();
        pairs.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<HeaderMap, D::Error> {
        let pairs: Vec<(String, String)> = Vec::deserialize(d)?;
        let mut headers = HeaderMap::with_capacity(pairs.len());
        for (name, value) in pairs {
            let name = HeaderName::try_from(name).map_err(serde::de::Error::custom)?;
            let value = HeaderValue::try_from(value).map_err(serde::de::Error::custom)?;
            headers.append(name, value);
        }
        Ok(headers)
    }
}

/// `value` in memory of its own: a server's parser may hand out values
/// that are slices of its whole read buffer (hyper's is 8 KiB), which a
/// kept clone would hold for the life of the peer.
fn copy_of(value: &HeaderValue) -> HeaderValue {
    let mut copy = HeaderValue::from_bytes(value.as_bytes()).unwrap_or_else(|_| value.clone());
    copy.set_sensitive(value.is_sensitive());
    copy
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn survives_a_serde_round_trip() {
        let req = RequestInfo::new("/x", Some("a=1"))
            .with_header("x-one", "1")
            .with_header("x-one", "2")
            .with_remote_addr("127.0.0.1:9".parse().unwrap());
        let json = serde_json::to_string(&req).unwrap();
        assert_eq!(serde_json::from_str::<RequestInfo>(&json).unwrap(), req);
    }

    #[test]
    fn utf8_header_values_survive_a_serde_round_trip() {
        // Found by the request_info and peer_snapshot fuzz targets: values
        // beyond ASCII were dropped when a peer's state was stored.
        let req = RequestInfo::new("/x", None)
            .with_header("cookie", "name=José")
            .with_header("x-emoji", "ݏ%");
        let json = serde_json::to_string(&req).unwrap();
        assert_eq!(serde_json::from_str::<RequestInfo>(&json).unwrap(), req);
    }

    #[test]
    fn kept_drops_credentials_and_unnamed_headers() {
        let req = RequestInfo::new("/ws", Some("name=ada&Token=1&api_key=2&x=%20y&id_token=3&"))
            .with_header("cookie", "a=1")
            .with_header("authorization", "Bearer x")
            .with_header("last-event-id", "7")
            .with_remote_addr("127.0.0.1:9".parse().unwrap());
        let kept = req.kept(&["Last-Event-ID", "not a header"]);
        assert_eq!(kept.query.as_deref(), Some("name=ada&x=%20y"));
        assert_eq!(kept.query_param("x").as_deref(), Some(" y"));
        assert_eq!(kept.header("last-event-id"), Some("7"));
        assert_eq!(kept.headers.len(), 1);
        assert_eq!(kept.remote_addr, req.remote_addr);
        assert_eq!(RequestInfo::new("/", Some("token=1")).kept(&[]).query, None);
        assert_eq!(
            req.kept(&["cookie"]).cookie("a"),
            Some("1"),
            "a named cookie header is kept"
        );
    }

    #[test]
    fn a_kept_header_does_not_hold_the_buffer_it_was_parsed_from() {
        let read_buffer = bytes::Bytes::from_static(b"GET / HTTP/1.1\r\nlast-event-id: 7\r\n");
        let at = read_buffer.iter().position(|&byte| byte == b'7').unwrap();
        let mut value = HeaderValue::from_maybe_shared(read_buffer.slice(at..=at)).unwrap();
        value.set_sensitive(true);
        let mut req = RequestInfo::new("/", None);
        req.headers.insert("last-event-id", value);
        let kept = req.kept(&["last-event-id"]);
        let kept_value = &kept.headers["last-event-id"];
        assert_eq!(kept_value, "7");
        assert!(kept_value.is_sensitive());
        assert!(
            !read_buffer
                .as_ptr_range()
                .contains(&kept_value.as_bytes().as_ptr()),
            "the kept value still points into the read buffer"
        );
    }

    #[test]
    fn missing_things_are_none() {
        let req = RequestInfo::new("/", None);
        assert_eq!(req.query_param("x"), None);
        assert_eq!(req.cookie("x"), None);
        assert_eq!(req.protocols().count(), 0);
    }
}
