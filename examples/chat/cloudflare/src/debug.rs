//! What the worker does differently when the `XWS_DEBUG` var is `1` (as
//! under the `cloudflare` step of `cargo xtask test`): lower limits read from vars, so the
//! limit tests are fast, and a message that makes the handler panic, so a
//! test can show what a panic does to the object, and a route that checks
//! the stream store contract on the object's storage. Without `XWS_DEBUG`
//! none of this exists.

use std::time::Duration;

use chat::{ChatContext, ChatHandler};
use worker::{Env, Response};
use xws::BoxFuture;
use xws::caps::Needs;
use xws::stream::contract::Clock;
use xws::{
    CloseFrame, Error, Handler, HookResult, Limits, Message, Peer, RateLimit, RequestInfo, Topic,
    Upgrade,
};

/// The text frame that panics in the `message` hook when debugging.
pub const PANIC_MESSAGE: &str = r#"{"type":"__panic"}"#;

/// Whether the `XWS_DEBUG` var is `1`.
pub fn enabled(env: &Env) -> bool {
    env.var("XWS_DEBUG").is_ok_and(|v| v.to_string() == "1")
}

/// The default limits with those the vars `XWS_MAX_CONNECTIONS_PER_IP`
/// and `XWS_MAX_TOPICS_PER_PEER` (counts) set, and when debugging,
/// `XWS_MAX_CONNECTIONS` (a count) and `XWS_RATE_LIMIT`
/// (`per_second/burst/tolerance`).
pub fn limits(env: &Env) -> Limits {
    let mut limits = Limits::default();
    let var = |name: &str| env.var(name).ok().map(|v| v.to_string());
    if let Some(max) = var("XWS_MAX_CONNECTIONS_PER_IP").and_then(|v| v.parse().ok()) {
        limits.max_connections_per_ip = Some(max);
    }
    if let Some(max) = var("XWS_MAX_TOPICS_PER_PEER").and_then(|v| v.parse().ok()) {
        limits.max_topics_per_peer = max;
    }
    if !enabled(env) {
        return limits;
    }
    if let Some(max) = var("XWS_MAX_CONNECTIONS").and_then(|v| v.parse().ok()) {
        limits.max_connections = max;
    }
    if let Some(rate) = var("XWS_RATE_LIMIT").and_then(|v| parse_rate(&v)) {
        limits.rate = Some(rate);
    }
    limits
}

/// `per_second/burst/tolerance`, as in `10/200/5`.
fn parse_rate(text: &str) -> Option<RateLimit> {
    let mut numbers = text.split('/').map(|part| part.trim().parse::<u32>().ok());
    let rate = RateLimit {
        messages_per_second: numbers.next()??,
        burst: numbers.next()??,
        tolerance: numbers.next()??,
    };
    numbers.next().is_none().then_some(rate)
}

/// The chat handler, which panics on [`PANIC_MESSAGE`] when `panics` is set.
pub struct DebugChat {
    chat: ChatHandler,
    panics: bool,
}

impl DebugChat {
    /// Wraps `chat`; only a debugging worker sets `panics`.
    pub fn new(chat: ChatHandler, panics: bool) -> Self {
        Self { chat, panics }
    }

    /// The wrapped chat handler.
    pub fn chat(&self) -> &ChatHandler {
        &self.chat
    }
}

impl Handler for DebugChat {
    type Context = ChatContext;
    const NEEDS: Needs = ChatHandler::NEEDS;

    async fn upgrade(&self, request: &RequestInfo) -> Upgrade<ChatContext> {
        self.chat.upgrade(request).await
    }

    async fn open(&self, peer: &Peer<ChatContext>) -> HookResult {
        self.chat.open(peer).await
    }

    async fn message(&self, peer: &Peer<ChatContext>, message: Message) -> HookResult {
        if self.panics && message.text().is_ok_and(|text| text == PANIC_MESSAGE) {
            panic!("xws chat: the test asked the message hook to panic");
        }
        self.chat.message(peer, message).await
    }

    async fn close(&self, peer: &Peer<ChatContext>, frame: CloseFrame) {
        self.chat.close(peer, frame).await
    }

    async fn error(&self, peer: &Peer<ChatContext>, error: &Error) {
        self.chat.error(peer, error).await
    }

    fn authorize_subscribe(&self, peer: &Peer<ChatContext>, topic: &Topic) -> bool {
        self.chat.authorize_subscribe(peer, topic)
    }

    fn authorize_publish(&self, peer: &Peer<ChatContext>, topic: &Topic) -> bool {
        self.chat.authorize_publish(peer, topic)
    }

    fn kept_request(&self, request: &RequestInfo) -> RequestInfo {
        self.chat.kept_request(request)
    }
}

/// `GET /api/__contract` when debugging: runs the stream store contract
/// (`xws::stream::contract::check`) on the object's SQLite storage, under
/// the real runtime, in topics of their own. 200 when it holds, 500 with
/// the broken promise otherwise.
pub async fn contract(storage: &worker::Storage) -> worker::Result<Response> {
    let store = xws_cloudflare::SqlStore::new(storage.sql())
        .map_err(|error| worker::Error::RustError(error.to_string()))?;
    let prefix = format!("contract-{}", WorkerClock.now_ms());
    match xws::stream::contract::check(&store, &WorkerClock, &prefix).await {
        Ok(()) => Response::ok(format!(
            "the contract holds; {} rows written",
            store.rows_written()
        )),
        Err(violation) => Response::error(violation.to_string(), 500),
    }
}

/// The runtime's clock (it advances with I/O, which a timer is).
struct WorkerClock;

impl Clock for WorkerClock {
    fn now_ms(&self) -> u64 {
        worker::Date::now().as_millis()
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'_, ()> {
        Box::pin(worker::Delay::from(duration))
    }
}
