//! Which `Origin` headers may open a connection: the defense against
//! cross-site WebSocket hijacking, one setting for every adapter.

/// Which `Origin` headers may open a connection (against cross-site
/// WebSocket hijacking). Every adapter applies it before the `upgrade`
/// hook and answers 403 to an origin it refuses.
///
/// ```
/// use xws::OriginPolicy;
/// let policy = OriginPolicy::parse("https://app.example.com, https://admin.example.com");
/// assert!(policy.allows(Some("https://app.example.com")));
/// assert!(!policy.allows(Some("https://evil.example")));
/// assert!(policy.allows(None), "non-browser clients send no Origin");
/// assert_eq!(OriginPolicy::parse("*"), OriginPolicy::Any);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum OriginPolicy {
    /// Any origin, and requests without one. The default, as for most
    /// servers; set an allow-list when cookies authenticate users.
    #[default]
    Any,
    /// Only these origins (exact match, such as `https://app.example.com`).
    /// Requests without an `Origin` header (non-browser clients) pass.
    AllowList(Vec<String>),
}

impl OriginPolicy {
    /// Whether a request with this `Origin` header may connect.
    pub fn allows(&self, origin: Option<&str>) -> bool {
        match (self, origin) {
            (OriginPolicy::Any, _) | (OriginPolicy::AllowList(_), None) => true,
            (OriginPolicy::AllowList(list), Some(origin)) => list.iter().any(|o| o == origin),
        }
    }

    /// A policy from a comma-separated list of origins, as the adapters
    /// read it from `XWS_ALLOWED_ORIGINS`; `*` (or nothing) allows any.
    pub fn parse(list: &str) -> Self {
        let origins: Vec<String> = list
            .split(',')
            .map(str::trim)
            .filter(|origin| !origin.is_empty())
            .map(str::to_owned)
            .collect();
        if origins.is_empty() || origins.iter().any(|origin| origin == "*") {
            OriginPolicy::Any
        } else {
            OriginPolicy::AllowList(origins)
        }
    }
}
