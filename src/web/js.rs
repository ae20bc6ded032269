//! Reading caller-supplied JS objects without trusting their shape.

use js_sys::{Function, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::AbortSignal;

use super::error;

pub fn get(obj: &JsValue, key: &str) -> JsValue {
    if obj.is_object() {
        Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
    } else {
        JsValue::UNDEFINED
    }
}

/// `obj[key] = value`; web APIs' setters (`onopen`, `binaryType`, …) too: one import for all of them.
pub fn set(obj: &JsValue, key: &str, value: &JsValue) {
    let _ = Reflect::set(obj, &JsValue::from_str(key), value);
}

fn wrong(key: &str, expected: &str) -> JsValue {
    error::config(&format!("option '{key}' must be {expected}"))
}

pub fn opt_str(obj: &JsValue, key: &str) -> Result<Option<String>, JsValue> {
    let v = get(obj, key);
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    v.as_string().map(Some).ok_or_else(|| wrong(key, "a string"))
}

pub fn opt_f64(obj: &JsValue, key: &str, min: f64) -> Result<Option<f64>, JsValue> {
    let v = get(obj, key);
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    match v.as_f64() {
        Some(n) if n.is_finite() && n >= min => Ok(Some(n)),
        _ => Err(wrong(key, &format!("a number of at least {}", crate::proto::num::fmt(min)))),
    }
}

pub fn opt_bool(obj: &JsValue, key: &str) -> Result<Option<bool>, JsValue> {
    let v = get(obj, key);
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    v.as_bool().map(Some).ok_or_else(|| wrong(key, "true or false"))
}

pub fn opt_fn(obj: &JsValue, key: &str) -> Result<Option<Function>, JsValue> {
    let v = get(obj, key);
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    v.dyn_into::<Function>().map(Some).map_err(|_| wrong(key, "a function"))
}

pub fn opt_signal(obj: &JsValue, key: &str) -> Result<Option<AbortSignal>, JsValue> {
    let v = get(obj, key);
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    v.dyn_into::<AbortSignal>().map(Some).map_err(|_| wrong(key, "an AbortSignal"))
}

/// `signal.aborted`, read like any property (no import of its own).
pub fn aborted(signal: &AbortSignal) -> bool {
    get(signal, "aborted").as_bool() == Some(true)
}

/// `signal.reason`.
pub fn reason(signal: &AbortSignal) -> JsValue {
    get(signal, "reason")
}

/// `obj[name](arg?)`: a web API's method called by name, so that it needs no import (and JS
/// glue) of its own. `Err` is what it threw, or undefined when there is no such method.
pub fn call(obj: &JsValue, name: &str, arg: Option<&JsValue>) -> Result<JsValue, JsValue> {
    let f = get(obj, name);
    if !f.is_function() {
        return Err(JsValue::UNDEFINED);
    }
    let f: &Function = f.unchecked_ref();
    match arg {
        Some(a) => f.call1(obj, a),
        None => f.call0(obj),
    }
}

/// `controller.abort()`.
pub fn abort(controller: &web_sys::AbortController) {
    let _ = call(controller, "abort", None);
}

/// `controller.signal`.
pub fn signal_of(controller: &web_sys::AbortController) -> AbortSignal {
    get(controller, "signal").unchecked_into()
}

pub fn now() -> f64 {
    js_sys::Date::now()
}

/// An object, not null, not an array.
pub fn is_plain_object(v: &JsValue) -> bool {
    v.is_object() && !js_sys::Array::is_array(v)
}
