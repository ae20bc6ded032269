//! Reading the host's values (JS values in the browser) into the core's: the rules are here,
//! the edge only says what a value is ([`Host::shape`]). They follow serde-wasm-bindgen's
//! `deserialize_any`, which genwire used before: null and undefined are `Null`; numbers,
//! strings, booleans and BigInts (in i64/u64) as such; arrays item by item; `Uint8Array` and
//! `ArrayBuffer` as bytes; plain objects by their entries, `Map`s by theirs (string keys only);
//! anything else (functions, symbols, other iterables) is an error naming it. Bounded like
//! [`Value`]: past [`MAX_DEPTH`] a value reads as null, past [`MAX_ITEMS`] items are cut.

use crate::proto::logs::LogKey;
use crate::proto::status::{BadStatus, Phase, Status};
use crate::proto::value::{Value, MAX_DEPTH, MAX_ITEMS};

/// What a host value is, with its children (at most the number asked for).
#[derive(Debug)]
pub enum Shape<H> {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    /// A BigInt, if it fits an i64 or a u64.
    BigInt(Option<f64>),
    Array(Vec<H>),
    Bytes(Vec<u8>),
    /// A plain object's entries (its keys are strings, each once).
    Object(Vec<(String, H)>),
    /// A `Map`'s entries, or why they could not be iterated.
    Map(Result<Vec<(H, H)>, String>),
    /// Anything else, by its constructor's name.
    Other(String),
}

pub trait Host: Sized {
    /// What this value is; of its children, at most `max`.
    fn shape(&self, max: usize) -> Shape<Self>;
    /// `self[key]` (undefined for a non-object).
    fn field(&self, key: &str) -> Self;
    /// Its length, if it is a byte array (`Uint8Array`, `ArrayBuffer`): read without copying.
    fn byte_len(&self) -> Option<usize> {
        None
    }
    /// A byte array's bytes (a copy); empty for anything else.
    fn bytes(&self) -> Vec<u8> {
        Vec::new()
    }
    /// An object that is neither plain (its prototype `Object.prototype` or null) nor an array,
    /// a `Map` or a byte array, by its constructor's name (`Date`, `Blob`, a class): `None`
    /// for everything else.
    fn class(&self) -> Option<String> {
        None
    }
    /// Whether `other` is this very value (`===`): a cycle comes back to one of its holders.
    fn same(&self, _other: &Self) -> bool {
        false
    }
}

/// `v` as a [`Value`]; `Err` says why it can't be one.
pub fn read<H: Host>(v: &H) -> Result<Value, String> {
    read_at(v, 0)
}

fn read_at<H: Host>(v: &H, depth: usize) -> Result<Value, String> {
    if depth > MAX_DEPTH {
        return Ok(Value::Null);
    }
    let child = |x: &H| read_at(x, depth + 1);
    Ok(match v.shape(MAX_ITEMS) {
        Shape::Null => Value::Null,
        Shape::Bool(b) => Value::Bool(b),
        Shape::Num(n) => Value::Num(n),
        Shape::Str(s) => Value::Str(s),
        Shape::BigInt(Some(n)) => Value::Num(n),
        Shape::BigInt(None) => return Err("Couldn't deserialize i64 or u64 from a BigInt outside i64::MIN..u64::MAX bounds".into()),
        Shape::Array(items) => Value::Arr(items.iter().map(child).collect::<Result<_, _>>()?),
        Shape::Bytes(b) => Value::Bytes(b),
        Shape::Object(entries) => Value::Obj(entries.iter().map(|(k, x)| Ok((k.clone(), child(x)?))).collect::<Result<_, String>>()?),
        Shape::Map(entries) => {
            let mut out = Vec::new();
            for (k, x) in entries? {
                let Shape::Str(k) = k.shape(0) else { return Err(format!("invalid type: {}, expected a string", describe(&k))) };
                // Past the bound the rest are skipped (their keys still checked).
                if out.len() < MAX_ITEMS {
                    out.push((k, child(&x)?));
                }
            }
            Value::Obj(out)
        }
        Shape::Other(name) => return Err(format!("invalid type: JsValue({name}), expected any JSON value")),
    })
}

/// A value named as serde names an unexpected one.
pub fn describe<H: Host>(v: &H) -> String {
    let name = match v.shape(0) {
        Shape::Null => return "unit value".into(),
        Shape::Num(n) => return Value::Num(n).unexpected(),
        Shape::Str(s) => return Value::Str(s).unexpected(),
        Shape::Bool(b) => return Value::Bool(b).unexpected(),
        Shape::Other(name) => name,
        Shape::Array(_) => "Array".into(),
        Shape::Bytes(_) => "Uint8Array".into(),
        Shape::Map(_) => "Map".into(),
        Shape::BigInt(_) => "BigInt".into(),
        Shape::Object(_) => "Object".into(),
    };
    format!("JsValue({name})")
}

