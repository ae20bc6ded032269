//! A JSON value read from anything serde can deserialize (a `JSON.parse`d JS
//! value in the browser, serde_json in tests and the fuzzer), bounded in depth
//! and size so that hostile bodies cost little and never blow the stack.

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

/// Past this nesting, values are replaced by `Null`.
pub const MAX_DEPTH: usize = 64;
/// At most this many items are kept per array or object; the rest are skipped.
pub const MAX_ITEMS: usize = 10_000;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    /// Binary (a Uint8Array or ArrayBuffer in JS, msgpack `bin` on the wire).
    Bytes(Vec<u8>),
    Arr(Vec<Value>),
    /// Insertion order kept; duplicate keys keep the first.
    Obj(Vec<(String, Value)>),
}

impl Value {
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Obj(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Num(n) => Some(*n),
            _ => None,
        }
    }
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Arr(a) => Some(a),
            _ => None,
        }
    }
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
    /// A field that is a non-blank string.
    pub fn str_field(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Value::as_str).filter(|s| !s.trim().is_empty())
    }

    pub fn from_deserializer<'de, D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        Seed { depth: 0 }.deserialize(d)
    }

    /// How serde names a value of the wrong type: `string "x"`, ``floating point `5.0` ``, `map`.
    pub fn unexpected(&self) -> String {
        match self {
            Value::Null => "unit value".into(),
            Value::Bool(b) => format!("boolean `{}`", if *b { "true" } else { "false" }),
            Value::Num(n) => {
                let mut s = crate::proto::num::fmt(*n);
                if n.is_finite() && !s.contains('.') {
                    s.push_str(".0");
                }
                format!("floating point `{s}`")
            }
            Value::Str(s) => {
                let mut out = String::from("string \"");
                for c in s.chars() {
                    match c {
                        '"' | '\\' => {
                            out.push('\\');
                            out.push(c);
                        }
                        '\n' => out.push_str("\\n"),
                        '\r' => out.push_str("\\r"),
                        '\t' => out.push_str("\\t"),
                        c => out.push(c),
                    }
                }
                out.push('"');
                out
            }
            Value::Bytes(_) => "byte array".into(),
            Value::Arr(_) => "sequence".into(),
            Value::Obj(_) => "map".into(),
        }
    }

    /// serde's message for a value of the wrong type.
    pub fn invalid_type(&self, expected: &str) -> String {
        format!("invalid type: {}, expected {expected}", self.unexpected())
    }
}

struct Seed {
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for Seed {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        if self.depth > MAX_DEPTH {
            d.deserialize_ignored_any(IgnoredAny)?;
            return Ok(Value::Null);
        }
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed {
    type Value = Value;
    fn expecting(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Seed { depth: self.depth }.deserialize(d)
    }
    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::Num(n as f64))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(Value::Num(n as f64))
    }
    fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
        Ok(Value::Num(n))
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Value, E> {
        Ok(Value::Str(s.into()))
    }
    fn visit_string<E: de::Error>(self, s: String) -> Result<Value, E> {
        Ok(Value::Str(s))
    }
    fn visit_bytes<E: de::Error>(self, b: &[u8]) -> Result<Value, E> {
        Ok(Value::Bytes(b.to_vec()))
    }
    fn visit_byte_buf<E: de::Error>(self, b: Vec<u8>) -> Result<Value, E> {
        Ok(Value::Bytes(b))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while out.len() < MAX_ITEMS {
            match seq.next_element_seed(Seed { depth: self.depth + 1 })? {
                Some(v) => out.push(v),
                None => return Ok(Value::Arr(out)),
            }
        }
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Value::Arr(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out: Vec<(String, Value)> = Vec::new();
        while let Some(k) = map.next_key::<String>()? {
            if out.len() >= MAX_ITEMS || out.iter().any(|(e, _)| *e == k) {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            let v = map.next_value_seed(Seed { depth: self.depth + 1 })?;
            out.push((k, v));
        }
        Ok(Value::Obj(out))
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Num(n) => s.serialize_f64(*n),
            Value::Str(v) => s.serialize_str(v),
            Value::Bytes(b) => s.serialize_bytes(b),
            Value::Arr(a) => {
                let mut seq = s.serialize_seq(Some(a.len()))?;
                for v in a {
                    seq.serialize_element(v)?;
                }
                seq.end()
            }
            Value::Obj(m) => {
                let mut map = s.serialize_map(Some(m.len()))?;
                for (k, v) in m {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Value {
        Value::from_deserializer(&mut serde_json::Deserializer::from_str(s)).unwrap()
    }

    #[test]
    fn reads_every_kind_in_order() {
        let v = parse(r#"{"b":true,"n":-1.5,"s":"x","a":[1,null],"o":{"k":"v"},"b":false}"#);
        assert_eq!(v.get("b"), Some(&Value::Bool(true)), "first duplicate wins");
        assert_eq!(v.get("n").and_then(Value::as_f64), Some(-1.5));
        assert_eq!(v.get("a").and_then(Value::as_array).map(<[Value]>::len), Some(2));
        assert_eq!(v.get("o").and_then(|o| o.str_field("k")), Some("v"));
        assert_eq!(serde_json::to_string(&v).unwrap(), r#"{"b":true,"n":-1.5,"s":"x","a":[1.0,null],"o":{"k":"v"}}"#);
    }

    #[test]
    fn wrong_types_are_named_as_serde_names_them() {
        use serde::de::{Error, Unexpected};
        let cases: [(Value, Unexpected); 6] = [
            (Value::Null, Unexpected::Unit),
            (Value::Bool(true), Unexpected::Bool(true)),
            (Value::Num(5.0), Unexpected::Float(5.0)),
            (Value::Num(-1.25), Unexpected::Float(-1.25)),
            (Value::Str("a\"b\\c\n".into()), Unexpected::Str("a\"b\\c\n")),
            (Value::Arr(vec![]), Unexpected::Seq),
        ];
        for (v, u) in cases {
            assert_eq!(v.invalid_type("a string"), serde::de::value::Error::invalid_type(u, &"a string").to_string());
        }
    }

    #[test]
    fn deep_nesting_is_cut_not_a_crash() {
        let deep = format!("{}{}", "[".repeat(120), "]".repeat(120));
        let mut de = serde_json::Deserializer::from_str(&deep);
        let v = Value::from_deserializer(&mut de);
        // serde_json itself may refuse beyond its own limit; either way: no panic, bounded depth.
        if let Ok(mut v) = v {
            let mut depth = 0;
            while let Value::Arr(a) = v {
                depth += 1;
                v = a.into_iter().next().unwrap_or(Value::Null);
            }
            assert!(depth <= MAX_DEPTH + 2, "{depth}");
        }
    }

    #[test]
    fn long_arrays_and_objects_are_capped() {
        let big = format!("[{}]", vec!["1"; MAX_ITEMS + 500].join(","));
        assert_eq!(parse(&big).as_array().unwrap().len(), MAX_ITEMS);
        let keys: Vec<String> = (0..MAX_ITEMS + 500).map(|i| format!("\"k{i}\":{i}")).collect();
        match parse(&format!("{{{}}}", keys.join(","))) {
            Value::Obj(m) => assert_eq!(m.len(), MAX_ITEMS),
            other => panic!("{other:?}"),
        }
    }
}
