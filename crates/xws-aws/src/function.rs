//! Helpers for the functions around the WebSocket one (an HTTP API route,
//! a scheduled rule): logging and the answers every example gives.
//! Feature `http`.

use lambda_http::{Body, Response, http::StatusCode};
use serde_json::{Value, json};

/// Logs to CloudWatch (stdout) at `RUST_LOG` or `info`, without the time
/// (CloudWatch adds its own).
///
/// `RUST_LOG` is a list of `target=level` directives and a default level
/// (`info`, `xws_aws=debug,warn`): tracing-subscriber's
/// [`Targets`](tracing_subscriber::filter::Targets). Its `EnvFilter` also
/// reads span and field filters (`[span{field=value}]=debug`), parsed with
/// regular expressions; those were about 0.2 MB of every bootstrap
/// (BENCHMARKS.md, "Deploy sizes"). A `RUST_LOG` that is not a list of
/// targets logs at `info`, as an unreadable one did before.
pub fn init_tracing() {
    use tracing_subscriber::{layer::SubscriberExt, util::SubscriberInitExt};

    tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().without_time())
        .with(log_filter(std::env::var("RUST_LOG").ok().as_deref()))
        .init();
}

/// What [`init_tracing`] logs for this `RUST_LOG`.
fn log_filter(rust_log: Option<&str>) -> tracing_subscriber::filter::Targets {
    use tracing_subscriber::filter::Targets;

    rust_log
        .and_then(|directives| directives.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(tracing::Level::INFO))
}

/// A response with `content_type` and `body`.
pub fn response(status: StatusCode, content_type: &str, body: impl Into<Body>) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(body.into())
        .unwrap_or_else(|_| Response::new(Body::Empty))
}

/// `value` as a JSON response.
pub fn json_response(status: StatusCode, value: &Value) -> Response<Body> {
    response(status, "application/json", value.to_string())
}

/// A static page or script (`GET /`, `GET /xws.js`).
pub fn static_response(content_type: &str, body: &'static str) -> Response<Body> {
    response(StatusCode::OK, content_type, body)
}

/// The variable holding the URL a page opens its WebSocket at: the
/// WebSocket API's stage URL (`wss://{api}.execute-api.{region}.amazonaws.com/{stage}`,
/// the template's `WebSocketUrl` output). The HTTP API that serves the page
/// is another host, so the page's relative default cannot reach it.
pub const WEBSOCKET_URL_VAR: &str = "XWS_WEBSOCKET_URL";

/// An HTML page (`GET /`) whose `<meta name="xws-websocket" content="…">`
/// holds [`WEBSOCKET_URL_VAR`] when it is set: the example pages read their
/// WebSocket URL there, relative (`/api/ws`) by default.
pub fn page_response(html: &'static str) -> Response<Body> {
    match std::env::var(WEBSOCKET_URL_VAR) {
        Ok(url) if !url.is_empty() => response(
            StatusCode::OK,
            "text/html; charset=utf-8",
            with_websocket_url(html, &url),
        ),
        _ => static_response("text/html; charset=utf-8", html),
    }
}

/// `html` with the content of its `<meta name="xws-websocket">` set to `url`
/// (escaped for an attribute); unchanged if it has no such tag.
pub fn with_websocket_url(html: &str, url: &str) -> String {
    const TAG: &str = r#"<meta name="xws-websocket" content=""#;
    let Some(start) = html.find(TAG).map(|at| at + TAG.len()) else {
        return html.to_owned();
    };
    let Some(end) = html[start..].find('"').map(|len| start + len) else {
        return html.to_owned();
    };
    let escaped = url
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    format!("{}{escaped}{}", &html[..start], &html[end..])
}

/// `{"error": message}` with `status`.
pub fn error_response(status: StatusCode, message: &str) -> Response<Body> {
    json_response(status, &json!({ "error": message }))
}

/// 501 for `GET /api/sse`: an API Gateway HTTP API buffers whole responses,
/// so an event stream needs Lambda response streaming (a function URL),
/// which these builds do not use. Names the WebSocket path to use instead.
pub fn sse_not_available(ws_path: &str) -> Response<Body> {
    let message = format!(
        "SSE is not available on AWS API Gateway (it buffers whole responses); \
         use the WebSocket at {ws_path}"
    );
    error_response(StatusCode::NOT_IMPLEMENTED, &message)
}

#[cfg(test)]
mod tests {
    use super::{log_filter, with_websocket_url};
    use tracing::Level;

    const PAGE: &str = r#"<head><meta name="xws-websocket" content="/api/ws"></head>"#;

    #[test]
    fn the_meta_gets_the_websocket_api_url() {
        assert_eq!(
            with_websocket_url(PAGE, "wss://abc.execute-api.eu-west-1.amazonaws.com/prod"),
            r#"<head><meta name="xws-websocket" content="wss://abc.execute-api.eu-west-1.amazonaws.com/prod"></head>"#
        );
    }

    #[test]
    fn the_url_cannot_break_out_of_the_attribute() {
        let html = with_websocket_url(PAGE, r#"wss://h/p?a=1&b="><script>"#);
        assert!(html.contains(r#"content="wss://h/p?a=1&amp;b=&quot;&gt;&lt;script&gt;""#));
    }

    #[test]
    fn a_page_without_the_meta_is_unchanged() {
        assert_eq!(with_websocket_url("<p>hi</p>", "wss://h"), "<p>hi</p>");
    }

    #[test]
    fn rust_log_sets_the_default_and_per_target_levels() {
        let unset = log_filter(None);
        assert!(unset.would_enable("xws_aws", &Level::INFO));
        assert!(!unset.would_enable("xws_aws", &Level::DEBUG));

        let per_target = log_filter(Some("xws_aws=debug,warn"));
        assert!(per_target.would_enable("xws_aws::backend", &Level::DEBUG));
        assert!(!per_target.would_enable("aws_smithy_runtime", &Level::INFO));
        assert!(per_target.would_enable("aws_smithy_runtime", &Level::WARN));

        // Only targets: anything else logs at the default, `info`.
        let unreadable = log_filter(Some("[span{field=1}]=trace"));
        assert!(unreadable.would_enable("xws_aws", &Level::INFO));
        assert!(!unreadable.would_enable("xws_aws", &Level::TRACE));
    }
}
