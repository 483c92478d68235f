//! Unique names from the runtime's CSPRNG.

use js_sys::{Function, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use xws::Error;

/// A random UUID from `crypto.randomUUID()`.
pub fn random_uuid() -> Result<String, Error> {
    let crypto = Reflect::get(&js_sys::global(), &JsValue::from_str("crypto"))
        .map_err(|_| Error::transport("globalThis.crypto is missing"))?;
    let random_uuid = Reflect::get(&crypto, &JsValue::from_str("randomUUID"))
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok())
        .ok_or_else(|| Error::transport("crypto.randomUUID is missing"))?;
    random_uuid
        .call0(&crypto)
        .ok()
        .and_then(|v| v.as_string())
        .ok_or_else(|| Error::transport("crypto.randomUUID failed"))
}

/// Milliseconds since the Unix epoch, from `Date.now()`.
pub fn now_ms() -> u64 {
    // Date.now() is a non-negative integer well inside f64's exact range.
    js_sys::Date::now() as u64
}
