//! The chat's signed-token and server API scenarios, through real sockets
//! against any deployment: the Tokio binary, the worker under workerd, the
//! functions behind the API Gateway emulator. Each target's test file is
//! one macro line ([`jwt_tests!`](crate::jwt_tests)), so every target runs
//! the same checks.
//!
//! The deployment runs with `CHAT_JWT_SECRET` = [`JwtTarget::secret`] and
//! `CHAT_JWT_AUDIENCE` = [`JwtTarget::audience`].

use serde_json::{Value, json};
use std::time::Duration;
use xws_auth::{Claims, Issuer, now_seconds};
use xws_testkit::client::{
    WsClient, connect_rejected, get_status, get_with_headers, post_json_with_headers,
};
use xws_testkit::{ScenarioError, ensure_eq};

/// The RS256 test key of xws-auth: a token signed with it names another
/// algorithm than the chat's HS256.
const RSA_PRIVATE: &[u8] = include_bytes!("../../../crates/xws-auth/tests/keys/rsa_private.pem");

/// What an event stream the token allows answers on this target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamAnswer {
    /// 200 and the stream (Tokio, workerd).
    Streams,
    /// 501 naming the WebSocket: API Gateway cannot stream (see the
    /// capability matrix); refusals still come first.
    NotAvailable,
}

/// A chat deployment that verifies signed tokens.
#[derive(Clone, Debug)]
pub struct JwtTarget {
    /// `http://host:port`, without a trailing slash.
    pub http: String,
    /// `ws://host:port/api/ws`.
    pub ws: String,
    /// Its `CHAT_JWT_SECRET`.
    pub secret: String,
    /// Its `CHAT_JWT_AUDIENCE`.
    pub audience: String,
    /// What an allowed event stream answers.
    pub stream: StreamAnswer,
    /// How long any one wait may take.
    pub timeout: Duration,
    /// Its `CHAT_API_KEY`, for the server API scenarios.
    pub api_key: Option<String>,
}

impl JwtTarget {
    /// The deployment at `http_base` (WebSocket at `/api/ws`).
    pub fn at(http_base: &str, secret: &str, audience: &str, stream: StreamAnswer) -> Self {
        let http = http_base.trim_end_matches('/').to_owned();
        let ws = format!("{}/api/ws", http.replacen("http", "ws", 1));
        Self {
            http,
            ws,
            secret: secret.to_owned(),
            audience: audience.to_owned(),
            stream,
            timeout: Duration::from_secs(20),
            api_key: None,
        }
    }

    /// The deployment's server API key is `key`.
    pub fn with_api_key(mut self, key: &str) -> Self {
        self.api_key = Some(key.to_owned());
        self
    }

    /// Opens a WebSocket with `token`; returns it and its peer id (from
    /// the welcome).
    pub async fn open(
        &self,
        token: &str,
        label: &str,
    ) -> Result<(WsClient, String), ScenarioError> {
        let url = format!("{}?token={token}", self.ws);
        let mut peer = WsClient::connect(&url, label, self.timeout).await?;
        let welcome = peer.recv_type("welcome").await?;
        let id = welcome["id"].as_str().unwrap_or_default().to_owned();
        Ok((peer, id))
    }

    /// `method path` of the server API with `authorization` and `body`.
    pub async fn api(
        &self,
        method: &str,
        path: &str,
        authorization: Option<&str>,
        body: &Value,
    ) -> Result<(u16, Value), ScenarioError> {
        let url = format!("{}{path}", self.http);
        let headers: Vec<(&str, &str)> = authorization
            .map(|value| ("authorization", value))
            .into_iter()
            .collect();
        let response = match method {
            "GET" => get_with_headers(&url, &headers, self.timeout).await?,
            _ => post_json_with_headers(&url, &headers, body, self.timeout).await?,
        };
        let body = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
        Ok((response.status.as_u16(), body))
    }

