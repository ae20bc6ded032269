//! Checking a value against compiled nodes, by docs/validation-rules.md.

use super::{Additional, Node, NodeId, Schema, Ty};
use crate::proto::error::issues::field_path;
use crate::proto::error::{Ctx, FieldIssue, LocPart};
use crate::proto::value::Value;

/// Union branches nest; a hostile or recursive schema must not recurse without end.
const MAX_DEPTH: usize = 64;

pub fn validate(schema: &Schema, input: &Value) -> Vec<FieldIssue> {
    let mut out = Vec::new();
    let mut loc = vec![LocPart::Key("body".into())];
    Walk { schema, depth: 0 }.check(schema.root, input, &mut loc, &mut out, None);
    out
}

struct Walk<'a> {
    schema: &'a Schema,
    depth: usize,
}

fn json_type(v: &Value) -> Ty {
    match v {
        Value::Null => Ty::Null,
        Value::Bool(_) => Ty::Boolean,
        Value::Num(n) if n.fract() == 0.0 => Ty::Integer,
        Value::Num(_) => Ty::Number,
        Value::Str(_) => Ty::String,
        // Bytes are a byte array as far as a JSON schema can tell.
        Value::Bytes(_) | Value::Arr(_) => Ty::Array,
        Value::Obj(_) => Ty::Object,
    }
}

fn accepts(t: Ty, v: &Value) -> bool {
    match (t, json_type(v)) {
        (Ty::Number, Ty::Integer) => true,
        (a, b) => a == b,
    }
}

/// JSON numbers as JSON writes them: `20`, `0.5`, `14142`.
pub fn fmt_num(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        let mut s = String::new();
        if n < 0.0 {
            s.push('-');
        }
        crate::proto::num::write_u64(&mut s, n.abs() as u64);
        s
    } else {
        crate::proto::num::fmt(n)
    }
}

fn fmt_value(v: &Value) -> String {
    match v {
        Value::Str(s) => format!("'{s}'"),
        Value::Num(n) => fmt_num(*n),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".into(),
        Value::Bytes(b) => format!("<{} bytes>", b.len()),
        other => serde_json_like(other),
    }
}

fn serde_json_like(v: &Value) -> String {
    match v {
        Value::Arr(a) => format!("[{}]", a.iter().map(serde_json_like).collect::<Vec<_>>().join(", ")),
        Value::Obj(m) => format!("{{{}}}", m.iter().map(|(k, v)| format!("'{k}': {}", serde_json_like(v))).collect::<Vec<_>>().join(", ")),
        other => fmt_value(other),
    }
}

fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Num(x), Value::Num(y)) => x == y,
        (Value::Arr(x), Value::Arr(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b)),
        (Value::Obj(x), Value::Obj(y)) => x.len() == y.len() && x.iter().all(|(k, v)| y.iter().any(|(k2, v2)| k == k2 && same(v, v2))),
        _ => a == b,
    }
}

fn issue(loc: &[LocPart], kind: &str, msg: String, ctx: Option<Value>, input: &Value) -> FieldIssue {
    FieldIssue {
        loc: loc.to_vec(),
        field: field_path(loc),
        ctx: ctx.and_then(|c| Ctx::read(kind, &c)),
        kind: kind.into(),
        msg,
        input: Some(input.clone()),
        url: None,
        hint: None,
    }
}

fn obj(k: &str, v: Value) -> Option<Value> {
    Some(Value::Obj(vec![(k.into(), v)]))
}

