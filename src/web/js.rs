//! Reading caller-supplied JS objects without trusting their shape; the clocks; promises.

use js_sys::{Function, Reflect};
use wasm_bindgen::prelude::*;
use web_sys::AbortSignal;

use crate::proto::time::{Instant, Now, Wall};

#[wasm_bindgen]
extern "C" {
    /// The monotonic clock of every machine: never stepped by the OS.
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
}

pub fn now() -> Instant {
    Instant::at(performance_now())
}

/// Both clocks at once: deadlines on the monotonic one, epochs (shown to people, HTTP dates) on the wall one.
pub fn clock() -> Now {
    Now { mono: now(), wall: Wall(js_sys::Date::now()) }
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_namespace = Object, js_name = entries)]
    fn object_entries(v: &JsValue) -> Result<js_sys::Array, JsValue>;
    #[wasm_bindgen(catch, js_namespace = Array, js_name = isArray)]
    fn array_is_array(v: &JsValue) -> Result<bool, JsValue>;
}

// Reading a caller's value. Each of these can run the caller's code (a getter, a Proxy's trap),
// so each hands back what it threw instead of letting it unwind through the wasm, which would
// leave a `RefCell` borrowed and the instance unusable.

/// `Object.entries(v)`.
pub fn entries(v: &JsValue) -> Result<Vec<(String, JsValue)>, JsValue> {
    let pairs = object_entries(v)?;
    Ok(pairs.iter().map(|p| p.unchecked_into::<js_sys::Array>()).map(|p| (p.get(0).as_string().unwrap_or_default(), p.get(1))).collect())
}

/// `Array.isArray(v)` (a revoked Proxy throws).
pub fn is_array(v: &JsValue) -> Result<bool, JsValue> {
    array_is_array(v)
}

/// The first `max` items of an array, read one by one.
pub fn items(v: &JsValue, max: usize) -> Result<Vec<JsValue>, JsValue> {
    let len = Reflect::get(v, &JsValue::from_str("length"))?.as_f64().unwrap_or(0.0);
    let n = if len.is_finite() && len > 0.0 { (len as usize).min(max) } else { 0 };
    (0..n as u32).map(|i| Reflect::get_u32(v, i)).collect()
}

/// `obj[key]`, or what reading it threw.
pub fn try_get(obj: &JsValue, key: &str) -> Result<JsValue, JsValue> {
    if obj.is_object() || obj.is_function() {
        Reflect::get(obj, &JsValue::from_str(key))
    } else {
        Ok(JsValue::UNDEFINED)
    }
}

/// `Object.getPrototypeOf(v)`.
pub fn proto_of(v: &JsValue) -> Result<JsValue, JsValue> {
    Reflect::get_prototype_of(v).map(Into::into)
}

/// `key in v`.
pub fn has(v: &JsValue, key: &JsValue) -> Result<bool, JsValue> {
    Reflect::has(v, key)
}

/// A copy of the bytes of a buffer or view (`new Uint8Array(v)`).
pub fn bytes(v: &JsValue) -> Result<Vec<u8>, JsValue> {
    let ctor: Function = get(&js_sys::global(), "Uint8Array").unchecked_into();
    let copy = Reflect::construct(&ctor, &js_sys::Array::of1(v))?;
    Ok(copy.unchecked_into::<js_sys::Uint8Array>().to_vec())
}

/// `obj[name](...args)`, or what it threw.
pub fn call_args(obj: &JsValue, name: &str, args: &js_sys::Array) -> Result<JsValue, JsValue> {
    let f = try_get(obj, name)?;
    let f = f.dyn_ref::<Function>().ok_or(JsValue::UNDEFINED)?;
    Reflect::apply(f, obj, args)
}

/// What a thrown value says: its `message`, or itself as text.
pub fn message(thrown: &JsValue) -> String {
    get(thrown, "message").as_string().or_else(|| thrown.as_string()).unwrap_or_else(|| "a value that is not an Error".into())
}

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

/// `obj[key]` unless it is undefined or null.
pub fn present(obj: &JsValue, key: &str) -> Option<JsValue> {
    Some(get(obj, key)).filter(|v| !v.is_undefined() && !v.is_null())
}

/// `signal.aborted`, read like any property (no import of its own).
pub fn aborted(signal: &AbortSignal) -> bool {
    get(signal, "aborted").as_bool() == Some(true)
}

/// `signal.reason`.
pub fn reason(signal: Option<&AbortSignal>) -> JsValue {
    signal.map_or(JsValue::UNDEFINED, |s| get(s, "reason"))
}

/// `obj[name](arg?)`: a web API's method called by name, so that it needs no import (and JS
/// glue) of its own. `Err` is what it threw, or undefined when there is no such method.
pub fn call(obj: &JsValue, name: &str, arg: Option<&JsValue>) -> Result<JsValue, JsValue> {
    let f = get(obj, name);
    let f = f.dyn_ref::<Function>().ok_or(JsValue::UNDEFINED)?;
    arg.map_or_else(|| f.call0(obj), |a| f.call1(obj, a))
}

/// `obj[name](a, b)`, like [`call`].
pub fn call2(obj: &JsValue, name: &str, a: &JsValue, b: &JsValue) -> Result<JsValue, JsValue> {
    let f = get(obj, name);
    f.dyn_ref::<Function>().ok_or(JsValue::UNDEFINED)?.call2(obj, a, b)
}

/// `controller.abort()`.
pub fn abort(controller: &web_sys::AbortController) {
    let _ = call(controller, "abort", None);
}

/// `controller.signal`.
pub fn signal_of(controller: &web_sys::AbortController) -> AbortSignal {
    get(controller, "signal").unchecked_into()
}

/// Calls `f(arg)`; a callback that throws is reported, never fatal.
pub fn callback(f: &Function, arg: &JsValue) {
    if let Err(e) = f.call1(&JsValue::NULL, arg) {
        web_sys::console::error_2(&JsValue::from_str("genwire: a callback threw"), &e);
    }
}

pub type JsResult = Result<JsValue, JsValue>;

/// A promise of `f`. Every async export goes through the one boxed instantiation of
/// `future_to_promise` below instead of one copy of its machinery per future type.
pub fn promise(f: impl core::future::Future<Output = JsResult> + 'static) -> js_sys::Promise {
    boxed_promise(Box::pin(f))
}

#[inline(never)]
fn boxed_promise(f: core::pin::Pin<Box<dyn core::future::Future<Output = JsResult>>>) -> js_sys::Promise {
    wasm_bindgen_futures::future_to_promise(f)
}
