//! A project's `public/` directory, which Vercel serves as static files at
//! their paths (`public/stream.html` at `/stream.html`), beside the
//! functions.

use std::path::{Component, Path, PathBuf};

use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The file under `dir` that `path` names, if `path` stays inside it.
fn file(dir: &Path, path: &str) -> Option<PathBuf> {
    let relative = Path::new(path.trim_start_matches('/'));
    // No `..`, no absolute part: a request never leaves the directory.
    if !relative
        .components()
        .all(|part| matches!(part, Component::Normal(_)))
    {
        return None;
    }
    let mut file = dir.join(relative);
    if path.ends_with('/') || path.is_empty() {
        file.push("index.html");
    }
    Some(file)
}

fn content_type(file: &Path) -> &'static str {
    match file.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    }
}

/// The static answer to `method path` from `dir`: `None` when no file there
/// serves it (the caller answers Vercel's 404).
pub(crate) async fn serve(dir: &Path, method: &Method, path: &str) -> Option<Response> {
    if method != Method::GET && method != Method::HEAD {
        return None;
    }
    let file = file(dir, path)?;
    let bytes = tokio::fs::read(&file).await.ok()?;
    let body = if method == Method::HEAD {
        Vec::new()
    } else {
        bytes
    };
    Some(
        (
            StatusCode::OK,
            [(header::CONTENT_TYPE, content_type(&file))],
            body,
        )
            .into_response(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_the_directory() {
        let dir = Path::new("/srv/public");
        assert_eq!(file(dir, "/stream.html"), Some(dir.join("stream.html")));
        assert_eq!(file(dir, "/"), Some(dir.join("index.html")));
        assert_eq!(file(dir, "/a/"), Some(dir.join("a/index.html")));
        assert_eq!(file(dir, "/../etc/passwd"), None);
        assert_eq!(file(dir, "/a/../../x"), None);
    }
}