    /// `method path` with the API key.
    async fn api_with_key(
        &self,
        method: &str,
        path: &str,
        body: &Value,
    ) -> Result<(u16, Value), ScenarioError> {
        let key = self
            .api_key
            .as_deref()
            .ok_or_else(|| ScenarioError::transport("the target", "has no CHAT_API_KEY"))?;
        self.api(method, path, Some(&format!("Bearer {key}")), body)
            .await
    }

    /// Claims for `sub` valid `seconds`, for this deployment's audience.
    pub fn claims(&self, sub: &str, seconds: u64) -> Claims {
        Claims::new(sub, now_seconds() + seconds).with_audience(&self.audience)
    }

    /// `claims` signed with the deployment's secret.
    pub fn sign(&self, claims: &Claims) -> Result<String, ScenarioError> {
        Issuer::hs256(self.secret.as_bytes())
            .issue(claims)
            .map_err(|e| ScenarioError::transport("signing a token", e))
    }

    /// Opens a WebSocket with `token` and reads the welcome.
    pub async fn connect(&self, token: &str, label: &str) -> Result<WsClient, ScenarioError> {
        let url = format!("{}?token={token}", self.ws);
        let mut peer = WsClient::connect(&url, label, self.timeout).await?;
        peer.recv_type("welcome").await?;
        Ok(peer)
    }

    /// The status of the event stream of `topic` with `token`, if any.
    pub async fn stream_status(
        &self,
        topic: &str,
        token: Option<&str>,
    ) -> Result<u16, ScenarioError> {
        let token = token.map(|t| format!("&token={t}")).unwrap_or_default();
        let url = format!("{}/api/sse?topic={topic}{token}", self.http);
        let accept = [("accept", "text/event-stream")];
        Ok(get_status(&url, &accept, self.timeout).await?.as_u16())
    }
}

/// A room name no other run uses.
fn unique_room(prefix: &str) -> String {
    xws_testkit::chat::unique_name(prefix)
}

/// `join-room`, then the `joined` or `error` answer.
async fn join(peer: &mut WsClient, room: &str) -> Result<Value, ScenarioError> {
    peer.send_json(&json!({"type": "join-room", "roomId": room}))
        .await?;
    peer.recv_json_matching("joined or error", |v| {
        v["type"] == "joined" || v["type"] == "error"
    })
    .await
}

/// A missing, forged, expired, wrong-audience or wrong-algorithm token is
/// answered 401 before the upgrade; a valid one opens.
pub async fn bad_tokens_are_refused_before_the_upgrade(
    target: &JwtTarget,
) -> Result<(), ScenarioError> {
    let forged = Issuer::hs256(b"someone else's secret, 32 bytes+")
        .issue(&target.claims("ada", 60))
        .map_err(|e| ScenarioError::transport("signing", e))?;
    let expired =
        target.sign(&Claims::new("ada", now_seconds() - 5).with_audience(&target.audience))?;
    let other_audience =
        target.sign(&Claims::new("ada", now_seconds() + 60).with_audience("another-app"))?;
    let no_audience = target.sign(&Claims::new("ada", now_seconds() + 60))?;
    let rs256 = Issuer::rs256_pem(RSA_PRIVATE)
        .and_then(|issuer| issuer.issue(&target.claims("ada", 60)))
        .map_err(|e| ScenarioError::transport("signing with RS256", e))?;
    // {"alg":"none"}: unsigned.
    let valid = target.sign(&target.claims("ada", 60))?;
    let payload = valid.split('.').nth(1).unwrap_or_default();
    let unsigned = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}.");
    let cases = [
        ("no token", String::new()),
        ("a forged token", format!("?token={forged}")),
        ("an expired token", format!("?token={expired}")),
        (
            "a token for another audience",
            format!("?token={other_audience}"),
        ),
        (
            "a token without an audience",
            format!("?token={no_audience}"),
        ),
        ("an RS256 token", format!("?token={rs256}")),
        ("an unsigned (alg none) token", format!("?token={unsigned}")),
        ("a garbage token", "?token=not.a.jwt".to_owned()),
    ];
    for (case, query) in cases {
        let status = connect_rejected(&format!("{}{query}", target.ws), target.timeout).await?;
        ensure_eq(&format!("upgrade with {case}"), 401, status)?;
    }
    target.connect(&valid, "a valid token").await.map(drop)
}

