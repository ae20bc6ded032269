//! The errors genwire rejects with: real `Error` objects (stack traces, `instanceof
//! Error`) named `GenwireError`, with a `kind` a UI can switch on.

use js_sys::{Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use gloo_net::http::Headers;

use super::js::{get, set};

fn make(kind: &str, message: &str) -> js_sys::Error {
    let e = js_sys::Error::new(message);
    e.set_name("GenwireError");
    set(&e, "kind", &JsValue::from_str(kind));
    set(&e, "retryable", &JsValue::FALSE);
    e
}

pub fn config(message: &str) -> JsValue {
    make("config", message).into()
}

pub fn aborted(reason: JsValue) -> JsValue {
    let e = make("aborted", "the call was aborted");
    set(&e, "cause", &reason);
    e.into()
}

pub fn timed_out(ms: f64) -> JsValue {
    let e = make("timeout", &format!("no result within {ms} ms; the job was cancelled"));
    set(&e, "timeoutMs", &JsValue::from_f64(ms));
    e.into()
}

/// fetch itself rejected: offline, DNS, CORS, connection reset. Worth another try.
pub fn network(cause: JsValue) -> JsValue {
    let detail = cause.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())).unwrap_or_default();
    let e = make("network", &format!("the request did not reach the proxy ({detail})"));
    set(&e, "retryable", &JsValue::TRUE);
    set(&e, "cause", &cause);
    e.into()
}

/// A 2xx answer that is not what the protocol promises.
pub fn protocol(message: &str, body: &JsValue) -> JsValue {
    let e = make("protocol", message);
    set(&e, "body", body);
    e.into()
}

/// A non-2xx answer. `body` is the parsed JSON when it was JSON, else the text.
pub fn api(status: u16, headers: &Headers, body: JsValue, retryable: bool) -> JsValue {
    let e = make("api", &api_message(status, &body));
    set(&e, "status", &JsValue::from(status));
    set(&e, "body", &body);
    set(&e, "retryable", &JsValue::from_bool(retryable));
    let header = |n: &str| headers.get(n);
    if let Some(id) = header("x-fal-request-id") {
        set(&e, "requestId", &JsValue::from_str(&id));
    }
    let error_type = header("x-fal-error-type").or_else(|| get(&body, "error_type").as_string());
    if let Some(t) = error_type {
        set(&e, "errorType", &JsValue::from_str(&t));
    }
    e.into()
}

/// The best sentence the body offers: `detail` (string or first item's `msg`), then `message`.
fn api_message(status: u16, body: &JsValue) -> String {
    let detail = get(body, "detail");
    let from_body = detail
        .as_string()
        .or_else(|| js_sys::Array::is_array(&detail).then(|| get(&Reflect::get_u32(&detail, 0).unwrap_or_default(), "msg").as_string()).flatten())
        .or_else(|| get(body, "message").as_string());
    match from_body {
        Some(m) if !m.trim().is_empty() => m,
        _ => format!("the server answered HTTP {status}"),
    }
}

pub fn is_object(v: &JsValue) -> bool {
    v.is_object() && !v.is_null() && !js_sys::Array::is_array(v) && v.dyn_ref::<Object>().is_some()
}
