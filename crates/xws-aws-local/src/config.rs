//! What the emulator forwards where, and the limits it enforces.

use std::time::Duration;

use crate::{FunctionUrl, Schedule, WsRoutes};

/// The API Gateway limit on one message, in both directions: 128 KB.
pub const MAX_MESSAGE_BYTES: usize = 128 * 1024;

/// Emulator settings.
#[derive(Clone, Debug)]
pub struct EmulatorConfig {
    /// Invoke URL of the WebSocket function, e.g.
    /// `http://127.0.0.1:9000/2015-03-31/functions/ws/invocations`.
    pub ws_function: String,
    /// Invoke URL of the HTTP function (plain requests), if any.
    pub http_function: Option<String>,
    /// The path WebSocket upgrades are accepted on.
    pub ws_path: String,
    /// The stage name put in events.
    pub stage: String,
    /// Connections without a message in either direction for this long are
    /// closed with 1001 (API Gateway: 10 minutes).
    pub idle_timeout: Duration,
    /// Largest message in either direction.
    pub max_message_bytes: usize,
    /// Functions invoked on a schedule, as EventBridge rules would.
    pub schedules: Vec<Schedule>,
    /// Paths served by function URLs (their answers streamed through).
    pub function_urls: Vec<FunctionUrl>,
    /// The WebSocket API's `MOCK` routes, answered without the function
    /// ([`WsRoutes::from_template`]); none by default.
    pub routes: WsRoutes,
}

impl EmulatorConfig {
    /// Settings for `ws_function` with API Gateway's limits.
    pub fn new(ws_function: impl Into<String>) -> Self {
        Self {
            ws_function: ws_function.into(),
            http_function: None,
            ws_path: "/".into(),
            stage: "local".into(),
            idle_timeout: Duration::from_secs(600),
            max_message_bytes: MAX_MESSAGE_BYTES,
            schedules: Vec::new(),
            function_urls: Vec::new(),
            routes: WsRoutes::default(),
        }
    }

    /// The origin (`http://host:port`) of the WebSocket function's invoke
    /// URL: the Lambda endpoint that async invocations are forwarded to.
    pub fn lambda_origin(&self) -> &str {
        origin(&self.ws_function)
    }
}

fn origin(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find('/') {
        Some(slash) => &url[..after_scheme + slash],
        None => url,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn origin_drops_the_path() {
        assert_eq!(
            super::origin("http://127.0.0.1:9000/2015-03-31/functions/ws/invocations"),
            "http://127.0.0.1:9000"
        );
        assert_eq!(super::origin("http://h:1"), "http://h:1");
    }
}