/// The queue-status view of an upstream status object (left untouched for the caller): its
/// phase, position and id, and of its log lines only the two fields that identify one (the merge
/// needs no more, and a long log is not copied). `submit`: a submit's answer (without a status it
/// is queued).
pub fn status<H: Host>(raw: &H, submit: bool) -> Result<Status, BadStatus> {
    if matches!(raw.shape(0), Shape::Null | Shape::Bool(_) | Shape::Num(_) | Shape::Str(_) | Shape::BigInt(_)) {
        return Err(BadStatus(format!("invalid type: {}, expected struct Wire", describe(raw))));
    }
    let field = |k: &str| read(&raw.field(k)).map_err(BadStatus);
    let logs = match raw.field("logs").shape(usize::MAX) {
        Shape::Array(lines) => {
            let text = |l: &H, k: &str| if let Shape::Str(s) = l.field(k).shape(0) { s } else { String::new() };
            lines.iter().map(|l| LogKey { timestamp: text(l, "timestamp"), message: text(l, "message") }).collect()
        }
        Shape::Null => Vec::new(),
        _ => return Err(BadStatus(field("logs")?.invalid_type("a sequence"))),
    };
    let from = if submit { Status::from_submit_fields } else { Status::from_fields };
    let mut s = from(&field("status")?, &field("queue_position")?, logs, &field("request_id")?)?;
    // fal's failed job: COMPLETED with `error` (text) and `error_type`.
    let present = |k: &str| field(k).is_ok_and(|v| !v.is_null());
    s.failed = s.phase == Phase::Completed && (present("error") || present("error_type"));
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A host value for the tests: what a JS value can be.
    #[derive(Debug, Clone)]
    enum J {
        Undefined,
        Num(f64),
        Str(&'static str),
        Big(Option<f64>),
        Arr(Vec<J>),
        U8(Vec<u8>),
        Obj(Vec<(&'static str, J)>),
        Map(Vec<(J, J)>),
        Fn,
    }

    impl Host for J {
        fn shape(&self, max: usize) -> Shape<J> {
            match self {
                J::Undefined => Shape::Null,
                J::Num(n) => Shape::Num(*n),
                J::Str(s) => Shape::Str((*s).into()),
                J::Big(b) => Shape::BigInt(*b),
                J::Arr(a) => Shape::Array(a.iter().take(max).cloned().collect()),
                J::U8(b) => Shape::Bytes(b.clone()),
                J::Obj(m) => Shape::Object(m.iter().take(max).map(|(k, v)| ((*k).into(), v.clone())).collect()),
                J::Map(m) => Shape::Map(Ok(m.clone())),
                J::Fn => Shape::Other("Function".into()),
            }
        }
        fn field(&self, key: &str) -> J {
            match self {
                J::Obj(m) => m.iter().find(|(k, _)| *k == key).map_or(J::Undefined, |(_, v)| v.clone()),
                _ => J::Undefined,
            }
        }
    }

    #[test]
    fn reads_as_serde_wasm_bindgen_did() {
        let v = J::Obj(vec![
            ("a", J::Num(1.0)),
            ("b", J::Arr(vec![J::Undefined, J::Str("x")])),
            ("c", J::U8(vec![1, 2])),
            ("d", J::Map(vec![(J::Str("k"), J::Big(Some(5.0)))])),
        ]);
        let want = Value::Obj(vec![
            ("a".into(), Value::Num(1.0)),
            ("b".into(), Value::Arr(vec![Value::Null, Value::Str("x".into())])),
            ("c".into(), Value::Bytes(vec![1, 2])),
            ("d".into(), Value::Obj(vec![("k".into(), Value::Num(5.0))])),
        ]);
        assert_eq!(read(&v).unwrap(), want);
        assert_eq!(read(&J::Fn).unwrap_err(), "invalid type: JsValue(Function), expected any JSON value");
        let key = format!("invalid type: {}, expected a string", Value::Num(1.0).unexpected());
        assert_eq!(read(&J::Map(vec![(J::Num(1.0), J::Num(2.0))])).unwrap_err(), key, "a Map's keys must be strings");
        assert!(read(&J::Big(None)).unwrap_err().contains("BigInt"));
        assert_eq!(read(&J::Arr(vec![J::Fn])).unwrap_err(), "invalid type: JsValue(Function), expected any JSON value", "an error deep inside surfaces");
    }

    #[test]
    fn bounded_in_depth_and_width() {
        let mut deep = J::Num(1.0);
        for _ in 0..100 {
            deep = J::Arr(vec![deep]);
        }
        let (mut d, mut at) = (0, read(&deep).unwrap());
        while let Value::Arr(a) = at {
            d += 1;
            at = a.into_iter().next().unwrap();
        }
        assert_eq!((d, at), (MAX_DEPTH + 1, Value::Null));
        let wide = J::Arr(vec![J::Num(0.0); MAX_ITEMS + 10]);
        assert_eq!(read(&wide).unwrap().as_array().map(<[Value]>::len), Some(MAX_ITEMS));
    }

    #[test]
    fn statuses_read_only_what_ordering_needs() {
        let line = |t, m| J::Obj(vec![("timestamp", J::Str(t)), ("message", J::Str(m)), ("level", J::Fn)]);
        let raw = J::Obj(vec![("status", J::Str("IN_PROGRESS")), ("logs", J::Arr(vec![line("1", "a"), line("2", "b")])), ("metrics", J::Fn)]);
        let s = status(&raw, false).unwrap();
        assert_eq!(s.logs, vec![LogKey::new("1", "a"), LogKey::new("2", "b")], "a log's other fields are not read");
        assert_eq!(status(&J::Str("x"), false).unwrap_err().0, r#"invalid type: string "x", expected struct Wire"#);
        assert!(status(&J::Obj(vec![("status", J::Num(5.0))]), false).is_err());
        assert!(status(&J::Obj(vec![("status", J::Str("IN_QUEUE")), ("logs", J::Num(1.0))]), false).is_err());
        assert_eq!(
            status(&J::Obj(vec![("request_id", J::Str("r"))]), true).unwrap().request_id.as_deref(),
            Some("r"),
            "a submit answer without status is queued"
        );
    }
}
