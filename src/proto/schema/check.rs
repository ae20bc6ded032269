//! An input judged against the compiled model by pydantic v2's lax-mode rules, as FastAPI runs
//! them for a request body (`validate_python(body, from_attributes=True)`), reported with fal's
//! names for the error types (docs/validation-rules.md).
//!
//! Every check first asks only for a verdict; issues (and their `loc`) are built only for a
//! value that fails, so a valid input costs no allocation. A union's members are judged the same
//! way: only when none passes are they run again to report.

use super::lax::{self, py_num, IntErr, PyNum, UrlVerdict};
use super::{Bounds, Extra, Flavor, Kind, NodeId, Options, Schema};
use crate::proto::error::{Ctx, FieldIssue, LocPart};
use crate::proto::value::Value;

/// Nesting beyond this is left to the server (accepted), like values past `value::MAX_DEPTH`.
const MAX_DEPTH: usize = 64;

const NULL: Value = Value::Null;
/// A File, Blob or byte array in an input is uploaded and sent as its URL.
const UPLOADED: &str = "https://upload.pending/file";

pub fn validate(schema: &Schema, input: &Value, options: &Options) -> Vec<FieldIssue> {
    let flagged: Vec<*const Value> = options.lone_surrogates.iter().filter_map(|p| locate(input, p)).map(|v| v as *const Value).collect();
    let walk = Walk { schema, options, flagged };
    let mut out = Vec::new();
    let body = Path::Root;
    if matches!(effective(input), Value::Null) {
        // FastAPI: a null (or missing) body for a required body parameter.
        out.push(walk.issue(&body, Why::Missing, &NULL));
        return out;
    }
    walk.check(schema.root, input, &body, Some(&mut out), None, 0);
    out
}

fn locate<'v>(mut v: &'v Value, path: &[LocPart]) -> Option<&'v Value> {
    for part in path {
        v = match (part, v) {
            (LocPart::Key(k), Value::Obj(m)) => m.iter().find(|(x, _)| x == k).map(|(_, x)| x)?,
            (LocPart::Index(i), Value::Arr(a)) => a.get(*i as usize)?,
            _ => return None,
        };
    }
    Some(v)
}

/// What the server receives for a value a browser serialises: non-finite numbers become null.
fn effective(v: &Value) -> &Value {
    match v {
        Value::Num(n) if !n.is_finite() => &NULL,
        other => other,
    }
}

/// Where a value sits: a chain on the stack, turned into a `loc` only for an issue.
#[derive(Clone, Copy)]
enum Path<'p> {
    Root,
    Key(&'p str, &'p Path<'p>),
    Index(usize, &'p Path<'p>),
    /// A union member's label (pydantic puts it in `loc`).
    Tag(NodeId, &'p Path<'p>),
}

struct Walk<'a> {
    schema: &'a Schema,
    options: &'a Options,
    flagged: Vec<*const Value>,
}

