//! Server-side input validation: an input judged against the endpoint's OpenAPI input schema,
//! the way fal's 422 reports it. The contract is `docs/validation-rules.md`; this is an
//! implementation of that page written independently of the client's.
//!
//! Before validating, every `$ref` reachable from the input schema is resolved once: one that
//! does not resolve, or a cycle of them, makes the schema unusable (`SchemaError`), and the
//! caller then accepts the input unvalidated. After that check the walk cannot loop.

use std::fmt;

use serde::Serialize;
use serde_json::{Map, Number, Value};

/// One step of an issue's `loc`: a property name or an array index.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum LocItem {
    Key(String),
    Index(usize),
}

/// One entry of a 422 `detail`: `{loc, msg, type, ctx?, input}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Issue {
    pub loc: Vec<LocItem>,
    pub msg: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ctx: Option<Map<String, Value>>,
    pub input: Value,
}

/// Why a document's input schema cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemaError {
    /// No `paths[*].post.requestBody.content["application/json"].schema`.
    NoInputSchema,
    /// A `$ref` that is not `#/components/schemas/<name>` of an existing schema.
    UnresolvedRef(String),
    /// A `$ref` reached again through itself.
    RefCycle(String),
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SchemaError::NoInputSchema => write!(f, "the document has no JSON request body schema"),
            SchemaError::UnresolvedRef(r) => write!(f, "unresolvable $ref '{r}'"),
            SchemaError::RefCycle(r) => write!(f, "$ref cycle through '{r}'"),
        }
    }
}

impl std::error::Error for SchemaError {}

const REF_PREFIX: &str = "#/components/schemas/";

/// The input schema of the first path with a JSON `post` request body.
pub fn input_schema(doc: &Value) -> Result<&Value, SchemaError> {
    doc.get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|paths| paths.values())
        .find_map(|p| p.pointer("/post/requestBody/content/application~1json/schema"))
        .ok_or(SchemaError::NoInputSchema)
}

/// Every issue of `input` against the document's input schema, in the rules' order
/// (empty when the input is valid).
pub fn validate(doc: &Value, input: &Value) -> Result<Vec<Issue>, SchemaError> {
    let root = input_schema(doc)?;
    let v = Validator { doc };
    v.check_refs(root, &mut Vec::new(), &mut Vec::new())?;
    let mut issues = Vec::new();
    v.value(root, input, &mut vec![LocItem::Key("body".into())], &mut issues);
    Ok(issues)
}

struct Validator<'a> {
    doc: &'a Value,
}

/// What the first failing check of a value reports (loc and input are added by the caller).
struct Failure {
    kind: &'static str,
    msg: String,
    ctx: Option<Map<String, Value>>,
}

impl Failure {
    fn new(kind: &'static str, msg: impl Into<String>) -> Failure {
        Failure { kind, msg: msg.into(), ctx: None }
    }

    fn with_ctx(kind: &'static str, msg: String, key: &str, value: Value) -> Failure {
        let mut ctx = Map::new();
        ctx.insert(key.to_string(), value);
        Failure { kind, msg, ctx: Some(ctx) }
    }
}

impl<'a> Validator<'a> {
    fn lookup(&self, reference: &Value) -> Result<(&'a Value, String), SchemaError> {
        let text = reference.as_str().ok_or_else(|| SchemaError::UnresolvedRef(reference.to_string()))?;
        let name = text.strip_prefix(REF_PREFIX).filter(|n| !n.is_empty() && !n.contains('/'));
        let name = name.map(|n| n.replace("~1", "/").replace("~0", "~"));
        let target = name.as_deref().and_then(|n| self.doc.get("components")?.get("schemas")?.get(n));
        match (target, name) {
            (Some(t), Some(n)) => Ok((t, n)),
            _ => Err(SchemaError::UnresolvedRef(text.to_string())),
        }
    }

