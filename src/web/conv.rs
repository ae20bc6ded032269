//! JS values to and from the core's types, by hand: what serde-wasm-bindgen did
//! for us, with the same rules, without its generic code in the download.
//!
//! Reading follows serde-wasm-bindgen's `deserialize_any` into [`Value`]: null and
//! undefined are `Null`; numbers, strings, booleans and BigInts (in i64/u64) as
//! such; arrays item by item; `Uint8Array`/`ArrayBuffer` as bytes; plain objects
//! by `Object.entries`, `Map`s by their entries (string keys only); anything else
//! (functions, symbols, other iterables) is an error. Bounded like `Value`.
//! Writing gives `null` for nulls, plain objects for maps, `Uint8Array` for bytes: every object
//! genwire hands out is built by the core as a [`Value`] (`proto::shapes`) and written here.

use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};

use super::js::set;
use crate::proto::value::{Value, MAX_DEPTH, MAX_ITEMS};

/// `js` as a [`Value`]; `Err` says why it can't be one.
pub fn to_value(js: &JsValue) -> Result<Value, String> {
    read(js, 0)
}

/// `js` as a [`Value`], or null when it can't be one (answers whose shape the core checks anyway).
pub fn lossy(js: &JsValue) -> Value {
    read(js, 0).unwrap_or(Value::Null)
}

fn read(v: &JsValue, depth: usize) -> Result<Value, String> {
    if depth > MAX_DEPTH {
        return Ok(Value::Null);
    }
    if v.is_undefined() || v.is_null() {
        return Ok(Value::Null);
    }
    if let Some(b) = v.as_bool() {
        return Ok(Value::Bool(b));
    }
    if v.is_bigint() {
        return match i64::try_from(v.clone()) {
            Ok(n) => Ok(Value::Num(n as f64)),
            Err(v) => u64::try_from(v)
                .map(|n| Value::Num(n as f64))
                .map_err(|_| "Couldn't deserialize i64 or u64 from a BigInt outside i64::MIN..u64::MAX bounds".into()),
        };
    }
    if let Some(n) = v.as_f64() {
        return Ok(Value::Num(n));
    }
    if let Some(s) = v.as_string() {
        return Ok(Value::Str(s));
    }
    if Array::is_array(v) {
        let a: &Array = v.unchecked_ref();
        let n = a.length().min(MAX_ITEMS as u32);
        let mut out = Vec::with_capacity(n as usize);
        for i in 0..n {
            out.push(read(&a.get(i), depth + 1)?);
        }
        return Ok(Value::Arr(out));
    }
    if let Some(b) = v.dyn_ref::<Uint8Array>() {
        return Ok(Value::Bytes(b.to_vec()));
    }
    if let Some(b) = v.dyn_ref::<js_sys::ArrayBuffer>() {
        return Ok(Value::Bytes(Uint8Array::new(b).to_vec()));
    }
    if v.is_object() {
        let iterable = js_sys::Symbol::iterator().js_in(v);
        if iterable && v.is_instance_of::<js_sys::Map>() {
            return map_entries(v, depth);
        }
        if !iterable {
            return object(v, depth);
        }
    }
    Err(format!("invalid type: {}, expected any JSON value", describe(v)))
}

fn object(v: &JsValue, depth: usize) -> Result<Value, String> {
    let entries = Object::entries(v.unchecked_ref());
    let n = entries.length().min(MAX_ITEMS as u32);
    let mut out = Vec::with_capacity(n as usize);
    for i in 0..n {
        let pair: Array = entries.get(i).unchecked_into();
        // Object.entries gives unique string keys.
        out.push((pair.get(0).as_string().unwrap_or_default(), read(&pair.get(1), depth + 1)?));
    }
    Ok(Value::Obj(out))
}

fn map_entries(v: &JsValue, depth: usize) -> Result<Value, String> {
    let iter = js_sys::try_iter(v).map_err(|e| error_text(&e))?.ok_or_else(|| "a Map that can't be iterated".to_string())?;
    let mut out: Vec<(String, Value)> = Vec::new();
    for pair in iter {
        let pair: Array = pair.map_err(|e| error_text(&e))?.unchecked_into();
        let key = pair.get(0);
        let Some(k) = key.as_string() else {
            return Err(format!("invalid type: {}, expected a string", describe(&key)));
        };
        // Map keys are unique; past the bound the rest are skipped (keys still checked).
        if out.len() < MAX_ITEMS {
            out.push((k, read(&pair.get(1), depth + 1)?));
        }
    }
    Ok(Value::Obj(out))
}

