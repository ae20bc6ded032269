//! JS values to and from the core's types, by hand: what serde-wasm-bindgen did for us, with the
//! same rules, without its generic code in the download. Errors are real `Error` objects
//! (stack traces, `instanceof Error`) named `GenwireError` with the core's [`ErrorInfo`] as
//! fields; an option's mistake is one of kind `config`.
//!
//! Reading follows serde-wasm-bindgen's `deserialize_any` into [`Value`]: null and
//! undefined are `Null`; numbers, strings, booleans and BigInts (in i64/u64) as
//! such; arrays item by item; `Uint8Array`/`ArrayBuffer` as bytes; plain objects
//! by `Object.entries`, `Map`s by their entries (string keys only); anything else
//! (functions, symbols, other iterables) is an error. Bounded like `Value`.
//! Writing gives `null` for nulls, plain objects for maps, `Uint8Array` for bytes: every object
//! genwire hands out is built by the core as a [`Value`] (`proto::shapes`) and written here.

use js_sys::{Array, Function, Object, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::AbortSignal;

use super::js;
use super::js::{get, present, set};
use crate::proto::endpoint::EndpointId;
use crate::proto::error::{decode_thrown, Category, ErrorInfo, Kind};
use crate::proto::host::{self, Host, Shape};
use crate::proto::options::{wrong, OptionError};
use crate::proto::shapes;
use crate::proto::value::Value;

/// What a JS value is, for the core's reading rules (`proto::host`). Every read of an object
/// goes through `js`'s catching helpers: a getter or Proxy trap that throws makes it `Unreadable`.
impl Host for JsValue {
    fn shape(&self, max: usize) -> Shape<JsValue> {
        let v = self;
        let threw = |e: JsValue| Shape::Unreadable(js::message(&e));
        // The kinds by `typeof` are disjoint: the commonest first, each test a call out of the wasm.
        if !v.is_object() {
            return if let Some(s) = v.as_string() {
                Shape::Str(s)
            } else if let Some(n) = v.as_f64() {
                Shape::Num(n)
            } else if let Some(b) = v.as_bool() {
                Shape::Bool(b)
            } else if v.is_undefined() || v.is_null() {
                Shape::Null
            } else if v.is_bigint() {
                Shape::BigInt(i64::try_from(v.clone()).map(|n| n as f64).or_else(|v| u64::try_from(v).map(|n| n as f64)).ok())
            } else if v.is_symbol() {
                Shape::Other("Symbol".into())
            } else {
                Shape::Other("Function".into())
            };
        }
        match js::is_array(v) {
            Err(e) => return threw(e),
            Ok(true) => return js::items(v, max).map_or_else(threw, Shape::Array),
            Ok(false) => {}
        }
        // Bytes copied by `new Uint8Array(v)`, which reads no getter of `v` (a subclass's or a
        // Proxy's `length` may throw); a Proxy of an ArrayBuffer fails `byteLength`, caught.
        if (v.is_instance_of::<Uint8Array>() && js_sys::ArrayBuffer::is_view(v)) || v.is_instance_of::<js_sys::ArrayBuffer>() {
            let bounded = |n: usize| {
                if n > host::MAX_BYTES {
                    Err(JsValue::from_str(&format!("it holds {n} bytes, more than genwire reads (16 MiB)")))
                } else {
                    js::bytes(v)
                }
            };
            js::byte_length(v).and_then(bounded).map_or_else(threw, Shape::Bytes)
        } else if v.is_instance_of::<js_sys::Map>() {
            // Its iterator may be the caller's own: each step is caught.
            Shape::Map(js::pairs(v, max).map_err(|e| js::message(&e)))
        } else {
            match js::has(v, &js_sys::Symbol::iterator()) {
                Err(e) => threw(e),
                Ok(false) => js::entries(v, max).map_or_else(threw, Shape::Object),
                Ok(true) => Shape::Other(get(&get(v, "constructor"), "name").as_string().unwrap_or_else(|| "Object".into())),
            }
        }
    }

    fn field(&self, key: &str) -> JsValue {
        get(self, key)
    }

    fn byte_len(&self) -> Option<usize> {
        let v = self;
        // `instanceof` asks for the prototype: a Proxy whose trap throws is left to `shape`, which
        // reports it as unreadable (the throw never crosses the wasm).
        if v.is_object() && js_sys::Reflect::get_prototype_of(v).is_err() {
            return None;
        }
        // A Proxy of one passes `instanceof` but not `isView`, and its `byteLength` throws: left to
        // `shape` too, which says so.
        let bytes = (v.is_instance_of::<Uint8Array>() && js_sys::ArrayBuffer::is_view(v)) || v.is_instance_of::<js_sys::ArrayBuffer>();
        bytes.then(|| js::byte_length(v).ok()).flatten()
    }

    fn bytes(&self) -> Vec<u8> {
        js::bytes(self).unwrap_or_default()
    }

    fn class(&self) -> Option<String> {
        let v = self;
        let proto = v.is_object().then(|| js_sys::Reflect::get_prototype_of(v).ok()).flatten()?;
        if v.is_function() || Array::is_array(v) || v.is_instance_of::<js_sys::Map>() {
            return None;
        }
        // Files and Blobs (and their subclasses) are uploaded by `send()`: named as the core expects.
        if v.is_instance_of::<web_sys::Blob>() {
            return Some("Blob".into());
        }
        // `Object.prototype` is the only prototype whose own prototype is null.
        if proto.is_null() || js_sys::Reflect::get_prototype_of(&proto).map_or(true, |p| p.is_null()) {
            return None;
        }
        // The constructor is a function: `get` reads objects only.
        let name = js_sys::Reflect::get(&get(v, "constructor"), &JsValue::from_str("name")).ok().and_then(|n| n.as_string());
        Some(name.filter(|n| !n.is_empty()).unwrap_or_else(|| "Object".into()))
    }

    fn same(&self, other: &JsValue) -> bool {
        self == other
    }
}

/// `js` as a [`Value`]; `Err` says why it can't be one.
pub fn to_value(js: &JsValue) -> Result<Value, String> {
    host::read(js)
}

/// `js` as a [`Value`], or null when it can't be one (answers whose shape the core checks anyway).
pub fn lossy(js: &JsValue) -> Value {
    host::read(js).unwrap_or(Value::Null)
}

/// A [`Value`] as JS: plain objects, arrays, `Uint8Array` for bytes, `null` for nulls.
pub fn from_value(v: &Value) -> JsValue {
    match v {
        Value::Null => JsValue::NULL,
        Value::Bool(b) => JsValue::from_bool(*b),
        Value::Num(n) => JsValue::from_f64(*n),
        Value::Str(s) => JsValue::from_str(s),
        Value::Bytes(b) => Uint8Array::from(&b[..]).into(),
        Value::Arr(a) => {
            let out = Array::new();
            for x in a {
                out.push(&from_value(x));
            }
            out.into()
        }
        Value::Obj(m) => {
            let out = Object::new();
            for (k, x) in m {
                if k == "__proto__" {
                    // An own field, as JSON.parse makes it: assigning would set the copy's prototype.
                    let field = Object::new();
                    set(&field, "value", &from_value(x));
                    for flag in ["writable", "enumerable", "configurable"] {
                        set(&field, flag, &JsValue::TRUE);
                    }
                    Object::define_property(&out, &JsValue::from_str(k), &field);
                } else {
                    set(&out, k, &from_value(x));
                }
            }
            out.into()
        }
    }
}

/// Sets each field on `target` (an error, an event).
pub fn set_fields(target: &JsValue, fields: &[(String, Value)]) {
    for (k, v) in fields {
        set(target, k, &from_value(v));
    }
}

// Errors and options.

/// Builds the JS error. `body` is the raw answer (parsed JSON or text), kept for callers that need more.
pub fn to_js(info: &ErrorInfo, body: Option<&JsValue>, cause: Option<&JsValue>) -> JsValue {
    let e: JsValue = js_sys::Error::new(&info.message).into();
    set(&e, "name", &JsValue::from_str("GenwireError"));
    set_fields(&e, &shapes::error(info));
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
    set_fields(&e, extra);
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

/// An endpoint id argument, any JS value: the core's id, or a config error.
pub fn endpoint(id: &JsValue) -> Result<EndpointId, JsValue> {
    host::endpoint(id).map_err(|e| config(&e))
}

/// The plain-data options of `js` for the core (`proto::host::options`), or a config error.
pub fn options(js: &JsValue, skip: &[&str]) -> Result<Value, JsValue> {
    host::options(js, skip).map_err(|e| config(&e))
}

/// A function-valued option (callbacks stay on this side).
pub fn opt_fn(obj: &JsValue, key: &str) -> Result<Option<Function>, JsValue> {
    present(obj, key).map(|v| v.dyn_into::<Function>().map_err(|_| option(wrong(key, "a function")))).transpose()
}

fn opt_signal(obj: &JsValue, key: &str) -> Result<Option<AbortSignal>, JsValue> {
    present(obj, key).map(|v| v.dyn_into::<AbortSignal>().map_err(|_| option(wrong(key, "an AbortSignal")))).transpose()
}

/// A call's `signal`, or `abortSignal` (@fal-ai/client's name for it): both only when the same.
#[inline(never)]
pub fn signal(obj: &JsValue) -> Result<Option<AbortSignal>, JsValue> {
    crate::proto::options::one_signal(opt_signal(obj, "signal")?, opt_signal(obj, "abortSignal")?).map_err(option)
}

/// What `conv::options` leaves unread in a call's options: the input and the signals.
pub const SKIP: [&str; 3] = ["input", "signal", "abortSignal"];

/// `Err(aborted)` when the caller's signal already fired.
pub fn check(signal: Option<&AbortSignal>) -> Result<(), JsValue> {
    match signal.filter(|s| js::aborted(s)) {
        Some(s) => Err(aborted(js::reason(Some(s)))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::value::MAX_ITEMS;

    fn status(raw: &JsValue) -> Result<crate::proto::status::Status, crate::proto::status::BadStatus> {
        host::status(raw, false)
    }
    use wasm_bindgen_test::*;

    wasm_bindgen_test_configure!(run_in_browser);

    fn js(src: &str) -> JsValue {
        js_sys::Function::new_no_args(&format!("return {src}")).call0(&JsValue::NULL).unwrap()
    }

    #[wasm_bindgen_test]
    fn reads_as_serde_wasm_bindgen_did() {
        let v =
            to_value(&js(r#"({a: 1, b: [true, null, undefined, "x"], c: new Uint8Array([1, 2]), d: new Map([["k", 2.5]]), e: 5n, f: new Date(0)})"#)).unwrap();
        let want = Value::Obj(vec![
            ("a".into(), Value::Num(1.0)),
            ("b".into(), Value::Arr(vec![Value::Bool(true), Value::Null, Value::Null, Value::Str("x".into())])),
            ("c".into(), Value::Bytes(vec![1, 2])),
            ("d".into(), Value::Obj(vec![("k".into(), Value::Num(2.5))])),
            ("e".into(), Value::Num(5.0)),
            ("f".into(), Value::Obj(vec![])),
        ]);
        assert_eq!(v, want);
        for bad in ["(() => 1)", "new Set([1])", "new Map([[1, 2]])", "Symbol('s')", "new Int16Array(2)", "(2n ** 70n)"] {
            assert!(to_value(&js(bad)).is_err(), "{bad}");
        }
        // Bounded: past the depth, null; past the width, cut.
        let deep = to_value(&js("(() => { let v = 1; for (let i = 0; i < 100; i++) v = [v]; return v })()")).unwrap();
        let mut d = 0;
        let mut at = &deep;
        while let Value::Arr(a) = at {
            d += 1;
            at = &a[0];
        }
        assert_eq!((d, at), (crate::proto::value::MAX_DEPTH + 1, &Value::Null));
        assert_eq!(to_value(&js("new Array(20000).fill(0)")).unwrap().as_array().map(<[Value]>::len), Some(MAX_ITEMS));
    }

    #[wasm_bindgen_test]
    fn writes_plain_json_shapes() {
        let v = Value::Obj(vec![("n".into(), Value::Null), ("b".into(), Value::Bytes(vec![7])), ("a".into(), Value::Arr(vec![Value::Num(1.5)]))]);
        let out = from_value(&v);
        assert_eq!(js_sys::JSON::stringify(&out).unwrap().as_string().unwrap(), r#"{"n":null,"b":{"0":7},"a":[1.5]}"#);
        assert!(super::js::get(&out, "b").is_instance_of::<Uint8Array>());
        assert_eq!(to_value(&out).unwrap(), v);
    }

    #[wasm_bindgen_test]
    fn statuses_read_as_before() {
        let s = status(&js(r#"({status: "IN_QUEUE", queue_position: 3, logs: [1, 2], request_id: "r"})"#)).unwrap();
        assert_eq!((s.queue_position, s.logs.len(), s.request_id.as_deref()), (Some(3), 2, Some("r")));
        assert_eq!(status(&js(r#"({status: "IN_PROGRESS", queue_position: -1})"#)).unwrap().queue_position, None);
        assert_eq!(status(&js(r#""x""#)).unwrap_err().0, r#"invalid type: string "x", expected struct Wire"#);
        assert!(status(&js(r#"({status: 5})"#)).is_err());
        assert!(status(&js(r#"({status: "IN_QUEUE", queue_position: {}})"#)).is_err());
        assert!(status(&js(r#"[1]"#)).is_err());
    }
}
