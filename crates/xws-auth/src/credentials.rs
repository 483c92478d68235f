//! Where a browser can put a token on a WebSocket upgrade.
//!
//! Browsers cannot set headers on `new WebSocket(url, protocols)`, so a
//! token travels in one of three places, looked at in this order:
//!
//! 1. a subprotocol `bearer.<token>` in `Sec-WebSocket-Protocol` (kept out
//!    of URLs and access logs); the server answers with the client's other
//!    offered protocol (say `xws`), since browsers fail a connection whose
//!    answer names no offered protocol;
//! 2. the query parameter `?token=` (works for WebSocket, `EventSource` and
//!    plain HTTP alike);
//! 3. the cookie `xws_token` (sent by the browser on same-site upgrades).

use xws::RequestInfo;

/// The prefix of the subprotocol that carries a token.
pub const PROTOCOL_PREFIX: &str = "bearer.";
/// The query parameter that carries a token.
pub const QUERY_PARAM: &str = "token";
/// The cookie that carries a token.
pub const COOKIE: &str = "xws_token";

/// A token found in a request, and the subprotocol to answer with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    /// The compact JWT.
    pub token: String,
    /// The first offered subprotocol that is not the token, when the token
    /// came as a subprotocol: the upgrade must select it.
    pub protocol: Option<String>,
}

impl Credentials {
    /// Finds the token of `request`, if any.
    ///
    /// ```
    /// use xws::RequestInfo;
    /// use xws_auth::Credentials;
    ///
    /// let by_protocol = RequestInfo::new("/ws", None)
    ///     .with_header("sec-websocket-protocol", "xws, bearer.abc.def.ghi");
    /// let found = Credentials::from_request(&by_protocol).unwrap();
    /// assert_eq!(found.token, "abc.def.ghi");
    /// assert_eq!(found.protocol.as_deref(), Some("xws"));
    ///
    /// let by_query = RequestInfo::new("/ws", Some("token=abc.def.ghi"));
    /// assert_eq!(Credentials::from_request(&by_query).unwrap().token, "abc.def.ghi");
    ///
    /// let by_cookie = RequestInfo::new("/ws", None).with_header("cookie", "xws_token=abc.def.ghi");
    /// assert_eq!(Credentials::from_request(&by_cookie).unwrap().token, "abc.def.ghi");
    /// ```
    pub fn from_request(request: &RequestInfo) -> Option<Self> {
        if let Some(token) = request
            .protocols()
            .find_map(|p| p.strip_prefix(PROTOCOL_PREFIX))
            .filter(|t| !t.is_empty())
        {
            let protocol = request
                .protocols()
                .find(|p| !p.starts_with(PROTOCOL_PREFIX))
                .map(str::to_owned);
            return Some(Self {
                token: token.to_owned(),
                protocol,
            });
        }
        let token = request
            .query_param(QUERY_PARAM)
            .map(|t| t.into_owned())
            .or_else(|| request.cookie(COOKIE).map(str::to_owned))
            .filter(|t| !t.is_empty())?;
        Some(Self {
            token,
            protocol: None,
        })
    }
}