/// A JS value named as serde names an unexpected one.
fn describe(v: &JsValue) -> String {
    if v.is_undefined() || v.is_null() {
        return "unit value".into();
    }
    if let Some(n) = v.as_f64() {
        return Value::Num(n).unexpected();
    }
    if let Some(s) = v.as_string() {
        return Value::Str(s).unexpected();
    }
    if let Some(b) = v.as_bool() {
        return Value::Bool(b).unexpected();
    }
    let name = if v.is_function() {
        "Function".into()
    } else {
        Reflect::get(v, &JsValue::from_str("constructor"))
            .ok()
            .map(|c| super::js::get(&c, "name"))
            .and_then(|n| n.as_string())
            .unwrap_or_else(|| "Object".into())
    };
    let mut s = String::from("JsValue(");
    s.push_str(&name);
    s.push(')');
    s
}

fn error_text(e: &JsValue) -> String {
    super::js::get(e, "message").as_string().or_else(|| e.as_string()).unwrap_or_else(|| "JS error".into())
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
                set(&out, k, &from_value(x));
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

/// The plain-data options of a JS options object as a [`Value`], for the core to check: functions
/// (callbacks) and the keys in `skip` (inputs, signals, codecs) stay on this side, unread.
pub fn options(js: &JsValue, skip: &[&str]) -> Result<Value, String> {
    if !js.is_object() {
        return read(js, 0);
    }
    let entries = Object::entries(js.unchecked_ref());
    let mut out = Vec::new();
    for e in entries.iter() {
        let pair: Array = e.unchecked_into();
        let (k, v) = (pair.get(0).as_string().unwrap_or_default(), pair.get(1));
        if !v.is_function() && !skip.contains(&k.as_str()) {
            let x = read(&v, 1).map_err(|e| format!("option '{k}': {e}"))?;
            out.push((k, x));
        }
    }
    Ok(Value::Obj(out))
}

/// The queue status view of an upstream status object (left untouched for the caller).
pub fn status(raw: &JsValue) -> Result<crate::proto::status::Status, crate::proto::status::BadStatus> {
    status_with(raw, crate::proto::status::Status::from_fields)
}

/// A submit answer's status (one without `status` is queued).
pub fn submit_status(raw: &JsValue) -> Result<crate::proto::status::Status, crate::proto::status::BadStatus> {
    status_with(raw, crate::proto::status::Status::from_submit_fields)
}

type FromFields = fn(&Value, &Value, Vec<crate::proto::logs::LogKey>, &Value) -> Result<crate::proto::status::Status, crate::proto::status::BadStatus>;

fn status_with(raw: &JsValue, from_fields: FromFields) -> Result<crate::proto::status::Status, crate::proto::status::BadStatus> {
    use crate::proto::status::BadStatus;
    if !raw.is_object() {
        return Err(BadStatus(format!("invalid type: {}, expected struct Wire", describe(raw))));
    }
    let field = |k: &str| to_value(&super::js::get(raw, k)).map_err(BadStatus);
    let logs = super::js::get(raw, "logs");
    // Only the two fields that identify a line are read (the merge needs no more).
    let logs = if Array::is_array(&logs) {
        let text = |l: &JsValue, k: &str| super::js::get(l, k).as_string().unwrap_or_default();
        logs.unchecked_ref::<Array>().iter().map(|l| crate::proto::logs::LogKey { timestamp: text(&l, "timestamp"), message: text(&l, "message") }).collect()
    } else {
        match to_value(&logs).map_err(BadStatus)? {
            Value::Null => Vec::new(),
            other => return Err(BadStatus(other.invalid_type("a sequence"))),
        }
    };
    from_fields(&field("status")?, &field("queue_position")?, logs, &field("request_id")?)
}

#[cfg(test)]
mod tests {
    use super::*;
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
        assert!(super::super::js::get(&out, "b").is_instance_of::<Uint8Array>());
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
