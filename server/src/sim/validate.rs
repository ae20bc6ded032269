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
                None if required.contains(&name) => out.push(missing(loc, name, map)),
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


#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A document whose input schema is `input`, with `schemas` as its components.
    fn doc_with(input: Value, schemas: Value) -> Value {
        json!({
            "openapi": "3.0.4",
            "components": { "schemas": schemas },
            "paths": { "/t/x": { "post": { "requestBody": { "content": { "application/json": { "schema": input } } } } } },
        })
    }

    fn issues(input_schema: Value, schemas: Value, input: Value) -> Vec<Value> {
        let doc = doc_with(input_schema, schemas);
        validate(&doc, &input).expect("usable schema").iter().map(|i| serde_json::to_value(i).expect("serializes")).collect()
    }

    /// Issues of `{"x": value}` against an object with the one property `x: schema`.
    fn prop(schema: Value, value: Value) -> Vec<Value> {
        issues(json!({ "type": "object", "properties": { "x": schema } }), json!({}), json!({ "x": value }))
    }

    /// The single issue of `prop`, as (type, msg, ctx or null).
    fn one(schema: Value, value: Value) -> (String, String, Value) {
        let found = prop(schema, value.clone());
        assert_eq!(found.len(), 1, "{found:?}");
        let i = &found[0];
        assert_eq!(i["loc"], json!(["body", "x"]));
        assert_eq!(i["input"], value);
        (i["type"].as_str().unwrap().to_string(), i["msg"].as_str().unwrap().to_string(), i.get("ctx").cloned().unwrap_or(Value::Null))
    }

    fn kind(schema: Value, value: Value) -> String {
        one(schema, value).0
    }

    fn ok(schema: Value, value: Value) {
        assert_eq!(prop(schema.clone(), value.clone()), Vec::<Value>::new(), "{schema} / {value}");
    }

    fn zoo() -> Value {
        serde_json::from_str(include_str!("schemas/genwire__schema-zoo.json")).unwrap()
    }

    fn zoo_issues(input: Value) -> Vec<Value> {
        validate(&zoo(), &input).unwrap().iter().map(|i| serde_json::to_value(i).unwrap()).collect()
    }

    #[test]
    fn type_errors_by_schema_type() {
        let cases = [
            ("string", json!(5), "string_type", "Input should be a valid string"),
            ("integer", json!(1.5), "int_from_float", "Input should be a valid integer, got a number with a fractional part"),
            ("integer", json!("5"), "int_type", "Input should be a valid integer"),
            ("integer", json!(true), "int_type", "Input should be a valid integer"),
            ("number", json!("1.5"), "float_type", "Input should be a valid number"),
            ("boolean", json!(1), "bool_type", "Input should be a valid boolean"),
            ("boolean", json!("true"), "bool_type", "Input should be a valid boolean"),
            ("array", json!("a"), "list_type", "Input should be a valid list"),
            ("object", json!([1]), "dict_type", "Input should be a valid dictionary"),
        ];
        for (t, value, ty, msg) in cases {
            assert_eq!(one(json!({ "type": t }), value), (ty.to_string(), msg.to_string(), Value::Null), "{t}");
        }
        // An integral number is an integer (also written 5.0) and a valid number; no coercion of strings.
        ok(json!({ "type": "integer" }), json!(5));
        ok(json!({ "type": "integer" }), json!(5.0));
        ok(json!({ "type": "integer" }), json!(-3));
        ok(json!({ "type": "number" }), json!(5));
        ok(json!({ "type": "number" }), json!(-0.25));
        assert_eq!(kind(json!({ "type": "number" }), json!(true)), "float_type");
        assert_eq!(kind(json!({ "type": "string" }), json!(["a"])), "string_type");
        // Without a type, anything goes.
        ok(json!({ "title": "Free" }), json!({ "a": [1] }));
    }

    #[test]
    fn null_is_a_type_error_unless_allowed() {
        assert_eq!(one(json!({ "type": "integer" }), Value::Null), ("int_type".into(), "Input should be a valid integer".into(), Value::Null));
        assert_eq!(kind(json!({ "type": "string", "enum": ["a"] }), Value::Null), "string_type");
        ok(json!({ "type": "integer", "nullable": true, "minimum": 3 }), Value::Null);
        ok(json!({ "type": ["string", "null"], "maxLength": 5 }), Value::Null);
        ok(json!({ "anyOf": [{ "type": "integer" }, { "type": "null" }] }), Value::Null);
        // A `nullable` enum accepts null before the enum is checked.
        ok(json!({ "type": "string", "enum": ["a"], "nullable": true }), Value::Null);
        // type list: the first non-null type names the error; the other checks still apply.
        assert_eq!(kind(json!({ "type": ["string", "null"], "maxLength": 5 }), json!(5)), "string_type");
        assert_eq!(kind(json!({ "type": ["null", "integer"] }), json!(0.5)), "int_from_float");
        let (ty, msg, ctx) = one(json!({ "type": ["string", "null"], "maxLength": 5 }), json!("toolong"));
        assert_eq!((ty.as_str(), msg.as_str(), ctx), ("sequence_too_long", "String should have at most 5 characters", json!({ "max_length": 5 })));
        ok(json!({ "type": ["integer", "string"] }), json!("x"));
    }

    #[test]
    fn enum_and_const_messages() {
        let msg = |values: Value, input: Value| one(json!({ "enum": values }), input).1;
        assert_eq!(msg(json!(["a"]), json!("b")), "Input should be 'a'");
        assert_eq!(msg(json!(["jpeg", "png"]), json!("gif")), "Input should be 'jpeg' or 'png'");
        assert_eq!(msg(json!(["photo", "anime", "oil"]), json!("x")), "Input should be 'photo', 'anime' or 'oil'");
        assert_eq!(msg(json!([1, 2.5, "c", 4]), json!(3)), "Input should be 1, 2.5, 'c' or 4");
        assert_eq!(msg(json!([true, null]), json!(1)), "Input should be true or null");
        let (ty, _, ctx) = one(json!({ "type": "string", "enum": ["jpeg", "png"] }), json!("gif"));
        assert_eq!((ty.as_str(), ctx), ("one_of", json!({ "expected": ["jpeg", "png"] })));
        // Numbers compare by value.
        ok(json!({ "enum": [1, 2] }), json!(2.0));
        let (ty, msg, ctx) = one(json!({ "type": "string", "const": "auto" }), json!("manual"));
        assert_eq!((ty.as_str(), msg.as_str(), ctx), ("one_of", "Input should be 'auto'", json!({ "expected": ["auto"] })));
        ok(json!({ "const": "auto" }), json!("auto"));
        // The type check comes first.
        assert_eq!(kind(json!({ "type": "string", "enum": ["a"] }), json!(1)), "string_type");
    }

    #[test]
    fn bounds_in_order_with_schema_numbers() {
        let s = json!({ "type": "number", "exclusiveMinimum": 0, "minimum": 0.5, "exclusiveMaximum": 10, "maximum": 9.5 });
        assert_eq!(one(s.clone(), json!(0)), ("greater_than".into(), "Input should be greater than 0".into(), json!({ "gt": 0 })));
        assert_eq!(one(s.clone(), json!(0.25)), ("greater_than_equal".into(), "Input should be greater than or equal to 0.5".into(), json!({ "ge": 0.5 })));
        assert_eq!(one(s.clone(), json!(10)), ("less_than".into(), "Input should be less than 10".into(), json!({ "lt": 10 })));
        assert_eq!(one(s.clone(), json!(9.75)), ("less_than_equal".into(), "Input should be less than or equal to 9.5".into(), json!({ "le": 9.5 })));
        ok(s.clone(), json!(0.5));
        ok(s, json!(9.5));
        // ctx keeps the schema's number; the message writes it as JSON would.
        let found = prop(json!({ "type": "number", "maximum": 20.0 }), json!(21));
        assert_eq!(found[0]["msg"], "Input should be less than or equal to 20");
        assert!(found[0]["ctx"]["le"].is_f64());
        assert_eq!(serde_json::to_string(&found[0]["ctx"]).unwrap(), r#"{"le":20.0}"#);
        let found = prop(json!({ "type": "integer", "maximum": 14142 }), json!(20000));
        assert_eq!((found[0]["msg"].as_str(), found[0]["ctx"].clone()), (Some("Input should be less than or equal to 14142"), json!({ "le": 14142 })));
        assert!(found[0]["ctx"]["le"].is_u64());
    }

    #[test]
    fn openapi_30_boolean_exclusive_bounds() {
        let s = json!({ "type": "number", "minimum": 0, "exclusiveMinimum": true, "maximum": 1, "exclusiveMaximum": true });
        assert_eq!(one(s.clone(), json!(0)), ("greater_than".into(), "Input should be greater than 0".into(), json!({ "gt": 0 })));
        assert_eq!(one(s.clone(), json!(1)), ("less_than".into(), "Input should be less than 1".into(), json!({ "lt": 1 })));
        assert_eq!(one(s.clone(), json!(2)).0, "less_than");
        ok(s, json!(0.999));
        // `false` leaves the bounds inclusive.
        let s = json!({ "type": "number", "minimum": 0, "exclusiveMinimum": false, "maximum": 1, "exclusiveMaximum": false });
        ok(s.clone(), json!(0));
        ok(s.clone(), json!(1));
        assert_eq!(one(s, json!(1.5)).0, "less_than_equal");
    }

    #[test]
    fn multiple_of_with_float_tolerance() {
        let half = json!({ "type": "number", "multipleOf": 0.5 });
        ok(half.clone(), json!(7.5));
        ok(half.clone(), json!(-3));
        assert_eq!(one(half, json!(7.3)), ("multiple_of".into(), "Input should be a multiple of 0.5".into(), json!({ "multiple_of": 0.5 })));
        let tenth = json!({ "type": "number", "multipleOf": 0.1 });
        ok(tenth.clone(), json!(0.1 * 3.0));
        ok(tenth.clone(), json!(0.7));
        ok(tenth, json!(1.1 + 2.2));
        let five = json!({ "type": "integer", "multipleOf": 5 });
        assert_eq!(one(five.clone(), json!(7)), ("multiple_of".into(), "Input should be a multiple of 5".into(), json!({ "multiple_of": 5 })));
        ok(five, json!(0));
        // A failing bound is the only issue: multipleOf is skipped.
        assert_eq!(kind(json!({ "type": "integer", "maximum": 10, "multipleOf": 5 }), json!(13)), "less_than_equal");
    }

    #[test]
    fn lengths_count_code_points_and_items() {
        let s = json!({ "type": "string", "minLength": 2, "maxLength": 3 });
        ok(s.clone(), json!("été"));
        ok(s.clone(), json!("🐯🐯🐯"));
        assert_eq!(one(s.clone(), json!("é")), ("sequence_too_short".into(), "String should have at least 2 characters".into(), json!({ "min_length": 2 })));
        assert_eq!(one(s, json!("🐯🐯🐯🐯")), ("sequence_too_long".into(), "String should have at most 3 characters".into(), json!({ "max_length": 3 })));
        let a = json!({ "type": "array", "minItems": 1, "maxItems": 2 });
        assert_eq!(one(a.clone(), json!([])), ("sequence_too_short".into(), "Sequence should have at least 1 items".into(), json!({ "min_length": 1 })));
        assert_eq!(one(a.clone(), json!([1, 2, 3])), ("sequence_too_long".into(), "Sequence should have at most 2 items".into(), json!({ "max_length": 2 })));
        ok(a, json!([1, 2]));
        // minLength does not apply to arrays nor minItems to strings.
        ok(json!({ "minLength": 5 }), json!([1]));
        ok(json!({ "maxItems": 0 }), json!("abc"));
    }

    #[test]
    fn missing_null_and_defaults() {
        let s = json!({
            "type": "object",
            "properties": { "a": { "type": "string" }, "b": { "type": "integer", "default": 3 }, "c": { "type": "integer" } },
            "required": ["a", "b", "c"],
        });
        let found = issues(s.clone(), json!({}), json!({ "c": null }));
        assert_eq!(
            found,
            vec![
                json!({ "loc": ["body", "a"], "msg": "Field required", "type": "missing", "input": { "c": null } }),
                // Required wins over a default.
                json!({ "loc": ["body", "b"], "msg": "Field required", "type": "missing", "input": { "c": null } }),
                json!({ "loc": ["body", "c"], "msg": "Input should be a valid integer", "type": "int_type", "input": null }),
            ]
        );
        // A default never excuses a present null.
        let found = issues(s, json!({}), json!({ "a": "x", "b": null, "c": 1 }));
        assert_eq!(found, vec![json!({ "loc": ["body", "b"], "msg": "Input should be a valid integer", "type": "int_type", "input": null })]);
        // A required name without a property schema is missing after the properties.
        let s = json!({ "type": "object", "properties": { "a": { "type": "string" } }, "required": ["z", "a"] });
        let found = issues(s, json!({}), json!({}));
        let locs: Vec<&Value> = found.iter().map(|i| &i["loc"]).collect();
        assert_eq!(locs, vec![&json!(["body", "a"]), &json!(["body", "z"])]);
    }

    #[test]
    fn extra_keys() {
        let closed = json!({ "type": "object", "properties": { "a": { "type": "string" } }, "additionalProperties": false });
        let found = issues(closed, json!({}), json!({ "zz": 1, "a": "x", "b": [true] }));
        assert_eq!(
            found,
            vec![
                json!({ "loc": ["body", "zz"], "msg": "Extra inputs are not permitted", "type": "extra_forbidden", "input": 1 }),
                json!({ "loc": ["body", "b"], "msg": "Extra inputs are not permitted", "type": "extra_forbidden", "input": [true] }),
            ]
        );
        let typed = json!({ "type": "object", "additionalProperties": { "type": "number", "maximum": 1 } });
        let found = issues(typed, json!({}), json!({ "k": "v", "ok": 0.5, "big": 2 }));
        assert_eq!(found.len(), 2);
        assert_eq!((found[0]["loc"].clone(), found[0]["type"].as_str()), (json!(["body", "k"]), Some("float_type")));
        assert_eq!((found[1]["loc"].clone(), found[1]["type"].as_str()), (json!(["body", "big"]), Some("less_than_equal")));
        for open in [json!({ "type": "object" }), json!({ "type": "object", "additionalProperties": true })] {
            assert!(issues(open, json!({}), json!({ "anything": 1 })).is_empty());
        }
    }

    #[test]
    fn all_of_reports_every_branch_once() {
        let schemas = json!({
            "Small": { "type": "integer", "maximum": 5 },
            "Even": { "type": "integer", "multipleOf": 2 },
        });
        let s = json!({ "type": "object", "properties": { "x": { "allOf": [{ "$ref": "#/components/schemas/Small" }, { "$ref": "#/components/schemas/Even" }] } } });
        let found = issues(s.clone(), schemas.clone(), json!({ "x": 7 }));
        let kinds: Vec<&str> = found.iter().map(|i| i["type"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["less_than_equal", "multiple_of"]);
        // Both branches fail the type check the same way: one issue.
        let found = issues(s.clone(), schemas.clone(), json!({ "x": "7" }));
        assert_eq!(found, vec![json!({ "loc": ["body", "x"], "msg": "Input should be a valid integer", "type": "int_type", "input": "7" })]);
        assert!(issues(s, schemas, json!({ "x": 4 })).is_empty());
        // The zoo's flags: allOf with an object branch.
        let found = zoo_issues(json!({ "prompt": "abc", "steps": 5, "flags": { "fast": "yes", "x": 1, "level": 3 } }));
        let got: Vec<(Value, &str)> = found.iter().map(|i| (i["loc"].clone(), i["type"].as_str().unwrap())).collect();
        assert_eq!(
            got,
            vec![
                (json!(["body", "flags", "fast"]), "bool_type"),
                (json!(["body", "flags", "level"]), "less_than_equal"),
                (json!(["body", "flags", "x"]), "extra_forbidden"),
            ]
        );
        assert_eq!(zoo_issues(json!({ "prompt": "abc", "steps": 5, "flags": null }))[0]["type"], "dict_type");
    }

    #[test]
    fn unions_pick_the_branch_of_the_json_type() {
        let flux: Value = serde_json::from_str(include_str!("schemas/fal-ai__flux__dev.json")).unwrap();
        let found: Vec<Value> = validate(&flux, &json!({ "prompt": "p", "image_size": "1920x1080" })).unwrap().iter().map(|i| serde_json::to_value(i).unwrap()).collect();
        assert_eq!(
            found,
            vec![json!({
                "loc": ["body", "image_size"],
                "msg": "Input should be 'square_hd', 'square', 'portrait_4_3', 'portrait_16_9', 'landscape_4_3' or 'landscape_16_9'",
                "type": "one_of",
                "ctx": { "expected": ["square_hd", "square", "portrait_4_3", "portrait_16_9", "landscape_4_3", "landscape_16_9"] },
                "input": "1920x1080",
            })]
        );
        let found = validate(&flux, &json!({ "prompt": "p", "image_size": { "width": 0, "height": 99999 } })).unwrap();
        let got: Vec<(Value, &str)> = found.iter().map(|i| (serde_json::to_value(&i.loc).unwrap(), i.kind.as_str())).collect();
        assert_eq!(got, vec![(json!(["body", "image_size", "width"]), "greater_than"), (json!(["body", "image_size", "height"]), "less_than_equal")]);
        // No branch takes a boolean: the first branch reports its type error.
        let found = validate(&flux, &json!({ "prompt": "p", "image_size": true })).unwrap();
        assert_eq!((found[0].kind.as_str(), found[0].msg.as_str()), ("dict_type", "Input should be a valid dictionary"));
        assert!(validate(&flux, &json!({ "prompt": "p", "image_size": "square" })).unwrap().is_empty());
        assert!(validate(&flux, &json!({ "prompt": "p", "image_size": { "width": 64, "height": 64 } })).unwrap().is_empty());

        // An enum-only branch takes the JSON types of its values; integer branches take any number.
        let s = json!({ "oneOf": [{ "type": "integer", "minimum": 1, "maximum": 3 }, { "enum": ["auto", "off"] }] });
        assert_eq!(kind(s.clone(), json!("manual")), "one_of");
        assert_eq!(kind(s.clone(), json!(1.5)), "int_from_float");
        assert_eq!(kind(s.clone(), json!(9)), "less_than_equal");
        assert_eq!(kind(s.clone(), json!([1])), "int_type");
        ok(s.clone(), json!(2));
        ok(s, json!("off"));
        // When the first branch has no type, the fallback reports what that branch finds.
        let s = json!({ "anyOf": [{ "enum": ["a", "b"] }, { "type": "integer" }] });
        assert_eq!(one(s, json!(true)), ("one_of".into(), "Input should be 'a' or 'b'".into(), json!({ "expected": ["a", "b"] })));
        // The zoo's mode (oneOf with a const branch) and size (anyOf with a $ref branch).
        let kinds = |input: Value| zoo_issues(input).iter().map(|i| (i["loc"].clone(), i["type"].as_str().unwrap().to_string(), i["msg"].as_str().unwrap().to_string())).collect::<Vec<_>>();
        assert_eq!(kinds(json!({ "prompt": "abc", "steps": 5, "mode": "manual" })), vec![(json!(["body", "mode"]), "one_of".into(), "Input should be 'auto'".into())]);
        assert_eq!(kinds(json!({ "prompt": "abc", "steps": 5, "mode": 0 })), vec![(json!(["body", "mode"]), "greater_than_equal".into(), "Input should be greater than or equal to 1".into())]);
        assert_eq!(kinds(json!({ "prompt": "abc", "steps": 5, "size": "tall" })), vec![(json!(["body", "size"]), "one_of".into(), "Input should be 'square' or 'wide'".into())]);
        assert_eq!(kinds(json!({ "prompt": "abc", "steps": 5, "size": { "width": 2.5 } })), vec![(json!(["body", "size", "width"]), "int_from_float".into(), "Input should be a valid integer, got a number with a fractional part".into())]);
        assert_eq!(kinds(json!({ "prompt": "abc", "steps": 5, "size": 3 })), vec![(json!(["body", "size"]), "dict_type".into(), "Input should be a valid dictionary".into())]);
    }

    #[test]
    fn issue_order_follows_properties_then_extras_and_nests() {
        let schemas = json!({
            "Item": {
                "type": "object",
                "properties": { "b": { "type": "integer" }, "a": { "type": "string" } },
                "x-fal-order-properties": ["a", "b"],
                "required": ["a"],
            },
        });
        let s = json!({
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "list": { "type": "array", "items": { "$ref": "#/components/schemas/Item" }, "maxItems": 2 },
                "first": { "type": "string" },
            },
            "x-fal-order-properties": ["first", "list"],
        });
        let input = json!({ "zeta": 1, "list": [{ "b": "x" }, { "a": "ok", "b": 1 }, { "a": 3, "b": 1.5 }], "first": 1, "alpha": 2 });
        let found = issues(s, schemas, input);
        let got: Vec<(Value, &str)> = found.iter().map(|i| (i["loc"].clone(), i["type"].as_str().unwrap())).collect();
        assert_eq!(
            got,
            vec![
                (json!(["body", "first"]), "string_type"),
                (json!(["body", "list"]), "sequence_too_long"),
                (json!(["body", "list", 0, "a"]), "missing"),
                (json!(["body", "list", 0, "b"]), "int_type"),
                (json!(["body", "list", 2, "a"]), "string_type"),
                (json!(["body", "list", 2, "b"]), "int_from_float"),
                (json!(["body", "zeta"]), "extra_forbidden"),
                (json!(["body", "alpha"]), "extra_forbidden"),
            ]
        );
        assert_eq!(found[2]["input"], json!({ "b": "x" }));
        // Without x-fal-order-properties, the properties' own order.
        let s = json!({ "type": "object", "properties": { "z": { "type": "string" }, "a": { "type": "string" } } });
        let found = issues(s, json!({}), json!({ "a": 1, "z": 2 }));
        assert_eq!((found[0]["loc"].clone(), found[1]["loc"].clone()), (json!(["body", "z"]), json!(["body", "a"])));
    }

    #[test]
    fn body_must_be_an_object() {
        for body in [json!([1, 2]), json!("x"), json!(3), Value::Null] {
            let found = zoo_issues(body.clone());
            assert_eq!(found, vec![json!({ "loc": ["body"], "msg": "Input should be a valid dictionary", "type": "dict_type", "input": body })]);
        }
        // `steps` has a default but is listed in `required`: required wins, both are missing.
        assert_eq!(zoo_issues(json!({})).iter().map(|i| i["loc"].clone()).collect::<Vec<_>>(), vec![json!(["body", "prompt"]), json!(["body", "steps"])]);
    }

    #[test]
    fn zoo_accepts_a_full_valid_input() {
        let input = json!({
            "prompt": "a cat", "style": "oil", "steps": 95, "cfg": 15.5, "weight": 0, "seed": null, "tags": ["a", "bb", "ccc"],
            "loras": [{ "path": "x" }, { "path": "y", "scale": 4 }], "size": { "width": 14142 }, "mode": 3, "meta": { "k": 1.5 },
            "flags": { "fast": true, "level": 2 }, "note": "hello",
        });
        assert_eq!(zoo_issues(input), Vec::<Value>::new());
        assert_eq!(zoo_issues(json!({ "prompt": "abc", "steps": 5 })), Vec::<Value>::new());
    }

    #[test]
    fn unusable_schemas() {
        let no_ref = doc_with(json!({ "$ref": "#/components/schemas/Nope" }), json!({}));
        assert_eq!(validate(&no_ref, &json!({})), Err(SchemaError::UnresolvedRef("#/components/schemas/Nope".into())));
        let foreign = doc_with(json!({ "type": "object", "properties": { "a": { "$ref": "other.json#/A" } } }), json!({}));
        assert!(matches!(validate(&foreign, &json!({})), Err(SchemaError::UnresolvedRef(_))));
        let cycle = doc_with(json!({ "$ref": "#/components/schemas/A" }), json!({ "A": { "$ref": "#/components/schemas/B" }, "B": { "$ref": "#/components/schemas/A" } }));
        assert_eq!(validate(&cycle, &json!({})), Err(SchemaError::RefCycle("A".into())));
        let recursive = doc_with(
            json!({ "$ref": "#/components/schemas/Node" }),
            json!({ "Node": { "type": "object", "properties": { "children": { "type": "array", "items": { "$ref": "#/components/schemas/Node" } } } } }),
        );
        assert_eq!(validate(&recursive, &json!({})), Err(SchemaError::RefCycle("Node".into())));
        assert_eq!(validate(&json!({ "paths": {} }), &json!({})), Err(SchemaError::NoInputSchema));
        // A broken ref that the input schema never reaches does not matter; a shared one is fine.
        let shared = doc_with(
            json!({ "type": "object", "properties": { "a": { "$ref": "#/components/schemas/S" }, "b": { "$ref": "#/components/schemas/S" } } }),
            json!({ "S": { "type": "string" }, "Unused": { "$ref": "#/components/schemas/Gone" } }),
        );
        assert_eq!(validate(&shared, &json!({ "a": "x", "b": 1 })).unwrap().len(), 1);
    }

    #[test]
    fn issues_serialize_in_fal_shape() {
        let found = zoo_issues(json!({ "prompt": "ab", "steps": 5 }));
        assert_eq!(
            serde_json::to_string(&found[0]).unwrap(),
            r#"{"loc":["body","prompt"],"msg":"String should have at least 3 characters","type":"sequence_too_short","ctx":{"min_length":3},"input":"ab"}"#
        );
        let found = zoo_issues(json!({ "steps": 5 }));
        assert_eq!(serde_json::to_string(&found[0]).unwrap(), r#"{"loc":["body","prompt"],"msg":"Field required","type":"missing","input":{"steps":5}}"#);
    }

    #[test]
    fn numbers_print_like_json() {
        let t = |v: Value| num_text(&v);
        assert_eq!((t(json!(20)), t(json!(20.0)), t(json!(0.5)), t(json!(-3)), t(json!(1e21)), t(json!(1e-7)), t(json!(0.1 + 0.2))), (
            "20".into(),
            "20".into(),
            "0.5".into(),
            "-3".into(),
            "1e+21".into(),
            "1e-7".into(),
            "0.30000000000000004".into()
        ));
    }
}