/// A bound's error type, the words of its message and its `ctx` key.
type BoundNames = (&'static str, &'static str, &'static str);
const MULTIPLE_OF: BoundNames = ("multiple_of", "a multiple of", "multiple_of");
const LE: BoundNames = ("less_than_equal", "less than or equal to", "le");
const LT: BoundNames = ("less_than", "less than", "lt");
const GE: BoundNames = ("greater_than_equal", "greater than or equal to", "ge");
const GT: BoundNames = ("greater_than", "greater than", "gt");

/// Why a value fails, rendered (type after fal's renaming, pydantic's message, ctx) only for an
/// issue that is reported.
enum Why<'a> {
    Missing,
    ExtraForbidden,
    NoneRequired,
    StringType,
    StringUnicode,
    StrShort(usize),
    StrLong(usize),
    /// Minimum (or maximum) and the list's length.
    ListShort(usize, usize),
    ListLong(usize, usize),
    ListType,
    DictType,
    /// A model given something that is not an object (`model_attributes_type`: FastAPI validates
    /// with `from_attributes`).
    ModelType,
    IntType,
    IntParsing,
    IntFromFloat,
    IntSize,
    FloatType,
    FloatParsing,
    BoolType,
    BoolParsing,
    Bound(BoundNames, f64),
    OneOf(&'a [Value]),
    UrlType,
    UrlLong(usize),
    UrlParsing(&'static str),
    UrlScheme,
}

impl Why<'_> {
    fn render(self) -> (&'static str, String, Option<Value>) {
        let plain = |kind, msg: &str| (kind, msg.to_string(), None);
        match self {
            Why::Missing => plain("missing", "Field required"),
            Why::ExtraForbidden => plain("extra_forbidden", "Extra inputs are not permitted"),
            Why::NoneRequired => plain("none_required", "Input should be None"),
            Why::StringType => plain("string_type", "Input should be a valid string"),
            Why::StringUnicode => plain("string_unicode", "Input should be a valid string, unable to parse raw data as a unicode string"),
            Why::ListType => plain("list_type", "Input should be a valid list"),
            Why::DictType => plain("dict_type", "Input should be a valid dictionary"),
            Why::ModelType => plain("dict_type", "Input should be a valid dictionary or object to extract fields from"),
            Why::IntType => plain("int_type", "Input should be a valid integer"),
            Why::IntParsing => plain("int_type", "Input should be a valid integer, unable to parse string as an integer"),
            Why::IntFromFloat => plain("int_from_float", "Input should be a valid integer, got a number with a fractional part"),
            Why::IntSize => plain("int_parsing_size", "Unable to parse input string as an integer, exceeded maximum size"),
            Why::FloatType => plain("float_type", "Input should be a valid number"),
            Why::FloatParsing => plain("float_type", "Input should be a valid number, unable to parse string as a number"),
            Why::BoolType => plain("bool_type", "Input should be a valid boolean"),
            Why::BoolParsing => plain("bool_type", "Input should be a valid boolean, unable to interpret input"),
            Why::UrlType => plain("url_type", "URL input should be a string or URL"),
            Why::StrShort(n) => length("sequence_too_short", "min_length", n, "String should have at least ", " character", ""),
            Why::StrLong(n) => length("sequence_too_long", "max_length", n, "String should have at most ", " character", ""),
            Why::UrlLong(n) => length("sequence_too_long", "max_length", n, "URL should have at most ", " character", ""),
            Why::ListShort(n, len) => length("sequence_too_short", "min_length", n, "List should have at least ", " item", &after(len)),
            Why::ListLong(n, len) => length("sequence_too_long", "max_length", n, "List should have at most ", " item", &after(len)),
            Why::Bound((kind, words, key), m) => (kind, format!("Input should be {words} {}", fmt_num(m)), obj(key, Value::Num(m))),
            Why::OneOf(values) => ("one_of", format!("Input should be {}", expected_text(values)), obj("expected", Value::Arr(values.to_vec()))),
            Why::UrlParsing(e) => ("url_parsing", format!("Input should be a valid URL, {e}"), obj("error", Value::Str(e.into()))),
            Why::UrlScheme => ("url_scheme", "URL scheme should be 'http' or 'https'".into(), obj("expected_schemes", Value::Str("'http' or 'https'".into()))),
        }
    }
}

/// `String should have at least 3 characters`, `List should have at most 1 item after validation, not 2`.
fn length(kind: &'static str, key: &str, n: usize, head: &str, unit: &str, tail: &str) -> (&'static str, String, Option<Value>) {
    let mut msg = String::from(head);
    crate::proto::num::write_u64(&mut msg, n as u64);
    msg.push_str(unit);
    if n != 1 {
        msg.push('s');
    }
    msg.push_str(tail);
    (kind, msg, obj(key, Value::Num(n as f64)))
}

fn after(len: usize) -> String {
    let mut s = String::from(" after validation, not ");
    crate::proto::num::write_u64(&mut s, len as u64);
    s
}

/// JSON numbers as Rust's `Display` writes them (pydantic-core's messages): `20`, `0.5`.
pub fn fmt_num(n: f64) -> String {
    crate::proto::num::fmt(n)
}

fn obj(k: &str, v: Value) -> Option<Value> {
    Some(Value::Obj(vec![(k.into(), v)]))
}

/// Python's `repr` of a literal value.
fn py_repr(v: &Value) -> String {
    match v {
        Value::Str(s) => lax::py_repr_str(s),
        Value::Num(n) if n.fract() == 0.0 && n.is_finite() => fmt_num(*n),
        Value::Num(n) => lax::py_repr_fraction(*n),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        _ => "None".into(),
    }
}

/// pydantic-core's `'a', 'b' or 'c'`.
fn expected_text(values: &[Value]) -> String {
    let mut out = String::new();
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push_str(if i + 1 == values.len() { " or " } else { ", " });
        }
        out.push_str(&py_repr(v));
    }
    out
}

