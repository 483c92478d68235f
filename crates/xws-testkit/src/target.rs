//! Where the suite connects, and how patient it is.

use std::time::Duration;

/// Default wait for any single expected frame or response.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// The chat's documented maximum message size (64 KiB).
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 64 * 1024;

/// A chat deployment under test: one or more nodes sharing topics.
///
/// Peers opened by a scenario are spread round-robin over `ws_urls` (peer `i` goes to
/// `ws_urls[i % len]`), so with two nodes the members of one room sit on different nodes.
/// HTTP requests go to `http_urls` the same way.
#[derive(Debug, Clone)]
pub struct Target {
    /// WebSocket endpoints, e.g. `ws://127.0.0.1:3000/api/ws`; may already carry a query.
    pub ws_urls: Vec<String>,
    /// HTTP base URLs (no trailing path), e.g. `http://127.0.0.1:3000`.
    pub http_urls: Vec<String>,
    /// The server's `CHAT_TOKEN`, if it has one; sent as `?token=` on every connection.
    pub token: Option<String>,
    /// Scenario names this target cannot support; they are reported as skipped.
    pub skip: Vec<String>,
    /// How long to wait for each expected frame or response.
    pub timeout: Duration,
    /// The largest message the target accepts; one byte more must close with 1009.
    pub max_message_size: usize,
    /// The target's `Limits::max_topics_per_peer`: a peer (or an SSE request)
    /// may hold that many topics and not one more.
    pub max_topics_per_peer: usize,
    /// How many scenarios [`crate::run`] runs at the same time.
    pub concurrency: usize,
    /// The target refuses binary frames (API Gateway): peers send binary
    /// messages as binary notices ([`xws::client::binary_notice`]), as
    /// `xws.js` does with `binaryAsText`.
    pub binary_as_text: bool,
}

impl Default for Target {
    fn default() -> Self {
        Self {
            ws_urls: Vec::new(),
            http_urls: Vec::new(),
            token: None,
            skip: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            max_topics_per_peer: xws::Limits::DEFAULT_MAX_TOPICS_PER_PEER,
            concurrency: 8,
            binary_as_text: false,
        }
    }
}

impl Target {
    /// One chat node at `host:port`, serving `/api/ws` and `/api/*` over plain HTTP.
    pub fn single(addr: impl std::fmt::Display) -> Self {
        Self::nodes([addr])
    }

    /// Several chat nodes (`host:port` each) sharing topics, e.g. through Redis.
    pub fn nodes<A: std::fmt::Display>(addrs: impl IntoIterator<Item = A>) -> Self {
        let (ws_urls, http_urls) = addrs
            .into_iter()
            .map(|addr| (format!("ws://{addr}/api/ws"), format!("http://{addr}")))
            .unzip();
        Self {
            ws_urls,
            http_urls,
            ..Self::default()
        }
    }

    /// Sets the server's token.
    pub fn with_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Peers send binary messages as binary notices (see
    /// [`Target::binary_as_text`]).
    pub fn with_binary_as_text(mut self) -> Self {
        self.binary_as_text = true;
        self
    }

    /// Sets the target's topic limit (see [`Target::max_topics_per_peer`]).
    pub fn with_max_topics_per_peer(mut self, limit: usize) -> Self {
        self.max_topics_per_peer = limit;
        self
    }

    /// Sets the wait for each expected frame or response.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Marks scenarios as not applicable to this target.
    pub fn skipping<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.skip.extend(names.into_iter().map(Into::into));
        self
    }

    /// The WebSocket URL for the `peer`-th peer of a scenario, with the target's token.
    pub fn ws_url(&self, peer: usize, user: Option<&str>) -> String {
        self.ws_url_with_token(peer, user, self.token.as_deref())
    }

    /// The WebSocket URL for the `peer`-th peer with an explicit token (or none).
    pub fn ws_url_with_token(
        &self,
        peer: usize,
        user: Option<&str>,
        token: Option<&str>,
    ) -> String {
        let base = pick(&self.ws_urls, peer);
        let mut query = form_urlencoded::Serializer::new(String::new());
        if let Some(user) = user {
            query.append_pair("user", user);
        }
        if let Some(token) = token {
            query.append_pair("token", token);
        }
        with_query(base, &query.finish())
    }

    /// An HTTP URL on the `node`-th HTTP base, `path_and_query` starting with `/`.
    pub fn http_url(&self, node: usize, path_and_query: &str) -> String {
        let base = pick(&self.http_urls, node).trim_end_matches('/');
        let url = format!("{base}{path_and_query}");
        match &self.token {
            Some(token) => {
                let query = form_urlencoded::Serializer::new(String::new())
                    .append_pair("token", token)
                    .finish();
                with_query(&url, &query)
            }
            None => url,
        }
    }

    /// Whether the target asked to skip the named scenario.
    pub fn skips(&self, name: &str) -> bool {
        self.skip.iter().any(|skipped| skipped == name)
    }
}

fn pick(urls: &[String], index: usize) -> &str {
    if urls.is_empty() {
        ""
    } else {
        &urls[index % urls.len()]
    }
}

fn with_query(url: &str, query: &str) -> String {
    if query.is_empty() {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&{query}")
    } else {
        format!("{url}?{query}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers_spread_round_robin_over_nodes() {
        let target = Target::nodes(["127.0.0.1:1", "127.0.0.1:2"]);
        assert_eq!(target.ws_url(0, None), "ws://127.0.0.1:1/api/ws");
        assert_eq!(target.ws_url(1, None), "ws://127.0.0.1:2/api/ws");
        assert_eq!(target.ws_url(2, None), "ws://127.0.0.1:1/api/ws");
        assert_eq!(
            target.http_url(1, "/api/broadcast"),
            "http://127.0.0.1:2/api/broadcast"
        );
    }

    #[test]
    fn user_and_token_are_url_encoded_and_appended() {
        let target = Target::single("h:1").with_token("s e&cret");
        assert_eq!(
            target.ws_url(0, Some("zoë & co")),
            "ws://h:1/api/ws?user=zo%C3%AB+%26+co&token=s+e%26cret"
        );
        assert_eq!(
            target.http_url(0, "/api/sse?topic=room:a"),
            "http://h:1/api/sse?topic=room:a&token=s+e%26cret"
        );
        let mut staged = Target::single("h:1");
        staged.ws_urls = vec!["wss://h/ws?stage=dev".into()];
        assert_eq!(staged.ws_url(0, Some("a")), "wss://h/ws?stage=dev&user=a");
    }
}
