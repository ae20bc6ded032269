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
    #[wasm_bindgen(catch, js_namespace = Object, js_name = keys)]
    fn object_keys(v: &JsValue) -> Result<js_sys::Array, JsValue>;
}

// Reading a caller's value. Each of these can run the caller's code (a getter, a Proxy's trap),
// so each hands back what it threw instead of letting it unwind through the wasm, which would
// leave a `RefCell` borrowed and the instance unusable.

/// The first `max` of `Object.entries(v)`. Bounded: every JS value the wasm holds takes a slot of
/// its reference table, which can't grow past some millions (then it traps).
pub fn entries(v: &JsValue, max: usize) -> Result<Vec<(String, JsValue)>, JsValue> {
    let pairs = object_entries(v)?;
    Ok(pairs.iter().take(max).map(|p| p.unchecked_into::<js_sys::Array>()).map(|p| (p.get(0).as_string().unwrap_or_default(), p.get(1))).collect())
}

/// `Object.keys(v)`.
pub fn keys(v: &JsValue) -> Result<Vec<String>, JsValue> {
    Ok(object_keys(v)?.iter().filter_map(|k| k.as_string()).collect())
}

/// The first `max` `[key, value]` pairs a `Map` (or anything iterable) yields, each step caught:
/// its iterator may be the caller's own, and throw or yield anything.
pub fn pairs(v: &JsValue, max: usize) -> Result<Vec<(JsValue, JsValue)>, JsValue> {
    let start = Reflect::get(v, &js_sys::Symbol::iterator())?;
    let it = Reflect::apply(start.dyn_ref::<Function>().ok_or_else(|| JsValue::from_str("it is not iterable"))?, v, &js_sys::Array::new())?;
    let next = try_get(&it, "next")?;
    let next = next.dyn_ref::<Function>().ok_or_else(|| JsValue::from_str("its iterator has no next()"))?;
    let mut out = Vec::new();
    while out.len() < max {
        let step = Reflect::apply(next, &it, &js_sys::Array::new())?;
        if !step.is_object() {
            return Err(JsValue::from_str("its iterator gave a step that is not an object"));
        }
        if Reflect::get(&step, &JsValue::from_str("done"))?.is_truthy() {
            break;
        }
        let pair = Reflect::get(&step, &JsValue::from_str("value"))?;
        if !pair.is_object() {
            return Err(JsValue::from_str("an entry that is not a [key, value] pair"));
        }
        out.push((Reflect::get_u32(&pair, 0)?, Reflect::get_u32(&pair, 1)?));
    }
    Ok(out)
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

/// `new Uint8Array(v)`, or what it threw: a view of an `ArrayBuffer`, a copy of a typed array, a
/// zeroed array of a length. A genuine one, whatever `v` is (a detached buffer, a length past
/// what can be allocated, a Proxy, a Symbol all throw here, caught).
pub fn uint8(v: &JsValue) -> Result<js_sys::Uint8Array, JsValue> {
    let ctor: Function = get(&js_sys::global(), "Uint8Array").unchecked_into();
    Ok(Reflect::construct(&ctor, &js_sys::Array::of1(v))?.unchecked_into())
}

/// A copy of the bytes of a buffer or view (`new Uint8Array(v)`).
pub fn bytes(v: &JsValue) -> Result<Vec<u8>, JsValue> {
    Ok(uint8(v)?.to_vec())
}

/// `v.byteLength` of a buffer or view, read as any property (a Proxy's or a subclass's getter
/// that throws is caught).
pub fn byte_length(v: &JsValue) -> Result<usize, JsValue> {
    let n = Reflect::get(v, &JsValue::from_str("byteLength"))?.as_f64().filter(|n| *n >= 0.0 && n.fract() == 0.0);
    n.map(|n| n as usize).ok_or(JsValue::UNDEFINED)
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

/// A genuine promise of `v`: `v` itself if it is a plain value, what it settles to if it is a
/// promise or any thenable. Never throws: a `then` (or `constructor`) getter that throws, or a
/// `then` that is not a function, can't reach the wasm (`Promise.resolve(v)` reads `constructor`,
/// and awaiting calls `v.then`, both uncaught); the resolve function of a new promise catches both.
pub fn resolved(v: &JsValue) -> js_sys::Promise {
    js_sys::Promise::new(&mut |resolve, _| drop(resolve.call1(&JsValue::UNDEFINED, v)))
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
