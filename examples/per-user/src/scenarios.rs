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

    /// The URL of the HTTP route `path` as `user` (a token for `user` in
    /// `?token=`), with `extra` query parameters (already encoded,
    /// `&`-joined) if any.
    pub fn route(&self, path: &str, user: &str, extra: &str) -> String {
        let extra = if extra.is_empty() {
            String::new()
        } else {
            format!("&{extra}")
        };
        format!("{}{path}?token={}{extra}", self.http, token(user))
    }

    /// Checks that `POST path` without a token is answered 401 before its
    /// body arrives: the request declares 1 MB and sends a few bytes, so a
    /// route that read the body first would wait for the rest (or answer
    /// 413), and the wait times out. API Gateway buffers a body before the
    /// function runs, so there this shows nothing.
    pub async fn answers_401_before_the_body(&self, path: &str) -> Result<(), ScenarioError> {
        let url = format!("{}{path}", self.http);
        let status = xws_testkit::client::post_unfinished(
            &url,
            1_000_000,
            b"{\"title\":",
            Duration::from_secs(5),
        )
        .await?;
        xws_testkit::ensure_eq(
            &format!("POST {path} without a token, its body unsent"),
            401,
            status.as_u16(),
        )
    }

    /// Checks that `POST path` as a user, with a body one byte over
    /// `limit`, is answered 413.
    pub async fn refuses_a_body_over(&self, path: &str, limit: usize) -> Result<(), ScenarioError> {
        let url = self.route(path, &unique_user("big"), "");
        let body = format!("{{\"title\":\"{}\"}}", "x".repeat(limit - 11));
        let reply = xws_testkit::client::post_raw(&url, &body, WAIT).await?;
        xws_testkit::ensure_eq(
            &format!("POST {path} with a body of {} bytes", body.len()),
            413,
            reply.status.as_u16(),
        )
    }

    /// Checks that a WebSocket upgrade is refused before it opens without
    /// a token (401), with a forged or expired one (401), and with a valid
    /// token of another user than `?user=` names (403). Where the client
    /// gets the body (Tokio), it says why; API Gateway drops a refused
    /// `$connect`'s body, and the client reads none from workerd's refusal.
    pub async fn refuses_anonymous_upgrades(&self) -> Result<(), ScenarioError> {
        let user = unique_user("anon");
        let forged = xws_auth::Issuer::hs256(b"not the demo secret, 32 bytes long")
            .issue(&xws_auth::Claims::new(&user, xws_auth::now_seconds() + 60))
            .map_err(|e| ScenarioError::transport("issuing a forged token", e.to_string()))?;
        let expired = xws_auth::Issuer::hs256(crate::DEMO_SECRET.as_bytes())
            .issue(&xws_auth::Claims::new(&user, xws_auth::now_seconds() - 5))
            .map_err(|e| ScenarioError::transport("issuing an expired token", e.to_string()))?;
        let cases = [
            ("no token", format!("{}?user={user}", self.ws), 401, "token"),
            (
                "a forged token",
                format!("{}?user={user}&token={forged}", self.ws),
                401,
                "signature",
            ),
            (
                "an expired token",
                format!("{}?user={user}&token={expired}", self.ws),
                401,
                "expired",
            ),
            (
                "another user's token",
                format!("{}?user={user}&token={}", self.ws, token("someone-else")),
                403,
                "another user",
            ),
        ];
        for (case, url, status, why) in cases {
            let got = match WsClient::connect(&url, case, WAIT).await {
                Ok(_) => "an open WebSocket".to_owned(),
                Err(ScenarioError::Transport { message, .. }) => {
                    let prefix = format!("HTTP {status} ");
                    match message.strip_prefix(&prefix) {
                        Some(rest) => {
                            let body = rest.split_once(' ').map_or("", |(_, body)| body);
                            if body.trim().is_empty() || body.contains(why) {
                                continue;
                            }
                            message
                        }
                        None => message,
                    }
                }
                Err(other) => other.to_string(),
            };
            return Err(ScenarioError::mismatch(
                format!("upgrade with {case}"),
                format!("HTTP {status} before the upgrade, its body (if any) saying {why:?}"),
                got,
            ));
        }
        Ok(())
    }

    /// Opens a WebSocket as `user` (its token in `?token=`, its name in
    /// `?user=` for routing), labelled `label` in failures.
    pub async fn connect(&self, user: &str, label: &str) -> Result<WsClient, ScenarioError> {
        let url = format!("{}?user={user}&token={}", self.ws, token(user));
        WsClient::connect(&url, label, WAIT).await
    }
}

/// A token for `user` from the demo login, as the examples' servers issue
/// it with the demo secret (the one every local test deployment runs with).
pub fn token(user: &str) -> String {
    crate::login(user).unwrap_or_else(|e| panic!("no demo token for {user:?}: {e}"))
}

/// A user id no earlier run used, so runs against a long-lived deployment
/// (stored notifications, Durable Objects) do not see each other.
pub fn unique_user(prefix: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{prefix}-{:x}", nanos & 0xffff_ffff_ffff)
}
