//! The errors genwire rejects with: real `Error` objects (stack traces, `instanceof
//! Error`) named `GenwireError`, carrying the decoded [`ErrorInfo`] as fields.

use wasm_bindgen::{JsCast, JsValue};

use super::js::{get, set};
use crate::proto::error::{decode_thrown, Category, ErrorInfo, Kind};

/// Builds the JS error. `body` is the raw answer (parsed JSON or text), kept for callers that need more.
pub fn to_js(info: &ErrorInfo, body: Option<&JsValue>, cause: Option<&JsValue>) -> JsValue {
    let e = js_sys::Error::new(&info.message);
    set(&e, "name", &JsValue::from_str("GenwireError"));
    super::conv::set_error_fields(&e, info);
    if let Some(b) = body {
        set(&e, "body", b);
    }
    if let Some(c) = cause {
        set(&e, "cause", c);
    }
    e.into()
}

pub fn config(message: &str) -> JsValue {
    to_js(&ErrorInfo::local(Kind::Config, Category::Config, message), None, None)
}

pub fn aborted(reason: JsValue) -> JsValue {
    to_js(&ErrorInfo::local(Kind::Aborted, Category::Aborted, "The request was cancelled."), None, Some(&reason))
}

pub fn timed_out(ms: f64) -> JsValue {
    let e = to_js(&ErrorInfo::local(Kind::Timeout, Category::Timeout, format!("No result within {} ms; the job was cancelled.", crate::proto::num::fmt(ms))), None, None);
    set(e.unchecked_ref(), "timeoutMs", &JsValue::from_f64(ms));
    e
}

/// A 2xx answer that is not what the protocol promises.
pub fn protocol(message: &str, body: &JsValue) -> JsValue {
    to_js(&ErrorInfo::local(Kind::Protocol, Category::Unknown, message), Some(body), None)
}

pub fn circuit_open(endpoint: &str, reopens_at: f64, now: f64) -> JsValue {
    let mut info = ErrorInfo::local(
        Kind::CircuitOpen,
        Category::CircuitOpen,
        format!("Requests to {endpoint} are paused after repeated failures; retrying in {} s.", crate::proto::num::fmt(((reopens_at - now) / 1000.0).ceil().max(1.0))),
    );
    info.retryable = true;
    info.retry_after_ms = Some((reopens_at - now).max(0.0));
    let e = to_js(&info, None, None);
    set(e.unchecked_ref(), "reopensAt", &JsValue::from_f64(reopens_at));
    set(e.unchecked_ref(), "endpoint", &JsValue::from_str(endpoint));
    e
}

/// A rejected fetch, decoded by its name and message.
pub fn thrown(cause: &JsValue) -> (ErrorInfo, JsValue) {
    let name = get(cause, "name").as_string().unwrap_or_default();
    let message = get(cause, "message").as_string().or_else(|| cause.as_string()).unwrap_or_default();
    let info = decode_thrown(&name, &message);
    let js = to_js(&info, None, Some(cause));
    (info, js)
}

/// The `kind` of a genwire error, if it is one.
pub fn kind_of(e: &JsValue) -> Option<String> {
    (get(e, "name").as_string().as_deref() == Some("GenwireError")).then(|| get(e, "kind").as_string()).flatten()
}