impl Walk<'_> {
    fn check(&mut self, id: NodeId, v: &Value, loc: &mut Vec<LocPart>, out: &mut Vec<FieldIssue>, name: Option<&str>) {
        if self.depth >= MAX_DEPTH {
            return;
        }
        self.depth += 1;
        let schema = self.schema;
        let n = schema.node(id);
        for &branch in &n.all_of {
            let mut sub = Vec::new();
            self.check(branch, v, loc, &mut sub, name);
            for i in sub {
                if !out.contains(&i) {
                    out.push(i);
                }
            }
        }
        if !n.any_of.is_empty() {
            self.union(n, v, loc, out, name);
        }
        self.own(n, v, loc, out, name);
        self.depth -= 1;
    }

    /// anyOf / oneOf: passes if a branch passes; else the branch chosen by the value's JSON type reports.
    fn union(&mut self, n: &Node, v: &Value, loc: &mut Vec<LocPart>, out: &mut Vec<FieldIssue>, name: Option<&str>) {
        let mut reports: Vec<Vec<FieldIssue>> = Vec::new();
        for &b in &n.any_of {
            let mut sub = Vec::new();
            self.check(b, v, loc, &mut sub, name);
            if sub.is_empty() {
                return;
            }
            reports.push(sub);
        }
        let chosen = n.any_of.iter().position(|&b| self.branch_accepts(b, v)).unwrap_or(0);
        let mut issues = reports.swap_remove(chosen);
        if let Some(first) = issues.first_mut() {
            // Beyond the schema: a `WxH` string where presets or `{width, height}` are expected.
            let has_object_branch = n.any_of.iter().any(|&b| self.schema.node(b).types.contains(&Ty::Object));
            if first.kind == "one_of" && has_object_branch && matches!(v, Value::Str(_)) {
                first.hint = Some(size_hint(v));
            }
        }
        out.extend(issues);
    }

    fn branch_accepts(&self, id: NodeId, v: &Value) -> bool {
        let n = self.schema.node(id);
        if !n.types.is_empty() {
            return n.types.iter().any(|&t| accepts(t, v));
        }
        match &n.enumeration {
            Some(e) => e.iter().any(|x| accepts(json_type(x), v) || (json_type(x) == json_type(v))),
            None => false,
        }
    }

    fn own(&mut self, n: &Node, v: &Value, loc: &mut Vec<LocPart>, out: &mut Vec<FieldIssue>, name: Option<&str>) {
        if let Some(i) = self.first_failure(n, v, loc) {
            out.push(i);
            // A value of the wrong type has no children worth checking.
            if !n.types.is_empty() && !n.types.iter().any(|&t| accepts(t, v)) {
                return;
            }
        } else if let (Some(field), Value::Str(s)) = (name, v) {
            if field.ends_with("_url") {
                out.extend(url_issue(s, loc));
            }
        }
        match v {
            Value::Obj(map) if n.types.is_empty() || n.types.contains(&Ty::Object) => self.object(n, v, map, loc, out),
            Value::Arr(items) if n.types.is_empty() || n.types.contains(&Ty::Array) => {
                if let Some(item) = n.items {
                    for (i, x) in items.iter().enumerate() {
                        loc.push(LocPart::Index(i as u64));
                        self.check(item, x, loc, out, None);
                        loc.pop();
                    }
                }
            }
            _ => {}
        }
    }

    fn object(&mut self, n: &Node, whole: &Value, map: &[(String, Value)], loc: &mut Vec<LocPart>, out: &mut Vec<FieldIssue>) {
        for (prop, id) in &n.properties {
            loc.push(LocPart::Key(prop.clone()));
            match map.iter().find(|(k, _)| k == prop) {
                Some((_, x)) => self.check(*id, x, loc, out, Some(prop)),
                None if n.required.contains(prop) => out.push(issue(loc, "missing", "Field required".into(), None, whole)),
                None => {}
            }
            loc.pop();
        }
        for req in n.required.iter().filter(|r| !n.properties.iter().any(|(p, _)| p == *r)) {
            if !map.iter().any(|(k, _)| k == req) {
                loc.push(LocPart::Key(req.clone()));
                out.push(issue(loc, "missing", "Field required".into(), None, whole));
                loc.pop();
            }
        }
        for (k, x) in map.iter().filter(|(k, _)| !n.properties.iter().any(|(p, _)| p == k)) {
            loc.push(LocPart::Key(k.clone()));
            match n.additional {
                Additional::Allow => {}
                Additional::Forbid => out.push(issue(loc, "extra_forbidden", "Extra inputs are not permitted".into(), None, x)),
                Additional::Schema(id) => self.check(id, x, loc, out, Some(k)),
            }
            loc.pop();
        }
    }

    /// The value's own checks, in order; only the first failure counts.
    fn first_failure(&self, n: &Node, v: &Value, loc: &[LocPart]) -> Option<FieldIssue> {
        if v.is_null() && (n.nullable || n.types.contains(&Ty::Null)) {
            return None;
        }
        let declared: Vec<Ty> = n.types.iter().copied().filter(|t| *t != Ty::Null).collect();
        if !n.types.is_empty() && !n.types.iter().any(|&t| accepts(t, v)) {
            let (kind, msg) = match declared.first().copied().unwrap_or(Ty::Null) {
                Ty::String => ("string_type", "Input should be a valid string"),
                Ty::Integer if matches!(v, Value::Num(x) if x.is_finite()) => ("int_from_float", "Input should be a valid integer, got a number with a fractional part"),
                Ty::Integer => ("int_type", "Input should be a valid integer"),
                Ty::Number => ("float_type", "Input should be a valid number"),
                Ty::Boolean => ("bool_type", "Input should be a valid boolean"),
                Ty::Array => ("list_type", "Input should be a valid list"),
                Ty::Object => ("dict_type", "Input should be a valid dictionary"),
                Ty::Null => ("none_required", "Input should be None"),
            };
            return Some(issue(loc, kind, msg.into(), None, v));
        }
        if let Some(e) = &n.enumeration {
            if !e.iter().any(|x| same(x, v)) {
                let shown: Vec<String> = e.iter().map(fmt_value).collect();
                let list = match shown.as_slice() {
                    [] => String::new(),
                    [one] => one.clone(),
                    [init @ .., last] => format!("{} or {last}", init.join(", ")),
                };
                return Some(issue(loc, "one_of", format!("Input should be {list}"), obj("expected", Value::Arr(e.clone())), v));
            }
        }
        if let Value::Num(x) = v {
            let bounds: [(Option<f64>, bool, &str, &str, &str); 4] = [
                (n.exclusive_minimum, n.exclusive_minimum.is_some_and(|m| *x <= m), "greater_than", "gt", "greater than"),
                (n.minimum, n.minimum.is_some_and(|m| *x < m), "greater_than_equal", "ge", "greater than or equal to"),
                (n.exclusive_maximum, n.exclusive_maximum.is_some_and(|m| *x >= m), "less_than", "lt", "less than"),
                (n.maximum, n.maximum.is_some_and(|m| *x > m), "less_than_equal", "le", "less than or equal to"),
            ];
            if let Some((Some(m), _, kind, key, words)) = bounds.into_iter().find(|b| b.1) {
                return Some(issue(loc, kind, format!("Input should be {words} {}", fmt_num(m)), obj(key, Value::Num(m)), v));
            }
            if let Some(m) = n.multiple_of {
                let q = x / m;
                if (q - q.round()).abs() > 1e-9 {
                    return Some(issue(loc, "multiple_of", format!("Input should be a multiple of {}", fmt_num(m)), obj("multiple_of", Value::Num(m)), v));
                }
            }
        }
        let (len, min, max, unit) = match v {
            // Characters counted as the bytes that start one (what `chars().count()` gives, without its SIMD-ish counter).
            Value::Str(s) => (s.bytes().filter(|b| b & 0xC0 != 0x80).count() as f64, n.min_length, n.max_length, ("String", "characters")),
            Value::Arr(a) => (a.len() as f64, n.min_items, n.max_items, ("Sequence", "items")),
            _ => return None,
        };
        if let Some(m) = min.filter(|m| len < *m) {
            return Some(issue(loc, "sequence_too_short", format!("{} should have at least {} {}", unit.0, fmt_num(m), unit.1), obj("min_length", Value::Num(m)), v));
        }
        if let Some(m) = max.filter(|m| len > *m) {
            return Some(issue(loc, "sequence_too_long", format!("{} should have at most {} {}", unit.0, fmt_num(m), unit.1), obj("max_length", Value::Num(m)), v));
        }
        None
    }
}

