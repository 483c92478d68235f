//! The HTTP routes the user's object answers (the Worker forwards them),
//! with the same answers as on every target.

use notifications::store::contract;
use notifications::{LIST_LIMIT, NewNotification, NotificationStore};
use worker::{Date, Request, Response};
use xws::Hub;

use crate::ObjectStore;

/// `POST /api/notify?user=U` with `{"title","body"}`.
pub const NOTIFY: &str = "/api/notify";
/// `GET /api/notifications?user=U`.
pub const LIST: &str = "/api/notifications";
/// `POST /api/mark-read?user=U&id=ID`.
pub const MARK_READ: &str = "/api/mark-read";
/// `GET /api/__contract`: the store contract, for the tests.
pub const CONTRACT: &str = "/api/__contract";

/// `{"error":…}` with `status`.
pub fn json_error(error: &str, status: u16) -> worker::Result<Response> {
    Ok(Response::from_json(&serde_json::json!({ "error": error }))?.with_status(status))
}

fn failed(error: xws::BoxError) -> worker::Result<Response> {
    worker::console_error!("notification route failed: {error}");
    json_error(&error.to_string(), 500)
}

/// Stores the notification and delivers it to the user's connections: 201
/// with `{"notification":…,"delivered":N}`.
pub async fn notify(
    hub: &Hub,
    store: &ObjectStore,
    mut request: Request,
) -> worker::Result<Response> {
    let token = xws_cloudflare::query_param(&request, "token")?;
    // The Worker checked the token before forwarding; the length is
    // checked before the body is read.
    if xws_cloudflare::declared_length(&request)? > notifications::BODY_LIMIT {
        let invalid = notifications::InvalidNotification::TooLarge;
        return Ok(Response::from_json(&invalid.json())?.with_status(invalid.status()));
    }
    let body = request.bytes().await?;
    let (user, new) = match NewNotification::parse(token.as_deref(), &body) {
        Ok(parsed) => parsed,
        Err(invalid) => {
            return Ok(Response::from_json(&invalid.json())?.with_status(invalid.status()));
        }
    };
    let now = Date::now().as_millis();
    match notifications::send_notification(hub, store, &user, new, new_id(now), now).await {
        Ok(sent) => Ok(Response::from_json(&sent)?.with_status(201)),
        Err(error) => failed(error),
    }
}

/// The user's latest notifications, newest first.
pub async fn list(store: &ObjectStore, request: &Request) -> worker::Result<Response> {
    let token = xws_cloudflare::query_param(request, "token")?;
    let user = match per_user::user_from_token(token.as_deref()) {
        Ok(user) => user,
        Err(error) => return json_error(&error.to_string(), error.status().as_u16()),
    };
    match store.list(&user, LIST_LIMIT).await {
        Ok(notifications) => {
            Response::from_json(&serde_json::json!({ "notifications": notifications }))
        }
        Err(error) => failed(error),
    }
}

/// Marks one notification read; every tab of the user hears of it.
pub async fn mark_read(
    hub: &Hub,
    store: &ObjectStore,
    request: &Request,
) -> worker::Result<Response> {
    let token = xws_cloudflare::query_param(request, "token")?;
    let user = match per_user::user_from_token(token.as_deref()) {
        Ok(user) => user,
        Err(error) => return json_error(&error.to_string(), error.status().as_u16()),
    };
    let Some(id) = xws_cloudflare::query_param(request, "id")?.filter(|id| !id.is_empty()) else {
        return json_error("missing ?id=", 400);
    };
    match notifications::mark_read(hub, store, &user, &id).await {
        Ok(true) => Response::from_json(&serde_json::json!({ "id": id, "read": true })),
        Ok(false) => json_error(&format!("no notification {id:?}"), 404),
        Err(error) => failed(error),
    }
}

/// Runs the store contract on this object's storage: 200, or 500 with the
/// broken promise.
pub async fn contract(store: &ObjectStore) -> worker::Result<Response> {
    match contract::check(store).await {
        Ok(()) => Response::ok("the store keeps the contract"),
        Err(violation) => Response::error(violation.to_string(), 500),
    }
}

/// Ordered by time, unique: the millisecond and a random suffix.
fn new_id(now_ms: u64) -> String {
    let random = (worker::js_sys::Math::random() * f64::from(u32::MAX)) as u32;
    format!("n{now_ms:013}-{random:08x}")
}
