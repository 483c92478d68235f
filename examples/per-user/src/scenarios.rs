//! What the examples' end-to-end scenarios share: where a deployment
//! answers, and users no other run shares.

use std::time::{Duration, SystemTime, UNIX_EPOCH};
use xws_testkit::ScenarioError;
use xws_testkit::client::WsClient;

/// How long any single wait of a scenario may take.
pub const WAIT: Duration = Duration::from_secs(20);

/// Where a deployment of an example answers.
#[derive(Clone, Debug)]
pub struct Endpoints {
    /// The HTTP base, `http://host:port`, without a trailing slash.
    pub http: String,
    /// The WebSocket URL of the handler, `ws://host:port/api/ws`.
    pub ws: String,
}

impl Endpoints {
    /// A deployment serving HTTP and the WebSocket (at `/api/ws`) on one
    /// base URL, as every example does.
    pub fn at(http_base: &str) -> Self {
        let http = http_base.trim_end_matches('/').to_owned();
        let ws = format!("{}/api/ws", http.replacen("http", "ws", 1));
        Self { http, ws }
    }

    /// The URL of the HTTP route `path` for `user`, with `extra` query
    /// parameters (already encoded, `&`-joined) if any.
    pub fn route(&self, path: &str, user: &str, extra: &str) -> String {
        let extra = if extra.is_empty() {
            String::new()
        } else {
            format!("&{extra}")
        };
        format!("{}{path}?user={user}{extra}", self.http)
    }

    /// Checks that a WebSocket upgrade without `?user=` is answered 400
    /// and never opens. Where the client gets the body (Tokio), it must say
    /// why; API Gateway drops a refused `$connect`'s body, and the client
    /// reads none from workerd's refusal.
    pub async fn refuses_anonymous_upgrades(&self) -> Result<(), ScenarioError> {
        let expected = "HTTP 400, its body (if any) naming ?user=";
        let got = match WsClient::connect(&self.ws, "no user", WAIT).await {
            Ok(_) => "an open WebSocket".to_owned(),
            Err(ScenarioError::Transport { message, .. }) => match message
                .strip_prefix("HTTP 400 Bad Request")
            {
                Some(body) if body.trim().is_empty() || body.contains("?user=") => return Ok(()),
                _ => message,
            },
            Err(other) => other.to_string(),
        };
        Err(ScenarioError::mismatch(
            "upgrade without ?user=",
            expected,
            got,
        ))
    }

    /// Opens a WebSocket as `user`, labelled `label` in failures.
    pub async fn connect(&self, user: &str, label: &str) -> Result<WsClient, ScenarioError> {
        WsClient::connect(&format!("{}?user={user}", self.ws), label, WAIT).await
    }
}

/// A user id no earlier run used, so runs against a long-lived deployment
/// (stored notifications, Durable Objects) do not see each other.
pub fn unique_user(prefix: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{prefix}-{:x}", nanos & 0xffff_ffff_ffff)
}