fn size_hint(v: &Value) -> String {
    let s = v.as_str().unwrap_or("");
    match s.split_once(['x', 'X', '*']).and_then(|(w, h)| Some((w.trim().parse::<u32>().ok()?, h.trim().parse::<u32>().ok()?))) {
        Some((w, h)) => format!("Use one of the presets, or give the size as an object: {{\"width\": {w}, \"height\": {h}}}"),
        None => "Use one of the presets, or give the size as an object: {\"width\": 1024, \"height\": 768}".into(),
    }
}

/// Beyond the schema: a URL field holding a local path or a browser-only URL that
/// the server can never fetch.
pub fn url_issue(s: &str, loc: &[LocPart]) -> Option<FieldIssue> {
    let t = s.trim();
    let lower = t.to_ascii_lowercase();
    let drive = t.len() > 2 && t.as_bytes()[0].is_ascii_alphabetic() && t.as_bytes()[1] == b':' && matches!(t.as_bytes()[2], b'\\' | b'/');
    let scheme = if lower.starts_with("file:") {
        "file"
    } else if lower.starts_with("blob:") {
        "blob"
    } else if (t.starts_with('/') && !t.starts_with("//")) || t.starts_with("./") || t.starts_with("../") || t.starts_with("~/") || t.starts_with("\\\\") || drive {
        "path"
    } else {
        return None;
    };
    Some(issue(
        loc,
        "invalid_url",
        "This must be a URL the server can fetch (http(s) or data:); upload the file first".into(),
        obj("scheme", Value::Str(scheme.into())),
        &Value::Str(s.into()),
    ))
}
