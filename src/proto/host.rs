//! Reading the host's values (JS values in the browser) into the core's: the rules are here,
//! the edge only says what a value is ([`Host::shape`]). They follow serde-wasm-bindgen's
//! `deserialize_any`, which genwire used before: null and undefined are `Null`; numbers,
//! strings, booleans and BigInts (in i64/u64) as such; arrays item by item; `Uint8Array` and
//! `ArrayBuffer` as bytes; plain objects by their entries, `Map`s by theirs (string keys only);
//! anything else (functions, symbols, other iterables), a value that contains itself and one
//! whose reading threw (a getter, a Proxy's trap) is an error that says where and what, in
//! words for people. Bounded like [`Value`]: past [`MAX_DEPTH`] a value reads as null, past
//! [`MAX_ITEMS`] items are cut.
//!
//! The arguments of every public entry point are judged here too ([`options`], [`endpoint`],
//! [`input`], [`function`]): whatever JS value a caller passes, the answer is a value or a
//! sentence for a `config` error, never a trap.

use crate::proto::endpoint::EndpointId;
use crate::proto::logs::LogKey;
use crate::proto::status::{BadStatus, Phase, Status};
use crate::proto::value::{Value, MAX_DEPTH, MAX_ITEMS};

/// The longest byte array read into the core's memory (a longer one is unreadable): nothing the
/// core reads needs more, and past 2 GiB a copy can't even be allocated in wasm32 (a trap).
pub const MAX_BYTES: usize = 16 << 20;

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
    /// Anything else, by its constructor's name (`Function`, `Symbol`, `Set`, ...).
    Other(String),
    /// Reading it threw (a getter, a Proxy's trap, a revoked Proxy): what was thrown.
    Unreadable(String),
}