/// `head[a,b]`.
fn listed(head: &str, items: impl Iterator<Item = String>) -> String {
    let mut out = String::from(head);
    out.push('[');
    for (i, x) in items.enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&x);
    }
    out.push(']');
    out
}

/// Python's `==` between JSON values (`True == 1 == 1.0`).
fn py_eq(a: &Value, b: &Value) -> bool {
    let as_num = |v: &Value| match v {
        Value::Num(n) => Some(*n),
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        _ => None,
    };
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::Null, Value::Null) => true,
        _ => matches!((as_num(a), as_num(b)), (Some(x), Some(y)) if x == y),
    }
}

/// The client's hint for a value that can only be a file on this machine or in this page.
const UPLOAD_FIRST: &str = "This is a file on this device or in this page: upload it first (client.storage.upload) and send its URL";

impl Walk<'_> {
    fn loc(&self, path: &Path) -> (Vec<LocPart>, String) {
        let mut parts = Vec::new();
        let mut field_parts = Vec::new();
        let mut at = path;
        loop {
            match at {
                Path::Root => break,
                Path::Key(k, up) => {
                    parts.push(LocPart::Key((*k).into()));
                    field_parts.push(LocPart::Key((*k).into()));
                    at = up;
                }
                Path::Index(i, up) => {
                    parts.push(LocPart::Index(*i as u64));
                    field_parts.push(LocPart::Index(*i as u64));
                    at = up;
                }
                Path::Tag(id, up) => {
                    parts.push(LocPart::Key(self.name(*id, true)));
                    at = up;
                }
            }
        }
        parts.push(LocPart::Key("body".into()));
        parts.reverse();
        field_parts.reverse();
        // `field` names the input's own path: union labels are not part of it.
        (parts, crate::proto::error::issues::field_path(&field_parts))
    }

    fn issue(&self, path: &Path, why: Why, input: &Value) -> FieldIssue {
        let (loc, field) = self.loc(path);
        let (kind, msg, ctx) = why.render();
        let input = match input {
            Value::Bytes(_) => Value::Str(UPLOADED.into()),
            Value::Num(n) if !n.is_finite() => Value::Null,
            other => other.clone(),
        };
        FieldIssue { loc, field, ctx: ctx.and_then(|c| Ctx::read(kind, &c)), kind: kind.into(), msg, input: Some(input), url: None, hint: None }
    }

    /// Records why the value fails when reporting; always returns false (the value fails).
    fn fail(&self, out: &mut Option<&mut Vec<FieldIssue>>, path: &Path, why: Why, input: &Value) -> bool {
        if let Some(out) = out {
            out.push(self.issue(path, why, input));
        }
        false
    }

    fn unicode_error(&self, v: &Value) -> bool {
        !self.flagged.is_empty() && self.flagged.contains(&(v as *const Value))
    }

    /// Judges `v` against node `id`; with `out`, records why it fails. `field`: the property name
    /// the value sits under (for the client's URL check).
    fn check(&self, id: NodeId, raw: &Value, path: &Path, mut out: Option<&mut Vec<FieldIssue>>, field: Option<&str>, depth: usize) -> bool {
        if depth > MAX_DEPTH {
            return true;
        }
        let (node, nullable) = self.schema.resolve(id);
        let uploaded;
        let v = match effective(raw) {
            Value::Bytes(_) => {
                uploaded = Value::Str(UPLOADED.into());
                &uploaded
            }
            other => other,
        };
        if nullable && v.is_null() {
            return true;
        }
        let out = &mut out;
        match &node.kind {
            Kind::Any => true,
            Kind::Alias(_) => unreachable!("resolved"),
            Kind::Null => v.is_null() || self.fail(out, path, Why::NoneRequired, v),
            Kind::Str { min, max, constrained, uri } => {
                let Value::Str(s) = v else { return self.fail(out, path, Why::StringType, v) };
                if *constrained {
                    if self.unicode_error(raw) {
                        return self.fail(out, path, Why::StringUnicode, v);
                    }
                    let len = s.chars().count();
                    if let Some(m) = min.filter(|m| len < *m) {
                        return self.fail(out, path, Why::StrShort(m), v);
                    }
                    if let Some(m) = max.filter(|m| len > *m) {
                        return self.fail(out, path, Why::StrLong(m), v);
                    }
                }
                if let Some(out) = out.as_deref_mut().filter(|_| self.options.client && (*uri || field.is_some_and(|f| f.ends_with("_url")))) {
                    if let Some(scheme) = local_scheme(s) {
                        let (loc, field) = self.loc(path);
                        out.push(invalid_url(s, scheme, loc, field));
                    }
                }
                true
            }
            Kind::Url { max } => self.url(*max, raw, v, path, out),
            Kind::Int(b) => self.int(b, v, path, out),
            Kind::Float(b) => self.float(b, v, path, out),
            Kind::Bool => self.boolean(v, path, out),
            Kind::Literal(values) => {
                if matches!(v, Value::Str(_)) && values.iter().any(|x| matches!(x, Value::Str(_))) && self.unicode_error(raw) {
                    return self.fail(out, path, Why::StringUnicode, v);
                }
                values.iter().any(|x| py_eq(x, v)) || self.one_of(values, v, path, out)
            }
            Kind::Enum { values, flavor, .. } => self.enumeration(values, *flavor, raw, v, path, out),
            Kind::List { items, min, max } => {
                let Value::Arr(list) = v else { return self.fail(out, path, Why::ListType, v) };
                let len = list.len();
                let too_short = |walk: &Self, out: &mut Option<&mut Vec<FieldIssue>>, m: usize| walk.fail(out, path, Why::ListShort(m, len), v);
                let too_long = |walk: &Self, out: &mut Option<&mut Vec<FieldIssue>>, m: usize| walk.fail(out, path, Why::ListLong(m, len), v);
                match items {
                    None => {
                        if let Some(m) = min.filter(|m| len < *m) {
                            return too_short(self, out, m);
                        }
                        if let Some(m) = max.filter(|m| len > *m) {
                            return too_long(self, out, m);
                        }
                        true
                    }
                    Some(item) => {
                        // pydantic stops at the item past the maximum: only that is reported.
                        if let Some(m) = max.filter(|m| len > *m) {
                            return too_long(self, out, m);
                        }
                        let mut ok = true;
                        for (i, x) in list.iter().enumerate() {
                            let at = Path::Index(i, path);
                            if !self.check(*item, x, &at, out.as_deref_mut(), None, depth + 1) {
                                ok = false;
                                if out.is_none() {
                                    return false;
                                }
                            }
                        }
                        if !ok {
                            return false;
                        }
                        if let Some(m) = min.filter(|m| len < *m) {
                            return too_short(self, out, m);
                        }
                        true
                    }
                }
            }
            Kind::Dict { values } => {
                let Value::Obj(map) = v else { return self.fail(out, path, Why::DictType, v) };
                let mut ok = true;
                if let Some(node) = values {
                    for (k, x) in map {
                        let at = Path::Key(k, path);
                        if !self.check(*node, x, &at, out.as_deref_mut(), Some(k), depth + 1) {
                            ok = false;
                            if out.is_none() {
                                return false;
                            }
                        }
                    }
                }
                ok
            }
            Kind::Model { fields, extra, .. } => {
                let Value::Obj(map) = v else {
                    return self.fail(out, path, Why::ModelType, v);
                };
                let mut ok = true;
                for f in fields {
                    let at = Path::Key(&f.name, path);
                    let passed = match map.iter().find(|(k, _)| *k == f.name) {
                        Some((_, x)) if f.null_ok && effective(x).is_null() => true,
                        Some((_, x)) => self.check(f.node, x, &at, out.as_deref_mut(), Some(&f.name), depth + 1),
                        None if f.required => self.fail(out, &at, Why::Missing, v),
                        None => true,
                    };
                    if !passed {
                        ok = false;
                        if out.is_none() {
                            return false;
                        }
                    }
                }
                if *extra != Extra::Ignore {
                    for (k, x) in map.iter().filter(|(k, _)| !fields.iter().any(|f| f.name == *k)) {
                        let at = Path::Key(k, path);
                        let passed = match extra {
                            Extra::Forbid => self.fail(out, &at, Why::ExtraForbidden, x),
                            Extra::Allow(Some(node)) => self.check(*node, x, &at, out.as_deref_mut(), Some(k), depth + 1),
                            _ => true,
                        };
                        if !passed {
                            ok = false;
                            if out.is_none() {
                                return false;
                            }
                        }
                    }
                }
                ok
            }
            Kind::Union(members) => {
                if members.iter().any(|m| self.check(*m, raw, path, None, field, depth + 1)) {
                    return true;
                }
                if let Some(out) = out.as_deref_mut() {
                    let start = out.len();
                    for m in members {
                        self.check(*m, raw, &Path::Tag(*m, path), Some(out), field, depth + 1);
                    }
                    // Beyond the schema: a `WxH` string where presets or `{width, height}` are expected.
                    let has_model = members.iter().any(|m| matches!(self.schema.resolve(*m).0.kind, Kind::Model { .. }));
                    if self.options.client && has_model && matches!(v, Value::Str(_)) {
                        if let Some(i) = out[start..].iter_mut().find(|i| i.kind == "one_of") {
                            i.hint = Some(size_hint(v));
                        }
                    }
                }
                false
            }
        }
    }

    fn one_of(&self, values: &[Value], v: &Value, path: &Path, out: &mut Option<&mut Vec<FieldIssue>>) -> bool {
        self.fail(out, path, Why::OneOf(values), v)
    }

    fn enumeration(&self, values: &[Value], flavor: Flavor, raw: &Value, v: &Value, path: &Path, out: &mut Option<&mut Vec<FieldIssue>>) -> bool {
        let has_str = values.iter().any(|x| matches!(x, Value::Str(_)));
        if matches!(v, Value::Str(_)) && has_str && matches!(flavor, Flavor::Str | Flavor::Plain) && self.unicode_error(raw) {
            return self.fail(out, path, Why::StringUnicode, v);
        }
        let lax_value = match flavor {
            // `lookup.validate_int` / `validate_float` read the input leniently first.
            Flavor::Int => int_value(v).ok().map(Value::Num),
            Flavor::Float => float_value(v).map(Value::Num),
            Flavor::Str | Flavor::Plain => None,
        };
        let member = |x: &Value| py_eq(x, v) || lax_value.as_ref().is_some_and(|l| py_eq(x, l));
        values.iter().any(member) || self.one_of(values, v, path, out)
    }

    fn url(&self, max: usize, raw: &Value, v: &Value, path: &Path, out: &mut Option<&mut Vec<FieldIssue>>) -> bool {
        let Value::Str(s) = v else { return self.fail(out, path, Why::UrlType, v) };
        if self.unicode_error(raw) {
            return self.fail(out, path, Why::StringUnicode, v);
        }
        let why = if s.len() > max {
            Why::UrlLong(max)
        } else {
            match lax::http_url(s) {
                UrlVerdict::Fine => return true,
                UrlVerdict::Parsing(e) => Why::UrlParsing(e),
                UrlVerdict::Scheme => Why::UrlScheme,
            }
        };
        let failed = self.fail(out, path, why, v);
        if let Some(out) = out.as_deref_mut() {
            if self.options.client && local_scheme(s).is_some() {
                if let Some(last) = out.last_mut() {
                    last.hint = Some(UPLOAD_FIRST.into());
                }
            }
        }
        failed
    }

    fn int(&self, b: &Bounds, v: &Value, path: &Path, out: &mut Option<&mut Vec<FieldIssue>>) -> bool {
        let n = match int_value(v) {
            Ok(n) => n,
            Err(None) => return self.fail(out, path, Why::IntType, v),
            Err(Some(IntErr::Parsing)) => return self.fail(out, path, Why::IntParsing, v),
            Err(Some(IntErr::FromFloat)) => return self.fail(out, path, Why::IntFromFloat, v),
            Err(Some(IntErr::Size)) => return self.fail(out, path, Why::IntSize, v),
        };
        if let Some(m) = b.multiple_of.filter(|m| !whole_multiple(n, *m)) {
            return self.fail(out, path, Why::Bound(MULTIPLE_OF, m), v);
        }
        self.limits(b, n, v, path, out)
    }

    fn float(&self, b: &Bounds, v: &Value, path: &Path, out: &mut Option<&mut Vec<FieldIssue>>) -> bool {
        let f = match v {
            Value::Str(s) => match lax::str_as_float(s) {
                Some(f) => f,
                None => return self.fail(out, path, Why::FloatParsing, v),
            },
            other => match float_value(other) {
                Some(f) => f,
                None => return self.fail(out, path, Why::FloatType, v),
            },
        };
        if let Some(m) = b.multiple_of {
            if (f - (f / m).round() * m).abs() > 1e-9 {
                return self.fail(out, path, Why::Bound(MULTIPLE_OF, m), v);
            }
        }
        self.limits(b, f, v, path, out)
    }

    /// le, lt, ge, gt, in pydantic-core's order; a NaN fails the first bound there is.
    fn limits(&self, b: &Bounds, x: f64, v: &Value, path: &Path, out: &mut Option<&mut Vec<FieldIssue>>) -> bool {
        use core::cmp::Ordering::{Equal, Greater, Less};
        // As pydantic-core compares: a NaN is in no order, so it fails.
        let failed = [
            (b.le.filter(|m| !matches!(x.partial_cmp(m), Some(Less | Equal))), LE),
            (b.lt.filter(|m| !matches!(x.partial_cmp(m), Some(Less))), LT),
            (b.ge.filter(|m| !matches!(x.partial_cmp(m), Some(Greater | Equal))), GE),
            (b.gt.filter(|m| !matches!(x.partial_cmp(m), Some(Greater))), GT),
        ];
        match failed.into_iter().find_map(|(m, names)| Some((m?, names))) {
            Some((m, names)) => self.fail(out, path, Why::Bound(names, m), v),
            None => true,
        }
    }

    fn boolean(&self, v: &Value, path: &Path, out: &mut Option<&mut Vec<FieldIssue>>) -> bool {
        let verdict = match v {
            Value::Bool(_) => Some(true),
            Value::Str(s) => Some(lax::str_as_bool(s).is_some()),
            Value::Num(n) => match py_num(*n) {
                // A Python int within i64: only 0 and 1; beyond it, pydantic tries it as a float.
                PyNum::Int(i) if (-9.223372036854776e18..9.223372036854776e18).contains(&i) => Some(i == 0.0 || i == 1.0),
                PyNum::Int(f) | PyNum::Float(f) => match lax::float_as_int(f) {
                    Ok(i) => Some(i == 0.0 || i == 1.0),
                    Err(_) => None,
                },
            },
            _ => None,
        };
        match verdict {
            Some(true) => true,
            Some(false) => self.fail(out, path, Why::BoolParsing, v),
            None => self.fail(out, path, Why::BoolType, v),
        }
    }

    /// pydantic-core's name for a node, as it labels union members in `loc`.
    fn name(&self, id: NodeId, top: bool) -> String {
        let (n, nullable) = self.schema.resolve(id);
        let inner = match &n.kind {
            Kind::Any => "any".into(),
            Kind::Null => "none".into(),
            Kind::Alias(_) => unreachable!("resolved"),
            Kind::Str { constrained: true, .. } => "constrained-str".into(),
            Kind::Str { .. } => "str".into(),
            // HttpUrl is a class whose schema wraps the URL validator.
            Kind::Url { .. } => "function-wrap[wrap_val()]".into(),
            Kind::Int(b) if b.any() => "constrained-int".into(),
            Kind::Int(_) => "int".into(),
            Kind::Float(b) if b.any() => "constrained-float".into(),
            Kind::Float(_) => "float".into(),
            Kind::Bool => "bool".into(),
            Kind::Literal(values) => listed("literal", values.iter().map(py_repr)),
            Kind::Enum { name, flavor, .. } => {
                let prefix = match flavor {
                    Flavor::Str => "str-enum",
                    Flavor::Int => "int-enum",
                    Flavor::Float => "float-enum",
                    Flavor::Plain => "enum",
                };
                format!("{prefix}[{name}]")
            }
            Kind::List { items, .. } => format!("list[{}]", items.map_or_else(|| "any".into(), |i| self.name(i, false))),
            Kind::Dict { values } => format!("dict[str,{}]", values.map_or_else(|| "any".into(), |i| self.name(i, false))),
            Kind::Model { name, .. } => name.clone(),
            Kind::Union(members) => listed("union", members.iter().map(|m| self.name(*m, true))),
        };
        if nullable && !top {
            format!("nullable[{inner}]")
        } else {
            inner
        }
    }
}

