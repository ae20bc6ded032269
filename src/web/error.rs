//! The errors genwire rejects with: real `Error` objects (stack traces, `instanceof Error`) named
//! `GenwireError`, carrying the core's [`ErrorInfo`] as fields; and the reading of options, whose
//! mistakes are errors of kind `config`.

use js_sys::Function;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::AbortSignal;

use super::js::{get, present, set};
use crate::proto::endpoint::EndpointId;
use crate::proto::error::{decode_thrown, Category, ErrorInfo, Kind};
use crate::proto::options::{wrong, OptionError};
use crate::proto::shapes;
use crate::proto::value::Value;

/// Builds the JS error. `body` is the raw answer (parsed JSON or text), kept for callers that need more.
pub fn to_js(info: &ErrorInfo, body: Option<&JsValue>, cause: Option<&JsValue>) -> JsValue {
    let e: JsValue = js_sys::Error::new(&info.message).into();
    set(&e, "name", &JsValue::from_str("GenwireError"));
    super::conv::set_fields(&e, &shapes::error(info));
    if let Some(b) = body {
        set(&e, "body", b);
    }
    if let Some(c) = cause {
        set(&e, "cause", c);
    }
    e
}

/// The error with fields of its own kind (`reopensAt`, `timeoutMs`, …).
pub fn with(info: &ErrorInfo, extra: &[(String, Value)]) -> JsValue {
    let e = to_js(info, None, None);
    super::conv::set_fields(&e, extra);
    e
}

pub fn config(message: &str) -> JsValue {
    to_js(&ErrorInfo::local(Kind::Config, Category::Config, message), None, None)
}

pub fn option(e: OptionError) -> JsValue {
    config(&e.0)
}

pub fn aborted(reason: JsValue) -> JsValue {
    to_js(&ErrorInfo::local(Kind::Aborted, Category::Aborted, "The request was cancelled."), None, Some(&reason))
}

/// A 2xx answer that is not what the protocol promises.
pub fn protocol(message: &str, body: &JsValue) -> JsValue {
    to_js(&ErrorInfo::local(Kind::Protocol, Category::Unknown, message), Some(body), None)
}

/// A rejected fetch, decoded by its name and message.
pub fn thrown(cause: &JsValue) -> (ErrorInfo, JsValue) {
    let name = get(cause, "name").as_string().unwrap_or_default();
    let message = get(cause, "message").as_string().or_else(|| cause.as_string()).unwrap_or_default();
    let info = decode_thrown(&name, &message);
    let js = to_js(&info, None, Some(cause));
    (info, js)
}

pub fn endpoint(id: &str) -> Result<EndpointId, JsValue> {
    EndpointId::parse(id).map_err(|e| config(&e.to_string()))
}

/// The plain-data options of `js` for the core (`conv::options`), or a config error.
pub fn options(js: &JsValue, skip: &[&str]) -> Result<Value, JsValue> {
    super::conv::options(js, skip).map_err(|e| config(&e))
}

/// A function-valued option (callbacks stay on this side).
pub fn opt_fn(obj: &JsValue, key: &str) -> Result<Option<Function>, JsValue> {
    present(obj, key).map(|v| v.dyn_into::<Function>().map_err(|_| option(wrong(key, "a function")))).transpose()
}

pub fn opt_signal(obj: &JsValue, key: &str) -> Result<Option<AbortSignal>, JsValue> {
    present(obj, key).map(|v| v.dyn_into::<AbortSignal>().map_err(|_| option(wrong(key, "an AbortSignal")))).transpose()
}

/// `Err(aborted)` when the caller's signal already fired.
pub fn check(signal: Option<&AbortSignal>) -> Result<(), JsValue> {
    match signal.filter(|s| super::js::aborted(s)) {
        Some(s) => Err(aborted(super::js::reason(Some(s)))),
        None => Ok(()),
    }
}