pub trait Host: Sized + Clone {
    /// What this value is; of its children, at most `max`.
    fn shape(&self, max: usize) -> Shape<Self>;
    /// `self[key]` (undefined for a non-object, or when reading it threw).
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

/// The core's own values as host values: for native callers of the machines (tests, the fuzzer).
impl Host for Value {
    fn shape(&self, max: usize) -> Shape<Value> {
        match self {
            Value::Null => Shape::Null,
            Value::Bool(b) => Shape::Bool(*b),
            Value::Num(n) => Shape::Num(*n),
            Value::Str(s) => Shape::Str(s.clone()),
            Value::Bytes(b) => Shape::Bytes(b.clone()),
            Value::Arr(a) => Shape::Array(a.iter().take(max).cloned().collect()),
            Value::Obj(m) => Shape::Object(m.iter().take(max).cloned().collect()),
        }
    }
    fn field(&self, key: &str) -> Value {
        self.get(key).cloned().unwrap_or(Value::Null)
    }
    /// A `Value` is a tree (owned, no sharing): it never holds itself.
    fn same(&self, _: &Value) -> bool {
        false
    }
}

/// `v` as a [`Value`]; `Err` says why it can't be one, and where (`at a.b[2]: ...`).
pub fn read<H: Host>(v: &H) -> Result<Value, String> {
    let (mut ancestors, mut path) = (Vec::new(), Vec::new());
    read_at(v, &mut ancestors, &mut path).map_err(|why| if path.is_empty() { why } else { format!("at {}: {why}", at(&path)) })
}

/// A step into a value: a key, or an index.
enum Seg {
    Key(String),
    Index(usize),
}

/// Where in a value: `a.b[2]`.
fn at(path: &[Seg]) -> String {
    let mut out = String::new();
    for s in path {
        match s {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// `ancestors` are the containers above `v`; on an error, `path` is left at the failing value.
fn read_at<H: Host>(v: &H, ancestors: &mut Vec<H>, path: &mut Vec<Seg>) -> Result<Value, String> {
    if ancestors.len() > MAX_DEPTH {
        return Ok(Value::Null);
    }
    let shape = v.shape(MAX_ITEMS);
    let container = matches!(shape, Shape::Array(_) | Shape::Object(_) | Shape::Map(_));
    if container && ancestors.iter().any(|a| a.same(v)) {
        return Err("the value contains itself (a cycle), which can't be sent".into());
    }
    ancestors.push(v.clone());
    let r = read_shape(shape, ancestors, path);
    ancestors.pop();
    r
}

fn read_shape<H: Host>(shape: Shape<H>, ancestors: &mut Vec<H>, path: &mut Vec<Seg>) -> Result<Value, String> {
    let mut child = |seg: Seg, x: &H| {
        path.push(seg);
        let r = read_at(x, ancestors, path)?;
        path.pop();
        Ok::<_, String>(r)
    };
    Ok(match shape {
        Shape::Null => Value::Null,
        Shape::Bool(b) => Value::Bool(b),
        Shape::Num(n) => Value::Num(n),
        Shape::Str(s) => Value::Str(s),
        Shape::BigInt(Some(n)) => Value::Num(n),
        Shape::BigInt(None) => return Err("a BigInt outside the 64-bit range can't be sent".into()),
        Shape::Array(items) => Value::Arr(items.iter().enumerate().map(|(i, x)| child(Seg::Index(i), x)).collect::<Result<_, _>>()?),
        Shape::Bytes(b) => Value::Bytes(b),
        Shape::Object(entries) => Value::Obj(entries.iter().map(|(k, x)| Ok((k.clone(), child(Seg::Key(k.clone()), x)?))).collect::<Result<_, String>>()?),
        Shape::Map(entries) => {
            let mut out = Vec::new();
            for (k, x) in entries.map_err(|e| format!("reading the Map threw: {e}"))? {
                let Shape::Str(k) = k.shape(0) else { return Err(format!("a Map's keys must be strings, not {}", what_host(&k))) };
                // Past the bound the rest are skipped (`shape` reads no more than the bound).
                if out.len() < MAX_ITEMS {
                    out.push((k.clone(), child(Seg::Key(k), &x)?));
                }
            }
            Value::Obj(out)
        }
        Shape::Other(name) => {
            return Err(format!("{} can't be sent (only plain objects, arrays, strings, numbers, booleans, null and bytes can)", article(&name)))
        }
        Shape::Unreadable(why) => return Err(format!("reading it threw: {why}")),
    })
}

/// `a Set`, `an Int16Array`, `a function`.
fn article(name: &str) -> String {
    match name {
        "Function" => "a function".into(),
        "Symbol" => "a Symbol".into(),
        n if n.starts_with(['A', 'E', 'I', 'O', 'U', 'a', 'e', 'i', 'o', 'u']) => format!("an {n}"),
        n => format!("a {n}"),
    }
}

/// A value named for people: `the number 42`, `a string`, `null`.
pub fn what(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("{b}"),
        Value::Num(n) => format!("the number {}", crate::proto::num::fmt(*n)),
        Value::Str(_) => "a string".into(),
        Value::Bytes(_) => "bytes".into(),
        Value::Arr(_) => "an array".into(),
        Value::Obj(_) => "an object".into(),
    }
}

/// A host value named for people, as [`what`] names a [`Value`].
pub fn what_host<H: Host>(v: &H) -> String {
    match v.shape(0) {
        Shape::Null => "null or undefined".into(),
        Shape::Bool(b) => what(&Value::Bool(b)),
        Shape::Num(n) => what(&Value::Num(n)),
        Shape::Str(_) => "a string".into(),
        Shape::BigInt(_) => "a BigInt".into(),
        Shape::Array(_) => "an array".into(),
        Shape::Bytes(_) => "bytes".into(),
        Shape::Object(_) => "an object".into(),
        Shape::Map(_) => "a Map".into(),
        Shape::Other(name) => article(&name),
        Shape::Unreadable(_) => "an object that can't be read".into(),
    }
}

/// The plain-data options of an options argument (`Null` for none), for `proto::options` and
/// `proto::config`: functions (callbacks) and the keys in `skip` (inputs, signals, codecs) stay
/// with the edge, unread. Anything but an object (or nothing) is refused, saying what it was.
pub fn options<H: Host>(v: &H, skip: &[&str]) -> Result<Value, String> {
    match v.shape(MAX_ITEMS) {
        Shape::Null => Ok(Value::Null),
        Shape::Object(entries) => {
            let mut out = Vec::with_capacity(entries.len());
            for (k, x) in entries {
                if skip.contains(&k.as_str()) || matches!(x.shape(0), Shape::Other(ref n) if n == "Function") {
                    continue;
                }
                let x = read(&x).map_err(|e| format!("option '{k}': {e}"))?;
                out.push((k, x));
            }
            Ok(Value::Obj(out))
        }
        Shape::Unreadable(why) => Err(format!("the options can't be read: {why}")),
        _ => Err(format!("options must be an object (or nothing), not {}", what_host(v))),
    }
}

/// An endpoint id argument: a string the endpoint rules take.
pub fn endpoint<H: Host>(v: &H) -> Result<EndpointId, String> {
    match v.shape(0) {
        Shape::Str(s) => EndpointId::parse(&s).map_err(|e| e.to_string()),
        _ => Err(format!("the endpoint id must be a string such as 'fal-ai/flux/dev', not {}", what_host(v))),
    }
}

/// An input: an object of the endpoint's fields (a `Map` too). `optional`: nothing (undefined or
/// null) stands for `{}` (a queue call without input); a realtime `send` needs one.
pub fn input<H: Host>(v: &H, optional: bool) -> Result<(), String> {
    match v.shape(0) {
        Shape::Object(_) | Shape::Map(_) => Ok(()),
        Shape::Null if optional => Ok(()),
        Shape::Unreadable(why) => Err(format!("the input can't be read: {why}")),
        _ => Err(format!("the input must be an object of the endpoint's fields, not {}", what_host(v))),
    }
}

/// A function argument (a listener): `name` says which.
pub fn function<H: Host>(v: &H, name: &str) -> Result<(), String> {
    match v.shape(0) {
        Shape::Other(n) if n == "Function" => Ok(()),
        _ => Err(format!("{name} must be a function, not {}", what_host(v))),
    }
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
        Shape::Unreadable(_) => "Unreadable".into(),
    };
    format!("JsValue({name})")
}

/// Log lines of one status read for ordering (the first ones; the rest are the caller's, untouched):
/// each is a host value held at once, and the host may hold only so many (a JS engine's
/// reference table for the wasm traps past some millions).
pub const MAX_LOG_LINES: usize = 1 << 20;

/// The queue-status view of an upstream status object (left untouched for the caller): its
/// phase, position and id, and of its log lines only the two fields that identify one (the merge
/// needs no more, and a long log is not copied). `submit`: a submit's answer (without a status it
/// is queued).
pub fn status<H: Host>(raw: &H, submit: bool) -> Result<Status, BadStatus> {
    if matches!(raw.shape(0), Shape::Null | Shape::Bool(_) | Shape::Num(_) | Shape::Str(_) | Shape::BigInt(_)) {
        return Err(BadStatus(format!("invalid type: {}, expected struct Wire", describe(raw))));
    }
    let field = |k: &str| read(&raw.field(k)).map_err(BadStatus);
    let logs = match raw.field("logs").shape(MAX_LOG_LINES) {
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
        Sym,
        /// A getter or trap that throws.
        Throws(&'static str),
        /// An object shared by reference: it can hold itself.
        Shared(std::rc::Rc<std::cell::RefCell<Vec<(&'static str, J)>>>),
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
                J::Sym => Shape::Other("Symbol".into()),
                J::Throws(why) => Shape::Unreadable((*why).into()),
                J::Shared(m) => Shape::Object(m.borrow().iter().take(max).map(|(k, v)| ((*k).into(), v.clone())).collect()),
            }
        }
        fn field(&self, key: &str) -> J {
            match self {
                J::Obj(m) => m.iter().find(|(k, _)| *k == key).map_or(J::Undefined, |(_, v)| v.clone()),
                _ => J::Undefined,
            }
        }
        fn same(&self, other: &J) -> bool {
            matches!((self, other), (J::Shared(a), J::Shared(b)) if std::rc::Rc::ptr_eq(a, b))
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
        let only = "(only plain objects, arrays, strings, numbers, booleans, null and bytes can)";
        assert_eq!(read(&J::Fn).unwrap_err(), format!("a function can't be sent {only}"));
        assert_eq!(read(&J::Map(vec![(J::Num(1.0), J::Num(2.0))])).unwrap_err(), "a Map's keys must be strings, not the number 1");
        assert!(read(&J::Big(None)).unwrap_err().contains("BigInt"));
        let deep = J::Obj(vec![("a", J::Arr(vec![J::Num(1.0), J::Obj(vec![("b", J::Sym)])]))]);
        assert_eq!(read(&deep).unwrap_err(), format!("at a[1].b: a Symbol can't be sent {only}"), "an error deep inside says where");
        assert_eq!(read(&J::Obj(vec![("x", J::Throws("boom"))])).unwrap_err(), "at x: reading it threw: boom");
    }

    #[test]
    fn cycles_are_refused_and_shared_values_are_not() {
        let o = std::rc::Rc::new(std::cell::RefCell::new(vec![("n", J::Num(1.0))]));
        let twice = J::Obj(vec![("a", J::Shared(o.clone())), ("b", J::Arr(vec![J::Shared(o.clone())]))]);
        assert!(read(&twice).is_ok(), "the same object twice, not inside itself, is no cycle");
        o.borrow_mut().push(("me", J::Arr(vec![J::Shared(o.clone())])));
        assert_eq!(read(&J::Obj(vec![("x", J::Shared(o.clone()))])).unwrap_err(), "at x.me[0]: the value contains itself (a cycle), which can't be sent");
        o.borrow_mut().clear(); // no Rc cycle left behind
    }

    #[test]
    fn arguments_of_entry_points() {
        let ok = J::Obj(vec![("logs", J::Str("x")), ("onQueueUpdate", J::Fn), ("input", J::Sym)]);
        assert_eq!(options(&ok, &["input"]).unwrap(), Value::Obj(vec![("logs".into(), Value::Str("x".into()))]), "callbacks and skipped keys stay unread");
        assert_eq!(options(&J::Undefined, &[]).unwrap(), Value::Null);
        for (bad, said) in [
            (J::Num(42.0), "options must be an object (or nothing), not the number 42"),
            (J::Str("x"), "options must be an object (or nothing), not a string"),
            (J::Arr(vec![]), "options must be an object (or nothing), not an array"),
            (J::Sym, "options must be an object (or nothing), not a Symbol"),
            (J::Fn, "options must be an object (or nothing), not a function"),
            (J::Big(Some(1.0)), "options must be an object (or nothing), not a BigInt"),
            (J::Throws("trap"), "the options can't be read: trap"),
            (
                J::Obj(vec![("timeout", J::Sym)]),
                "option 'timeout': a Symbol can't be sent (only plain objects, arrays, strings, numbers, booleans, null and bytes can)",
            ),
        ] {
            assert_eq!(options(&bad, &[]).unwrap_err(), said);
        }
        assert_eq!(endpoint(&J::Str("fal-ai/flux/dev")).unwrap().full(), "fal-ai/flux/dev");
        assert_eq!(endpoint(&J::Num(42.0)).unwrap_err(), "the endpoint id must be a string such as 'fal-ai/flux/dev', not the number 42");
        assert_eq!(endpoint(&J::Undefined).unwrap_err(), "the endpoint id must be a string such as 'fal-ai/flux/dev', not null or undefined");
        assert!(endpoint(&J::Str("")).is_err());
        assert!(input(&J::Obj(vec![]), false).is_ok() && input(&J::Undefined, true).is_ok());
        assert_eq!(input(&J::Undefined, false).unwrap_err(), "the input must be an object of the endpoint's fields, not null or undefined");
        assert_eq!(input(&J::Arr(vec![]), true).unwrap_err(), "the input must be an object of the endpoint's fields, not an array");
        assert!(function(&J::Fn, "listener").is_ok());
        assert_eq!(function(&J::Num(1.0), "listener").unwrap_err(), "listener must be a function, not the number 1");
    }

    /// Random values with every kind a caller can pass, throwing readers and cycles among them:
    /// reading never panics, and fails exactly when something unsendable is inside.
    #[test]
    fn any_value_reads_or_says_why() {
        fn gen(r: &mut crate::proto::rand::Rng, depth: usize, bad: &mut bool) -> J {
            let pick = (r.next01() * if depth > 3 { 6.0 } else { 11.0 }) as u32;
            match pick {
                0 => J::Undefined,
                1 => J::Num(r.next01() * 100.0),
                2 => J::Str("s"),
                3 => J::Big(if r.next01() < 0.5 {
                    Some(1.0)
                } else {
                    *bad = true;
                    None
                }),
                4 => J::U8(vec![1]),
                5 => {
                    *bad = true;
                    [J::Fn, J::Sym, J::Throws("t")][(r.next01() * 3.0) as usize].clone()
                }
                6 | 7 => J::Arr((0..(r.next01() * 4.0) as usize).map(|_| gen(r, depth + 1, bad)).collect()),
                8 => J::Map(vec![(J::Str("k"), gen(r, depth + 1, bad))]),
                _ => J::Obj(["a", "b", "c"].iter().take((r.next01() * 4.0) as usize).map(|k| (*k, gen(r, depth + 1, bad))).collect()),
            }
        }
        let mut r = crate::proto::rand::Rng::new(11);
        for _ in 0..3000 {
            let mut bad = false;
            let v = gen(&mut r, 0, &mut bad);
            let out = read(&v);
            assert_eq!(out.is_err(), bad, "{v:?} -> {out:?}");
            let _ = (options(&v, &[]), endpoint(&v), input(&v, false), what_host(&v));
        }
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
        // Millions of lines (an answer of a few MB): only the first MAX_LOG_LINES are held at once.
        let long = J::Obj(vec![("status", J::Str("IN_PROGRESS")), ("logs", J::Arr(vec![J::Undefined; MAX_LOG_LINES + 3]))]);
        assert_eq!(status(&long, false).unwrap().logs.len(), MAX_LOG_LINES);
        assert_eq!(
            status(&J::Obj(vec![("request_id", J::Str("r"))]), true).unwrap().request_id.as_deref(),
            Some("r"),
            "a submit answer without status is queued"
        );
    }
}