/// A token also travels in the `xws_token` cookie or as a `bearer.<token>`
/// subprotocol (how a browser sends one outside the URL); the upgrade then
/// selects the other protocol offered, never the token. A forged token in
/// a cookie is refused like one in the query.
pub async fn tokens_in_a_cookie_or_a_subprotocol_are_accepted(
    target: &JwtTarget,
) -> Result<(), ScenarioError> {
    let token = target.sign(&target.claims("ada", 60))?;
    let cookie = format!("xws_token={token}");
    let (mut by_cookie, _) = WsClient::connect_with_headers(
        &target.ws,
        &[("cookie", &cookie)],
        "cookie",
        target.timeout,
    )
    .await?;
    by_cookie.recv_type("welcome").await?;

    let offered = format!("xws, bearer.{token}");
    let (mut by_protocol, selected) = WsClient::connect_with_headers(
        &target.ws,
        &[("sec-websocket-protocol", &offered)],
        "subprotocol",
        target.timeout,
    )
    .await?;
    ensure_eq("the selected subprotocol", Some("xws"), selected.as_deref())?;
    by_protocol.recv_type("welcome").await?;

    let forged = Issuer::hs256(b"someone else's secret, 32 bytes+")
        .issue(&target.claims("ada", 60))
        .map_err(|e| ScenarioError::transport("signing", e))?;
    let cookie = format!("xws_token={forged}");
    let refused = WsClient::connect_with_headers(
        &target.ws,
        &[("cookie", &cookie)],
        "forged cookie",
        target.timeout,
    )
    .await;
    match refused {
        Err(ScenarioError::Transport { message, .. }) if message.starts_with("HTTP 401") => Ok(()),
        Err(other) => Err(other),
        Ok(_) => Err(ScenarioError::mismatch(
            "upgrade with a forged token in the cookie",
            "HTTP 401",
            "an open WebSocket",
        )),
    }
}

/// The token's `sub` is the peer's user: in the messages it sends.
pub async fn the_token_user_is_in_the_context(target: &JwtTarget) -> Result<(), ScenarioError> {
    let room = unique_room("ctx");
    let ada = xws_testkit::chat::unique_name("ada");
    let bob = xws_testkit::chat::unique_name("bob");
    let mut ada_peer = target
        .connect(&target.sign(&target.claims(&ada, 60))?, "ada")
        .await?;
    let mut bob_peer = target
        .connect(&target.sign(&target.claims(&bob, 60))?, "bob")
        .await?;
    for peer in [&mut ada_peer, &mut bob_peer] {
        let answer = join(peer, &room).await?;
        ensure_eq(
            "join with a token allowing every room",
            "joined",
            answer["type"].as_str().unwrap_or_default(),
        )?;
    }
    bob_peer
        .send_json(&json!({"type": "send-to-room", "roomId": room, "text": "hi"}))
        .await?;
    let message = ada_peer.recv_type("message").await?;
    ensure_eq(
        "the sender's user",
        Some(bob.as_str()),
        message["user"].as_str(),
    )
}

