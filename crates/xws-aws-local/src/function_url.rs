//! Lambda function URLs: requests under a path go to one function through
//! `cargo lambda watch`'s function-URL endpoint (`/lambda-url/{name}/…`),
//! and its answer comes back as it is produced, so a function in
//! response-streaming mode (`InvokeMode: RESPONSE_STREAM`) streams to the
//! client, as a CloudFront behaviour in front of the function URL would.

use axum::{
    body::{Body, Bytes},
    http::{HeaderMap, Method, StatusCode, Uri},
    response::{IntoResponse, Response},
};
use std::str::FromStr;

use crate::{Emulator, Stats};

/// Requests whose path starts with `path` go to `function`'s URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionUrl {
    /// The path prefix, e.g. `/api/sse`.
    pub path: String,
    /// The function's name at the Lambda endpoint.
    pub function: String,
}

/// Why a `--function-url` argument is not `PATH=FUNCTION`.
#[derive(Debug, thiserror::Error)]
#[error("expected PATH=FUNCTION (e.g. /api/sse=sse), got {0:?}")]
pub struct BadFunctionUrl(String);

impl FromStr for FunctionUrl {
    type Err = BadFunctionUrl;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.split_once('=') {
            Some((path, function)) if path.starts_with('/') && !function.is_empty() => Ok(Self {
                path: path.to_owned(),
                function: function.to_owned(),
            }),
            _ => Err(BadFunctionUrl(text.to_owned())),
        }
    }
}

impl FunctionUrl {
    /// Whether `path` is this URL's path or under it.
    pub fn serves(&self, path: &str) -> bool {
        path.strip_prefix(self.path.as_str()).is_some_and(|rest| {
            rest.is_empty() || rest.starts_with('/') || self.path.ends_with('/')
        })
    }
}

/// Forwards one request to `url`'s function and streams its answer back.
pub(crate) async fn forward(
    emulator: &Emulator,
    url: &FunctionUrl,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Bytes,
) -> Response {
    Stats::bump(&emulator.stats.http_requests);
    let path_and_query = uri.path_and_query().map_or("/", |p| p.as_str());
    let target = format!(
        "{}/lambda-url/{}{path_and_query}",
        emulator.config.lambda_origin(),
        url.function
    );
    let mut request = emulator.client.request(method.clone(), &target).body(body);
    for (name, value) in headers {
        if name != "host" && name != "content-length" {
            request = request.header(name, value);
        }
    }
    match request.send().await {
        Ok(answer) => {
            let (status, from) = (answer.status(), answer.headers().clone());
            let mut response = Response::new(Body::from_stream(answer.bytes_stream()));
            *response.status_mut() = status;
            let to = response.headers_mut();
            for (name, value) in &from {
                // Hop-by-hop and runtime-API headers stay behind.
                let name_str = name.as_str();
                if name_str != "transfer-encoding"
                    && name_str != "content-length"
                    && !name_str.starts_with("lambda-runtime-")
                {
                    to.append(name, value.clone());
                }
            }
            response
        }
        Err(error) => {
            tracing::error!(%error, %target, "function URL invocation failed");
            (
                StatusCode::BAD_GATEWAY,
                r#"{"message":"Internal Server Error"}"#,
            )
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::FunctionUrl;

    #[test]
    fn parses_and_matches_paths() {
        let url: FunctionUrl = "/api/sse=dashboard-sse".parse().unwrap();
        assert_eq!(url.function, "dashboard-sse");
        assert!(url.serves("/api/sse"));
        assert!(url.serves("/api/sse/x"));
        assert!(!url.serves("/api/ssex"));
        assert!(!url.serves("/api"));
        assert!("api=x".parse::<FunctionUrl>().is_err());
        assert!("/api=".parse::<FunctionUrl>().is_err());
    }
}
