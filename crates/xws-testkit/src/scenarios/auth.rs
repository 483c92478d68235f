//! The upgrade is refused before it happens when the token is missing or wrong.

use crate::chat::ChatPeer;
use crate::client::{connect_rejected, post_json};
use crate::error::ensure_eq;
use crate::{ScenarioError, Target};

/// With `CHAT_TOKEN` set, no token or a wrong one gets HTTP 401 instead of 101 (and
/// from `POST /api/broadcast`); the right one gets a welcome.
pub async fn auth_rejects_401(target: &Target) -> Result<(), ScenarioError> {
    let Some(token) = target.token.as_deref() else {
        return Err(ScenarioError::Skipped(
            "the target has no token (server without CHAT_TOKEN)".to_owned(),
        ));
    };
    let wrong = format!("{token}-wrong");
    for (case, given) in [("no token", None), ("wrong token", Some(wrong.as_str()))] {
        let url = target.ws_url_with_token(0, None, given);
        let status = connect_rejected(&url, target.timeout).await?;
        ensure_eq(&format!("HTTP status for {case}"), 401, status)?;
    }
    let base = target.http_urls[0].trim_end_matches('/');
    let body = serde_json::json!({ "event": "auth-check", "data": null });
    for (case, url) in [
        ("no token", format!("{base}/api/broadcast")),
        (
            "wrong token",
            format!(
                "{base}/api/broadcast?{}",
                form_urlencoded::Serializer::new(String::new())
                    .append_pair("token", &wrong)
                    .finish()
            ),
        ),
    ] {
        let response = post_json(&url, &body, target.timeout).await?;
        ensure_eq(
            &format!("broadcast status for {case}"),
            401,
            response.status.as_u16(),
        )?;
    }
    ChatPeer::open(target, 0, None).await.map(drop)
}