/// Python's `n % m == 0` for whole numbers, exactly (no float remainder in the download): a
/// number past 2^63 is its 53-bit mantissa doubled `exp` times, each step reduced mod `m`.
fn whole_multiple(n: f64, m: f64) -> bool {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    let n = n.abs();
    if m >= TWO_63 {
        return n == 0.0 || n == m;
    }
    let m = m as u64;
    if n < TWO_63 {
        return (n as u64) % m == 0;
    }
    let bits = n.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i64 - 1075;
    let mut r = ((bits & ((1 << 52) - 1)) | (1 << 52)) % m;
    for _ in 0..exp {
        r = (r << 1) % m;
    }
    r == 0
}

/// An integer as pydantic's lax mode reads one (`validate_int`); `Err(None)`: not a number at all.
fn int_value(v: &Value) -> Result<f64, Option<IntErr>> {
    match v {
        Value::Bool(b) => Ok(if *b { 1.0 } else { 0.0 }),
        Value::Num(n) => match py_num(*n) {
            PyNum::Int(i) => Ok(i),
            PyNum::Float(f) => lax::float_as_int(f).map_err(Some),
        },
        Value::Str(s) => lax::str_as_int(s).map_err(Some),
        _ => Err(None),
    }
}

/// A float as pydantic's lax mode reads one (`validate_float`).
fn float_value(v: &Value) -> Option<f64> {
    match v {
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        Value::Num(n) => Some(*n),
        Value::Str(s) => lax::str_as_float(s),
        _ => None,
    }
}