    /// Walks every subschema reachable from `schema`, resolving each `$ref`: depth first, with
    /// the names being expanded on `stack` (a name met again there is a cycle) and the names
    /// fully explored in `done` (skipped when met again elsewhere).
    fn check_refs(&self, schema: &'a Value, stack: &mut Vec<String>, done: &mut Vec<String>) -> Result<(), SchemaError> {
        let Some(s) = schema.as_object() else { return Ok(()) };
        if let Some(r) = s.get("$ref") {
            let (target, name) = self.lookup(r)?;
            if stack.contains(&name) {
                return Err(SchemaError::RefCycle(name));
            }
            if done.contains(&name) {
                return Ok(());
            }
            stack.push(name);
            self.check_refs(target, stack, done)?;
            done.extend(stack.pop());
            // Siblings of a `$ref` are ignored (OpenAPI 3.0), so they are not walked.
            return Ok(());
        }
        if let Some(Value::Object(props)) = s.get("properties") {
            for p in props.values() {
                self.check_refs(p, stack, done)?;
            }
        }
        for key in ["items", "additionalProperties"] {
            if let Some(sub) = s.get(key) {
                self.check_refs(sub, stack, done)?;
            }
        }
        for key in ["allOf", "anyOf", "oneOf"] {
            if let Some(Value::Array(branches)) = s.get(key) {
                for b in branches {
                    self.check_refs(b, stack, done)?;
                }
            }
        }
        Ok(())
    }