/// A room outside the token's `topics` claim is refused on join, on send
/// and as an event stream, and nothing of it reaches the peer.
pub async fn topics_outside_the_claims_are_refused(
    target: &JwtTarget,
) -> Result<(), ScenarioError> {
    let lobby = unique_room("lobby");
    let staff = unique_room("staff");
    let limited_token = target.sign(
        &target
            .claims("guest", 60)
            .with_topics([format!("room:{lobby}")]),
    )?;
    let insider_token = target.sign(&target.claims("boss", 60).with_topics(["room:*"]))?;
    let mut limited = target.connect(&limited_token, "guest").await?;
    let mut insider = target.connect(&insider_token, "boss").await?;
    let mut witness = target.connect(&insider_token, "boss's other tab").await?;

    let joined = join(&mut limited, &lobby).await?;
    ensure_eq(
        "guest joins the allowed room",
        "joined",
        joined["type"].as_str().unwrap_or_default(),
    )?;
    let refused = join(&mut limited, &staff).await?;
    ensure_eq(
        "guest joins a room outside the claims",
        "error",
        refused["type"].as_str().unwrap_or_default(),
    )?;
    for peer in [&mut insider, &mut witness] {
        let joined = join(peer, &staff).await?;
        ensure_eq(
            "boss joins staff",
            "joined",
            joined["type"].as_str().unwrap_or_default(),
        )?;
    }

    // A send to the refused room answers an error and reaches nobody.
    limited
        .send_json(&json!({"type": "send-to-room", "roomId": staff, "text": "let me in"}))
        .await?;
    let refused = limited.recv_type("error").await?;
    if !refused["message"]
        .as_str()
        .is_some_and(|m| m.contains("room:"))
    {
        return Err(ScenarioError::mismatch(
            "the refusal",
            "an error naming the room",
            refused,
        ));
    }
    insider
        .send_json(&json!({"type": "send-to-room", "roomId": staff, "text": "staff only"}))
        .await?;
    let first = witness.recv_type("message").await?;
    ensure_eq(
        "the first staff message the witness gets",
        Some("staff only"),
        first["text"].as_str(),
    )?;
    // The guest hears nothing of staff: everything up to its pong is checked.
    limited.send_json(&json!({"type": "ping"})).await?;
    limited.recv_type("pong").await?;
    limited.ensure_none_passed_over("a staff message", |v| v["type"] == "message")?;

    // The event stream of the refused room is refused; the allowed one is not.
    ensure_eq(
        "stream of a room outside the claims",
        403,
        target
            .stream_status(&format!("room:{staff}"), Some(&limited_token))
            .await?,
    )?;
    ensure_eq(
        "stream without a token",
        401,
        target.stream_status(&format!("room:{lobby}"), None).await?,
    )?;
    let allowed = match target.stream {
        StreamAnswer::Streams => 200,
        StreamAnswer::NotAvailable => 501,
    };
    ensure_eq(
        "stream of the allowed room",
        allowed,
        target
            .stream_status(&format!("room:{lobby}"), Some(&limited_token))
            .await?,
    )
}

