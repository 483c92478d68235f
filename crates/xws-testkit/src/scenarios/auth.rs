//! The upgrade is refused before it happens when the token is missing or wrong.

use crate::chat::ChatPeer;
use crate::client::connect_rejected;
use crate::error::ensure_eq;
use crate::{ScenarioError, Target};

/// With `CHAT_TOKEN` set, no token or a wrong one gets HTTP 401 instead of 101; the
/// right one gets a welcome.
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
    ChatPeer::open(target, 0, None).await.map(drop)
}