    /// The schema a `$ref` chain ends at (a checked document always resolves); a schema that
    /// is not an object constrains nothing.
    fn resolve(&self, schema: &'a Value) -> Option<&'a Map<String, Value>> {
        let mut s = schema;
        for _ in 0..64 {
            match s.get("$ref") {
                Some(r) => s = self.lookup(r).ok()?.0,
                None => return s.as_object(),
            }
        }
        None
    }

    /// Checks `v` against `schema` at `loc`, appending its issues (and its children's) to `out`.
    fn value(&self, schema: &'a Value, v: &Value, loc: &mut Vec<LocItem>, out: &mut Vec<Issue>) {
        let Some(s) = self.resolve(schema) else { return };
        if v.is_null() && self.accepts_null(s) {
            return;
        }
        let mut issues = Vec::new();
        if let Some(f) = first_failure(s, v) {
            issues.push(Issue { loc: loc.clone(), msg: f.msg, kind: f.kind.to_string(), ctx: f.ctx, input: v.clone() });
        }
        match v {
            Value::Object(map) if type_allows(s, "object") => self.object(s, map, loc, &mut issues),
            Value::Array(items) if type_allows(s, "array") => {
                if let Some(item_schema) = s.get("items").filter(|i| i.is_object()) {
                    for (i, item) in items.iter().enumerate() {
                        loc.push(LocItem::Index(i));
                        self.value(item_schema, item, loc, &mut issues);
                        loc.pop();
                    }
                }
            }
            _ => {}
        }
        if let Some(Value::Array(branches)) = s.get("allOf") {
            for b in branches {
                self.value(b, v, loc, &mut issues);
            }
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(Value::Array(branches)) = s.get(key) {
                self.union(branches, v, loc, &mut issues);
            }
        }
        if s.contains_key("allOf") {
            // The same issue reached twice (through allOf branches) is reported once.
            let mut unique: Vec<Issue> = Vec::with_capacity(issues.len());
            for issue in issues {
                if !unique.contains(&issue) {
                    unique.push(issue);
                }
            }
            issues = unique;
        }
        out.append(&mut issues);
    }

    /// `nullable: true`, `type` listing `"null"`, or an anyOf/oneOf branch that accepts null.
    fn accepts_null(&self, s: &'a Map<String, Value>) -> bool {
        if s.get("nullable") == Some(&Value::Bool(true)) || types(s).contains(&"null") {
            return true;
        }
        ["anyOf", "oneOf"].iter().any(|key| match s.get(*key) {
            Some(Value::Array(branches)) => branches.iter().any(|b| self.resolve(b).is_some_and(|bs| self.accepts_null(bs))),
            _ => false,
        })
    }

    fn object(&self, s: &'a Map<String, Value>, map: &Map<String, Value>, loc: &mut Vec<LocItem>, out: &mut Vec<Issue>) {
        let empty = Map::new();
        let props = s.get("properties").and_then(Value::as_object).unwrap_or(&empty);
        let required: Vec<&str> = s.get("required").and_then(Value::as_array).map(|r| r.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
        let mut pending = Vec::new();
        for name in property_order(s, props) {
            let prop = &props[name];
            match map.get(name) {
                Some(pv) => {
                    loc.push(LocItem::Key(name.to_string()));
                    self.value(prop, pv, loc, out);
                    loc.pop();
                }
                None if required.contains(&name) && !self.has_default(prop) => out.push(missing(loc, name, map)),
                None => {}
            }
        }
        // Required names without a property schema: missing after the properties.
        for name in required.iter().filter(|n| !props.contains_key(**n)) {
            if !map.contains_key(*name) && !pending.contains(name) {
                pending.push(*name);
                out.push(missing(loc, name, map));
            }
        }
        let extra = s.get("additionalProperties");
        for (key, val) in map.iter().filter(|(k, _)| !props.contains_key(k.as_str())) {
            match extra {
                Some(Value::Bool(false)) => out.push(Issue {
                    loc: loc.iter().cloned().chain([LocItem::Key(key.clone())]).collect(),
                    msg: "Extra inputs are not permitted".into(),
                    kind: "extra_forbidden".into(),
                    ctx: None,
                    input: val.clone(),
                }),
                Some(sub @ Value::Object(_)) => {
                    loc.push(LocItem::Key(key.clone()));
                    self.value(sub, val, loc, out);
                    loc.pop();
                }
                _ => {}
            }
        }
    }

    /// A `default` on the property itself or on the schema its `$ref` leads to.
    fn has_default(&self, prop: &'a Value) -> bool {
        prop.get("default").is_some() || self.resolve(prop).is_some_and(|s| s.contains_key("default"))
    }

    /// anyOf/oneOf: passes if a branch passes; else the branch chosen by the value's JSON type
    /// (the first branch at all when none takes that type) is reported alone.
    fn union(&self, branches: &'a [Value], v: &Value, loc: &mut Vec<LocItem>, out: &mut Vec<Issue>) {
        if branches.is_empty() {
            return;
        }
        let mut results = Vec::with_capacity(branches.len());
        for b in branches {
            let mut issues = Vec::new();
            self.value(b, v, loc, &mut issues);
            if issues.is_empty() {
                return;
            }
            results.push(issues);
        }
        let chosen = branches.iter().position(|b| self.branch_takes(b, v)).unwrap_or(0);
        out.append(&mut results[chosen]);
    }

    /// Whether a branch's own `type` (after `$ref`) takes the JSON type of `v`; without a
    /// `type`, the JSON types of its `enum` values (or of its `const`).
    fn branch_takes(&self, branch: &'a Value, v: &Value) -> bool {
        let Some(s) = self.resolve(branch) else { return false };
        let kind = json_kind(v);
        if s.contains_key("type") {
            return types(s).iter().any(|t| *t == kind || (*t == "integer" && kind == "number"));
        }
        if let Some(Value::Array(values)) = s.get("enum") {
            return values.iter().any(|e| json_kind(e) == kind);
        }
        s.get("const").is_some_and(|c| json_kind(c) == kind)
    }
}

/// A required property absent from `map`: its `input` is the whole object.
fn missing(loc: &[LocItem], name: &str, map: &Map<String, Value>) -> Issue {
    Issue {
        loc: loc.iter().cloned().chain([LocItem::Key(name.to_string())]).collect(),
        msg: "Field required".into(),
        kind: "missing".into(),
        ctx: None,
        input: Value::Object(map.clone()),
    }
}

/// `x-fal-order-properties` (names that have a schema), then the other properties in order.
fn property_order<'s>(s: &'s Map<String, Value>, props: &'s Map<String, Value>) -> Vec<&'s str> {
    let mut order: Vec<&str> = Vec::with_capacity(props.len());
    if let Some(Value::Array(listed)) = s.get("x-fal-order-properties") {
        for name in listed.iter().filter_map(Value::as_str) {
            if props.contains_key(name) && !order.contains(&name) {
                order.push(name);
            }
        }
    }
    for name in props.keys() {
        if !order.contains(&name.as_str()) {
            order.push(name);
        }
    }
    order
}

/// The names in `type` (a string or a list of strings).
fn types(s: &Map<String, Value>) -> Vec<&str> {
    match s.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// Whether the schema's `type` (if any) lets a value of this JSON type through to its children.
fn type_allows(s: &Map<String, Value>, kind: &str) -> bool {
    let t = types(s);
    t.is_empty() || t.contains(&kind)
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn is_integral(n: &Number) -> bool {
    n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0)
}

/// Whether one schema type name accepts the value (no coercion; unknown names accept all).
fn type_accepts(t: &str, v: &Value) -> bool {
    match (t, v) {
        ("string", Value::String(_)) | ("boolean", Value::Bool(_)) | ("array", Value::Array(_)) | ("object", Value::Object(_)) | ("null", Value::Null) => true,
        ("number", Value::Number(_)) => true,
        ("integer", Value::Number(n)) => is_integral(n),
        ("string" | "boolean" | "array" | "object" | "null" | "number" | "integer", _) => false,
        _ => true,
    }
}

/// The type error for a schema type name (the first non-null one of the list).
fn type_failure(t: &str, v: &Value) -> Failure {
    match t {
        "string" => Failure::new("string_type", "Input should be a valid string"),
        "integer" if matches!(v, Value::Number(_)) => Failure::new("int_from_float", "Input should be a valid integer, got a number with a fractional part"),
        "integer" => Failure::new("int_type", "Input should be a valid integer"),
        "number" => Failure::new("float_type", "Input should be a valid number"),
        "boolean" => Failure::new("bool_type", "Input should be a valid boolean"),
        "array" => Failure::new("list_type", "Input should be a valid list"),
        "object" => Failure::new("dict_type", "Input should be a valid dictionary"),
        _ => Failure::new("none_required", "Input should be None"),
    }
}

/// The first failing check of the value itself: type, enum/const, bounds, multipleOf, length.
fn first_failure(s: &Map<String, Value>, v: &Value) -> Option<Failure> {
    let t = types(s);
    if !t.is_empty() && !t.iter().any(|t| type_accepts(t, v)) {
        let shown = t.iter().find(|t| **t != "null").unwrap_or(&t[0]);
        return Some(type_failure(shown, v));
    }
    if let Some(Value::Array(values)) = s.get("enum") {
        if !values.iter().any(|e| json_eq(e, v)) {
            return Some(one_of(values));
        }
    }
    if let Some(c) = s.get("const") {
        if !json_eq(c, v) {
            return Some(one_of(std::slice::from_ref(c)));
        }
    }
    if let Value::Number(n) = v {
        let x = n.as_f64()?;
        if let Some(f) = bounds(s, x).or_else(|| multiple_of(s, x)) {
            return Some(f);
        }
    }
    length(s, v)
}

fn one_of(values: &[Value]) -> Failure {
    let shown: Vec<String> = values.iter().map(enum_repr).collect();
    let list = match shown.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    };
    Failure::with_ctx("one_of", format!("Input should be {list}"), "expected", Value::Array(values.to_vec()))
}

fn bounds(s: &Map<String, Value>, x: f64) -> Option<Failure> {
    let num = |key: &str| s.get(key).filter(|m| m.is_number()).and_then(|m| Some((m, m.as_f64()?)));
    let flag = |key: &str| s.get(key) == Some(&Value::Bool(true));
    let gt = |m: &Value| Failure::with_ctx("greater_than", format!("Input should be greater than {}", num_text(m)), "gt", m.clone());
    let lt = |m: &Value| Failure::with_ctx("less_than", format!("Input should be less than {}", num_text(m)), "lt", m.clone());
    if let Some((m, b)) = num("exclusiveMinimum") {
        if x <= b {
            return Some(gt(m));
        }
    }
    if let Some((m, b)) = num("minimum") {
        if flag("exclusiveMinimum") && x <= b {
            return Some(gt(m));
        }
        if x < b {
            return Some(Failure::with_ctx("greater_than_equal", format!("Input should be greater than or equal to {}", num_text(m)), "ge", m.clone()));
        }
    }
    if let Some((m, b)) = num("exclusiveMaximum") {
        if x >= b {
            return Some(lt(m));
        }
    }
    if let Some((m, b)) = num("maximum") {
        if flag("exclusiveMaximum") && x >= b {
            return Some(lt(m));
        }
        if x > b {
            return Some(Failure::with_ctx("less_than_equal", format!("Input should be less than or equal to {}", num_text(m)), "le", m.clone()));
        }
    }
    None
}

fn multiple_of(s: &Map<String, Value>, x: f64) -> Option<Failure> {
    let m = s.get("multipleOf").filter(|m| m.is_number())?;
    let step = m.as_f64().filter(|d| *d != 0.0)?;
    let q = x / step;
    if (q - q.round()).abs() <= 1e-9 {
        return None;
    }
    Some(Failure::with_ctx("multiple_of", format!("Input should be a multiple of {}", num_text(m)), "multiple_of", m.clone()))
}

fn length(s: &Map<String, Value>, v: &Value) -> Option<Failure> {
    let (count, min_key, max_key, noun) = match v {
        Value::String(text) => (text.chars().count(), "minLength", "maxLength", ("String", "characters")),
        Value::Array(items) => (items.len(), "minItems", "maxItems", ("Sequence", "items")),
        _ => return None,
    };
    let count = count as f64;
    let limit = |key: &str| s.get(key).filter(|n| n.is_number()).and_then(|n| Some((n, n.as_f64()?)));
    if let Some((n, min)) = limit(min_key) {
        if count < min {
            return Some(Failure::with_ctx("sequence_too_short", format!("{} should have at least {} {}", noun.0, num_text(n), noun.1), "min_length", n.clone()));
        }
    }
    if let Some((n, max)) = limit(max_key) {
        if count > max {
            return Some(Failure::with_ctx("sequence_too_long", format!("{} should have at most {} {}", noun.0, num_text(n), noun.1), "max_length", n.clone()));
        }
    }
    None
}

/// JSON equality where numbers compare by value (`1 == 1.0`).
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64(), x.as_u64(), y.as_u64()) {
            (Some(i), Some(j), _, _) => i == j,
            (_, _, Some(i), Some(j)) => i == j,
            _ => x.as_f64() == y.as_f64(),
        },
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q)),
        (Value::Object(x), Value::Object(y)) => x.len() == y.len() && x.iter().all(|(k, p)| y.get(k).is_some_and(|q| json_eq(p, q))),
        _ => a == b,
    }
}

/// An enum value in a message: strings in single quotes, numbers as JSON writes them.
fn enum_repr(v: &Value) -> String {
    match v {
        Value::String(s) => format!("'{s}'"),
        Value::Number(_) => num_text(v),
        other => other.to_string(),
    }
}

/// A number as JavaScript's JSON writes it: `20` (also for `20.0`), `0.5`, `1e-7`, `1e+21`.
pub fn num_text(v: &Value) -> String {
    let Value::Number(n) = v else { return v.to_string() };
    if n.is_i64() || n.is_u64() {
        return n.to_string();
    }
    let Some(f) = n.as_f64() else { return n.to_string() };
    let a = f.abs();
    if f == 0.0 {
        "0".into()
    } else if a >= 1e21 {
        format!("{f:e}").replacen('e', "e+", 1)
    } else if a < 1e-6 {
        format!("{f:e}")
    } else {
        format!("{f}")
    }
}