/// A connection whose token expires is closed with 3000 "token expired"
/// (on Tokio by a timer, elsewhere at its next message: the peer sends one
/// after the expiry), and a fresh token connects again.
pub async fn an_expired_token_closes_the_connection_with_3000(
    target: &JwtTarget,
) -> Result<(), ScenarioError> {
    let lifetime = 3;
    let claims = target.claims("ada", lifetime);
    let expires_at = claims.exp;
    let mut peer = target.connect(&target.sign(&claims)?, "ada").await?;
    // Past the expiry by more than a second (`exp` has whole seconds).
    while now_seconds() <= expires_at + 1 {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The Tokio timer may have closed it already: the send may fail.
    let _ = peer.send_json(&json!({"type": "ping"})).await;
    peer.expect_close(xws_auth::EXPIRED_CODE.as_u16()).await?;
    target
        .connect(&target.sign(&target.claims("ada", 60))?, "ada, refreshed")
        .await
        .map(drop)
}

/// The server API's routes, each with a body it would accept.
fn api_routes() -> [(&'static str, &'static str, Value); 6] {
    let publish = json!({"topic": "room:lobby", "data": {"type": "x"}});
    [
        ("POST", "/api/server/publish", publish.clone()),
        ("POST", "/api/publish", publish),
        ("POST", "/api/server/broadcast", json!({"data": 1})),
        ("GET", "/api/server/presence?topic=room:lobby", Value::Null),
        ("POST", "/api/server/disconnect", json!({"user": "nobody"})),
        ("GET", "/api/server/topics", Value::Null),
    ]
}

/// Every server API route answers 401 without the key, with a wrong one,
/// and with a malformed body (the key is checked before the body is read).
pub async fn server_api_routes_need_the_key(target: &JwtTarget) -> Result<(), ScenarioError> {
    let key = target
        .api_key
        .clone()
        .ok_or_else(|| ScenarioError::transport("the target", "has no CHAT_API_KEY"))?;
    let wrong = format!("Bearer {key}-wrong");
    for (method, path, body) in api_routes() {
        for (case, authorization) in [
            ("no key", None),
            ("a wrong key", Some(wrong.as_str())),
            ("no Bearer", Some(key.as_str())),
        ] {
            let (status, _) = target.api(method, path, authorization, &body).await?;
            ensure_eq(&format!("{method} {path} with {case}"), 401, status)?;
        }
        if method == "POST" {
            let (status, _) = target
                .api(method, path, None, &json!("not the body"))
                .await?;
            ensure_eq(
                &format!("{method} {path}, malformed, without a key"),
                401,
                status,
            )?;
        }
    }
    Ok(())
}

/// With the key: publish reaches a room's members, broadcast every peer;
/// topics and presence list them; disconnect closes one peer (with the
/// code given) or every peer of a user (1008).
pub async fn server_api_routes_work_with_the_key(target: &JwtTarget) -> Result<(), ScenarioError> {
    let room = unique_room("api");
    let topic = format!("room:{room}");
    let ada = xws_testkit::chat::unique_name("ada");
    let bob = xws_testkit::chat::unique_name("bob");
    let ada_token = target.sign(&target.claims(&ada, 120))?;
    let (mut ada_tab, _) = target.open(&ada_token, "ada").await?;
    let (mut ada_other_tab, _) = target.open(&ada_token, "ada's other tab").await?;
    let (mut bob_peer, bob_id) = target
        .open(&target.sign(&target.claims(&bob, 120))?, "bob")
        .await?;
    for peer in [&mut ada_tab, &mut bob_peer] {
        let joined = join(peer, &room).await?;
        ensure_eq(
            "join",
            "joined",
            joined["type"].as_str().unwrap_or_default(),
        )?;
    }

    let note = json!({"type": "server-note", "n": 1});
    let (status, body) = target
        .api_with_key(
            "POST",
            "/api/server/publish",
            &json!({"topic": topic, "data": note}),
        )
        .await?;
    ensure_eq("publish status", 200, status)?;
    ensure_eq("publish delivered", Some(2), body["delivered"].as_u64())?;
    for peer in [&mut ada_tab, &mut bob_peer] {
        // Where rooms keep history, the position is spliced in too.
        let got = peer.recv_type("server-note").await?;
        ensure_eq("the published data", &note["n"], &got["n"])?;
    }
    let (status, _) = target
        .api_with_key(
            "POST",
            "/api/server/publish",
            &json!({"topic": "", "data": 1}),
        )
        .await?;
    ensure_eq("publish to an invalid topic", 400, status)?;

    let (status, body) = target
        .api_with_key(
            "POST",
            "/api/server/broadcast",
            &json!({"data": {"type": "server-wide"}}),
        )
        .await?;
    ensure_eq("broadcast status", 200, status)?;
    if body["delivered"].as_u64() < Some(3) {
        return Err(ScenarioError::mismatch(
            "broadcast delivered",
            "3 or more",
            &body,
        ));
    }
    for peer in [&mut ada_tab, &mut ada_other_tab, &mut bob_peer] {
        peer.recv_type("server-wide").await?;
    }

    let (status, body) = target
        .api_with_key("GET", "/api/server/topics", &Value::Null)
        .await?;
    ensure_eq("topics status", 200, status)?;
    let listed = body["topics"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|t| t["topic"] == topic.as_str());
    ensure_eq(
        "the room's subscribers",
        Some(2),
        listed.and_then(|t| t["subscribers"].as_u64()),
    )?;

    let presence_path = format!("/api/server/presence?topic={topic}");
    let (status, body) = target
        .api_with_key("GET", &presence_path, &Value::Null)
        .await?;
    ensure_eq("presence status", 200, status)?;
    let mut users: Vec<&str> = body["members"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["user"].as_str())
        .collect();
    users.sort_unstable();
    let mut expected = vec![ada.as_str(), bob.as_str()];
    expected.sort_unstable();
    ensure_eq("the room's members", expected, users)?;

    let (status, body) = target
        .api_with_key(
            "POST",
            "/api/server/disconnect",
            &json!({"peer": bob_id, "code": 4001, "reason": "bye"}),
        )
        .await?;
    ensure_eq(
        "disconnect a peer",
        (200, Some(1)),
        (status, body["disconnected"].as_u64()),
    )?;
    bob_peer.expect_close(4001).await?;
    let (status, body) = target
        .api_with_key("POST", "/api/server/disconnect", &json!({"user": ada}))
        .await?;
    ensure_eq(
        "disconnect a user",
        (200, Some(2)),
        (status, body["disconnected"].as_u64()),
    )?;
    ada_tab.expect_close(1008).await?;
    ada_other_tab.expect_close(1008).await?;
    let (status, _) = target
        .api_with_key(
            "POST",
            "/api/server/disconnect",
            &json!({"peer": "p", "code": 1005}),
        )
        .await?;
    ensure_eq("disconnect with a code no server may send", 400, status)
}

/// Without `CHAT_API_KEY` the server API does not exist: 404, key or not.
pub async fn server_api_is_off_without_a_key(http_base: &str) -> Result<(), ScenarioError> {
    let timeout = Duration::from_secs(20);
    for (method, path, body) in api_routes() {
        let url = format!("{}{path}", http_base.trim_end_matches('/'));
        let headers = [("authorization", "Bearer anything")];
        let response = match method {
            "GET" => get_with_headers(&url, &headers, timeout).await?,
            _ => post_json_with_headers(&url, &headers, &body, timeout).await?,
        };
        ensure_eq(
            &format!("{method} {path} with the API off"),
            404,
            response.status.as_u16(),
        )?;
    }
    Ok(())
}

/// The counters in `log` from byte `from` on, summed by metric name and
/// `pattern` label: JSON lines (`{"metric","labels","value"}`, as the
/// Cloudflare object logs them) and CloudWatch EMF documents (as Lambda
/// functions print them) alike, wherever a line's JSON starts.
pub fn logged_counters(log: &str) -> std::collections::BTreeMap<(String, String), u64> {
    let mut sums = std::collections::BTreeMap::new();
    for line in log.lines() {
        let Some(json) = line
            .find('{')
            .and_then(|at| serde_json::from_str::<Value>(&line[at..]).ok())
        else {
            continue;
        };
        if let Some(metric) = json["metric"].as_str() {
            if json["kind"] == "counter" {
                let pattern = json["labels"]["pattern"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                *sums.entry((metric.to_owned(), pattern)).or_default() +=
                    json["value"].as_u64().unwrap_or(0);
            }
        } else if let Some(definitions) = json["_aws"]["CloudWatchMetrics"][0]["Metrics"].as_array()
        {
            let pattern = json["pattern"].as_str().unwrap_or_default().to_owned();
            for name in definitions.iter().filter_map(|d| d["Name"].as_str()) {
                if name.ends_with("_total") {
                    *sums.entry((name.to_owned(), pattern.clone())).or_default() +=
                        json[name].as_u64().unwrap_or(0);
                }
            }
        }
    }
    sums
}

/// What the deployment logs as metrics (to the file `log`, which its test
/// harness fills with the worker's or the function's output) counts what
/// two peers did: 2 connections opened, 4 messages in (2 joins, 2 sends), 2
/// publications and 2 deliveries in `room:*`, then 2 closes. The
/// deployment must take no other traffic meanwhile (its tests run one at a
/// time).
pub async fn logged_metrics_count_what_peers_did(
    target: &JwtTarget,
    log: &std::path::Path,
) -> Result<(), ScenarioError> {
    let read = || {
        std::fs::read_to_string(log)
            .map_err(|e| ScenarioError::transport(format!("reading {}", log.display()), e))
    };
    // Lines of earlier tests may still be on their way into the file: the
    // window starts once it has been quiet for a moment.
    let mut start = read()?.len();
    let quiet_by = tokio::time::Instant::now() + target.timeout;
    loop {
        tokio::time::sleep(Duration::from_millis(700)).await;
        let now = read()?.len();
        if now == start || tokio::time::Instant::now() >= quiet_by {
            break;
        }
        start = now;
    }
    let room = unique_room("metrics");
    let token = target.sign(&target.claims("metrics", 60))?;
    let mut ada = target.connect(&token, "ada").await?;
    let mut bob = target.connect(&token, "bob").await?;
    for peer in [&mut ada, &mut bob] {
        join(peer, &room).await?;
    }
    for text in ["one", "two"] {
        ada.send_json(&json!({"type": "send-to-room", "roomId": room, "text": text}))
            .await?;
        bob.recv_type("message").await?;
    }
    ada.send_close(1000, "done").await?;
    bob.send_close(1000, "done").await?;
    let expected: [(&str, &str, u64); 4] = [
        ("xws_connections_opened_total", "", 2),
        ("xws_messages_in_total", "", 4),
        ("xws_publications_total", "room:*", 2),
        ("xws_deliveries_total", "room:*", 2),
    ];
    let count =
        |sums: &std::collections::BTreeMap<(String, String), u64>, name: &str, pattern: &str| {
            sums.get(&(name.to_owned(), pattern.to_owned()))
                .copied()
                .unwrap_or(0)
        };
    let deadline = tokio::time::Instant::now() + target.timeout;
    loop {
        let text = read()?;
        let sums = logged_counters(text.get(start..).unwrap_or_default());
        let closed: u64 = sums
            .iter()
            .filter(|((name, _), _)| name == "xws_connections_closed_total")
            .map(|(_, n)| n)
            .sum();
        let reached = expected
            .iter()
            .all(|(name, pattern, n)| count(&sums, name, pattern) >= *n);
        if reached && closed >= 2 {
            for (name, pattern, n) in expected {
                ensure_eq(
                    &format!("logged {name} {pattern}"),
                    n,
                    count(&sums, name, pattern),
                )?;
            }
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(ScenarioError::mismatch(
                "metrics logged",
                format!("{expected:?} and 2 closes"),
                format!("{sums:?}"),
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A deployment whose tokens come from an identity provider's key set
/// (`CHAT_JWKS_URL` naming xws-auth's test keys, `CHAT_JWT_AUDIENCE` =
/// `audience`): RS256 and ES256 tokens of the set's keys open as their
/// `sub`; an unknown key id, an HS256 token, another audience and a token
/// whose signature is not its content's (RS256 and ES256: on Cloudflare
/// the runtime's WebCrypto checks them) get 401.
pub async fn jwks_tokens_open_as_their_sub(
    http_base: &str,
    audience: &str,
) -> Result<(), ScenarioError> {
    const EC_PRIVATE: &[u8] = include_bytes!("../../../crates/xws-auth/tests/keys/ec_private.pem");
    let timeout = Duration::from_secs(20);
    let ws = format!(
        "{}/api/ws",
        http_base.trim_end_matches('/').replacen("http", "ws", 1)
    );
    let issue = |issuer: Result<Issuer, xws_auth::KeyError>, kid: &str, sub: &str, aud: &str| {
        issuer
            .and_then(|issuer| {
                let claims = Claims::new(sub, now_seconds() + 60).with_audience(aud);
                issuer.key_id(kid).issue(&claims)
            })
            .map_err(|e| ScenarioError::transport("signing", e))
    };
    let rsa = || Issuer::rs256_pem(RSA_PRIVATE);
    let ec = || Issuer::es256_pem(EC_PRIVATE);
    // Eve's claims under the signature of a token for someone else.
    let with_eves_claims = |signed_for_another: String| -> Result<String, ScenarioError> {
        let eve = issue(rsa(), "rsa-1", "eve", audience)?;
        let eves_claims = eve.split('.').nth(1).unwrap_or_default();
        let mut parts: Vec<&str> = signed_for_another.split('.').collect();
        parts[1] = eves_claims;
        Ok(parts.join("."))
    };
    let refused = [
        (
            "an RS256 signature of other claims",
            with_eves_claims(issue(rsa(), "rsa-1", "mallory", audience)?)?,
        ),
        (
            "an ES256 signature of other claims",
            with_eves_claims(issue(ec(), "ec-1", "mallory", audience)?)?,
        ),
        ("an unknown key id", issue(rsa(), "rsa-9", "eve", audience)?),
        (
            "another audience",
            issue(rsa(), "rsa-1", "eve", "elsewhere")?,
        ),
        (
            "an HS256 token",
            issue(
                Ok(Issuer::hs256(b"a shared secret, 32 bytes or more")),
                "rsa-1",
                "eve",
                audience,
            )?,
        ),
    ];
    for (case, token) in refused {
        let status = connect_rejected(&format!("{ws}?token={token}"), timeout).await?;
        ensure_eq(&format!("upgrade with {case}"), 401, status)?;
    }
    let room = unique_room("jwks");
    let ada = issue(rsa(), "rsa-1", "ada", audience)?;
    let bob = issue(ec(), "ec-1", "bob", audience)?;
    let mut peers = Vec::new();
    for (label, token) in [("ada (RS256)", ada), ("bob (ES256)", bob)] {
        let mut peer = WsClient::connect(&format!("{ws}?token={token}"), label, timeout).await?;
        peer.recv_type("welcome").await?;
        let joined = join(&mut peer, &room).await?;
        ensure_eq(
            "join",
            "joined",
            joined["type"].as_str().unwrap_or_default(),
        )?;
        peers.push(peer);
    }
    peers[1]
        .send_json(&json!({"type": "send-to-room", "roomId": room, "text": "hi"}))
        .await?;
    let message = peers[0].recv_type("message").await?;
    ensure_eq("the sender's user", Some("bob"), message["user"].as_str())
}

/// The scenarios as `#[tokio::test]` functions against the [`JwtTarget`]
/// that `$target` evaluates to (once per test).
#[macro_export]
macro_rules! jwt_tests {
    ($target:expr) => {
        #[tokio::test]
        async fn bad_tokens_are_refused_before_the_upgrade() {
            let target = $target;
            $crate::scenarios::bad_tokens_are_refused_before_the_upgrade(&target)
                .await
                .unwrap();
        }

        #[tokio::test]
        async fn tokens_in_a_cookie_or_a_subprotocol_are_accepted() {
            let target = $target;
            $crate::scenarios::tokens_in_a_cookie_or_a_subprotocol_are_accepted(&target)
                .await
                .unwrap();
        }

        #[tokio::test]
        async fn the_token_user_is_in_the_context() {
            let target = $target;
            $crate::scenarios::the_token_user_is_in_the_context(&target)
                .await
                .unwrap();
        }

        #[tokio::test]
        async fn topics_outside_the_claims_are_refused() {
            let target = $target;
            $crate::scenarios::topics_outside_the_claims_are_refused(&target)
                .await
                .unwrap();
        }

        #[tokio::test]
        async fn server_api_routes_need_the_key() {
            let target = $target;
            $crate::scenarios::server_api_routes_need_the_key(&target)
                .await
                .unwrap();
        }

        #[tokio::test]
        async fn server_api_routes_work_with_the_key() {
            let target = $target;
            $crate::scenarios::server_api_routes_work_with_the_key(&target)
                .await
                .unwrap();
        }

        #[tokio::test]
        async fn an_expired_token_closes_the_connection_with_3000() {
            let target = $target;
            $crate::scenarios::an_expired_token_closes_the_connection_with_3000(&target)
                .await
                .unwrap();
        }
    };
}
