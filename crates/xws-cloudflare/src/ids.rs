//! Unique names from the runtime's CSPRNG, and its clock.

use js_sys::{Function, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use xws::Error;

use crate::error::RuntimeError;

/// A random UUID from `crypto.randomUUID()`.
pub fn random_uuid() -> Result<String, Error> {
    let crypto = Reflect::get(&js_sys::global(), &JsValue::from_str("crypto"))
        .map_err(|_| RuntimeError::NoRandomUuid)?;
    Reflect::get(&crypto, &JsValue::from_str("randomUUID"))
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok())
        .and_then(|random_uuid| random_uuid.call0(&crypto).ok())
        .and_then(|v| v.as_string())
        .ok_or_else(|| RuntimeError::NoRandomUuid.into())
}

/// Milliseconds since the Unix epoch, from `Date.now()`: the rate
/// limiter's clock. Inside a Worker it advances only with I/O, which is
/// enough for a limit on incoming messages (each arrives as I/O).
pub fn now_ms() -> u64 {
    // Date.now() is a non-negative integer well inside f64's exact range.
    js_sys::Date::now() as u64
}