fn size_hint(v: &Value) -> String {
    let s = v.as_str().unwrap_or("");
    match s.split_once(['x', 'X', '*']).and_then(|(w, h)| Some((w.trim().parse::<u32>().ok()?, h.trim().parse::<u32>().ok()?))) {
        Some((w, h)) => format!("Use one of the presets, or give the size as an object: {{\"width\": {w}, \"height\": {h}}}"),
        None => "Use one of the presets, or give the size as an object: {\"width\": 1024, \"height\": 768}".into(),
    }
}

/// `file`, `blob` or `path` when the string can only name something on this device or page.
fn local_scheme(s: &str) -> Option<&'static str> {
    let t = s.trim();
    let lower = t.to_ascii_lowercase();
    let b = t.as_bytes();
    let drive = b.len() > 2 && b[0].is_ascii_alphabetic() && b[1] == b':' && matches!(b[2], b'\\' | b'/');
    if lower.starts_with("file:") {
        Some("file")
    } else if lower.starts_with("blob:") {
        Some("blob")
    } else if (t.starts_with('/') && !t.starts_with("//"))
        || t.starts_with("./")
        || t.starts_with("../")
        || t.starts_with("~/")
        || t.starts_with("\\\\")
        || drive
    {
        Some("path")
    } else {
        None
    }
}

/// Beyond the schema (client only): a URL field holding a local path or a browser-only URL that
/// the server can never fetch.
pub fn url_issue(s: &str, loc: &[LocPart]) -> Option<FieldIssue> {
    Some(invalid_url(s, local_scheme(s)?, loc.to_vec(), crate::proto::error::issues::field_path(loc)))
}

fn invalid_url(s: &str, scheme: &str, loc: Vec<LocPart>, field: String) -> FieldIssue {
    FieldIssue {
        loc,
        field,
        ctx: Ctx::read("invalid_url", &Value::Obj(vec![("scheme".into(), Value::Str(scheme.into()))])),
        kind: "invalid_url".into(),
        msg: "This must be a URL the server can fetch (http(s) or data:); upload the file first".into(),
        input: Some(Value::Str(s.into())),
        url: None,
        hint: None,
    }
}
