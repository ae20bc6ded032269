//! An OpenAPI input schema read as the pydantic model behind it (docs/validation-rules.md,
//! "The model behind a schema"): the same keyword-to-type table as the differential test's
//! judge (tests/validation/pydantic/judge.py), so that the two can be compared input by input.

use crate::proto::map::Map;

use super::{Bounds, Extra, Field, Flavor, Kind, Node, NodeId, Schema};
use crate::proto::value::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemaError {
    /// No input schema in the document (no POST request body, or not an object).
    NoInput,
    UnresolvedRef(String),
    /// A `$ref` that reaches itself other than through a model (`A: {$ref: B}`, `B: {$ref: A}`,
    /// or a list of itself): pydantic can't declare it, and there is nothing to check against.
    RefLoop(String),
    /// A keyword has a value of the wrong type, e.g. `"minimum": "3"`.
    BadKeyword(&'static str),
    TooLarge,
    /// Schemas within schemas (inline, or through `$ref`s) deeper than [`MAX_NESTING`]: each is a
    /// level of recursion.
    TooDeep,
}

impl core::fmt::Display for SchemaError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::NoInput => f.write_str("the document has no input schema (no POST request body)"),
            Self::UnresolvedRef(r) => write!(f, "the reference '{r}' does not resolve"),
            Self::RefLoop(r) => write!(f, "the reference '{r}' only points at itself"),
            Self::BadKeyword(k) => write!(f, "the keyword '{k}' has a value of the wrong type"),
            Self::TooLarge => f.write_str("the schema is too large"),
            Self::TooDeep => write!(f, "the schema nests deeper than {MAX_NESTING} levels"),
        }
    }
}

const MAX_NODES: usize = 10_000;
/// Schemas being compiled within each other at once (inline, or a chain of models each referring
/// to the next): compiling recurses once per level, and a document may hold thousands of
/// components, more than a wasm stack (1 MiB) takes. Real models nest a few levels.
pub const MAX_NESTING: usize = 64;
const REF_PREFIX: &str = "#/components/schemas/";
/// Keywords that describe without constraining: a `$ref` with only these (and `nullable`)
/// beside it is the referenced schema itself.
const ANNOTATIONS: [&str; 14] = [
    "title",
    "description",
    "default",
    "examples",
    "example",
    "deprecated",
    "readOnly",
    "writeOnly",
    "$schema",
    "$id",
    "discriminator",
    "externalDocs",
    "xml",
    "format",
];

fn is_annotation(k: &str) -> bool {
    ANNOTATIONS.contains(&k) || k.starts_with("x-")
}

type Entries<'a> = Vec<(&'a str, &'a Value)>;

/// A schema with its `$ref` siblings laid over the referenced schema and its `allOf` branches
/// merged, borrowed from the document (so that nodes can be keyed by the schema they came from).
#[derive(Default)]
struct Flat<'a> {
    keys: Entries<'a>,
    props: Option<Entries<'a>>,
    required: Option<Vec<&'a str>>,
}

impl<'a> Flat<'a> {
    fn get(&self, key: &str) -> Option<&'a Value> {
        self.keys.iter().rev().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }

    /// One keyword laid over: properties and required joined, the rest replaced.
    fn set(&mut self, k: &'a str, v: &'a Value) {
        match (k, v) {
            ("properties", Value::Obj(m)) => {
                let props = self.props.get_or_insert_with(Vec::new);
                for (name, s) in m {
                    match props.iter_mut().find(|(n, _)| *n == name) {
                        Some(slot) => slot.1 = s,
                        None => props.push((name, s)),
                    }
                }
            }
            ("properties", _) => self.props = None,
            ("required", Value::Arr(list)) => {
                let req = self.required.get_or_insert_with(Vec::new);
                for r in list.iter().filter_map(Value::as_str) {
                    if !req.contains(&r) {
                        req.push(r);
                    }
                }
            }
            ("required", _) => self.required = None,
            _ => self.keys.push((k, v)),
        }
    }

    fn absorb(&mut self, other: Flat<'a>) {
        self.keys.extend(other.keys);
        if let Some(p) = other.props {
            for (name, s) in p {
                let props = self.props.get_or_insert_with(Vec::new);
                match props.iter_mut().find(|(n, _)| *n == name) {
                    Some(slot) => slot.1 = s,
                    None => props.push((name, s)),
                }
            }
        }
        if let Some(r) = other.required {
            let req = self.required.get_or_insert_with(Vec::new);
            for x in r {
                if !req.contains(&x) {
                    req.push(x);
                }
            }
        }
    }
}

struct Compiler<'a> {
    components: Option<&'a Value>,
    nodes: Vec<Node>,
    /// Nodes by the schema object they were made from (its address in the document).
    by_schema: Vec<(*const Value, NodeId)>,
    by_ref: Map<NodeId>,
    resolving: Vec<String>,
    /// Levels of [`Compiler::annotation`] now running ([`MAX_NESTING`]).
    depth: usize,
}

pub fn compile(doc: &Value, endpoint: Option<&str>) -> Result<Schema, SchemaError> {
    let input = input_schema(doc, endpoint).ok_or(SchemaError::NoInput)?;
    let mut c = Compiler {
        components: doc.get("components").and_then(|c| c.get("schemas")),
        nodes: Vec::new(),
        by_schema: Vec::new(),
        by_ref: Map::new(),
        resolving: Vec::new(),
        depth: 0,
    };
    let root = c.annotation(input)?;
    let mut nodes = c.nodes;
    // `typing.Union` flattens nested unions and drops repeated members; so do these.
    for i in 0..nodes.len() {
        if let Kind::Union(members) = &nodes[i].kind {
            let mut flat = Vec::new();
            members_of(&nodes, members, &mut flat, 0);
            nodes[i].kind = if flat.len() == 1 { Kind::Alias(flat[0]) } else { Kind::Union(flat) };
        }
    }
    Ok(Schema { nodes, root })
}

fn resolved(nodes: &[Node], mut id: NodeId) -> NodeId {
    while let Kind::Alias(next) = nodes[id].kind {
        id = next;
    }
    id
}

fn members_of(nodes: &[Node], members: &[NodeId], out: &mut Vec<NodeId>, depth: usize) {
    for &m in members {
        let r = resolved(nodes, m);
        match &nodes[r].kind {
            Kind::Union(inner) if depth < 16 => members_of(nodes, inner, out, depth + 1),
            _ => {
                if !out.iter().any(|&o| same_type(nodes, o, m)) {
                    out.push(m);
                }
            }
        }
    }
}

/// Members `typing.Union` would take as one: the same node, or equal plain types.
fn same_type(nodes: &[Node], a: NodeId, b: NodeId) -> bool {
    let (a, b) = (resolved(nodes, a), resolved(nodes, b));
    if a == b {
        return true;
    }
    match (&nodes[a].kind, &nodes[b].kind) {
        (Kind::Any, Kind::Any) | (Kind::Null, Kind::Null) | (Kind::Bool, Kind::Bool) | (Kind::Url { .. }, Kind::Url { .. }) => true,
        (Kind::Str { constrained: false, .. }, Kind::Str { constrained: false, .. }) => true,
        (Kind::Int(x), Kind::Int(y)) | (Kind::Float(x), Kind::Float(y)) => !x.any() && !y.any(),
        (Kind::Literal(x), Kind::Literal(y)) => x == y,
        _ => false,
    }
}

fn post_schema(path_item: &Value) -> Option<&Value> {
    path_item.get("post")?.get("requestBody")?.get("content")?.get("application/json")?.get("schema")
}

fn input_schema<'a>(doc: &'a Value, endpoint: Option<&str>) -> Option<&'a Value> {
    let Some(Value::Obj(paths)) = doc.get("paths") else {
        // A bare schema.
        return matches!(doc, Value::Obj(_)).then_some(doc);
    };
    if let Some(ep) = endpoint {
        let key = format!("/{}", ep.trim_matches('/'));
        if let Some(s) = paths.iter().find(|(k, _)| *k == key).and_then(|(_, v)| post_schema(v)) {
            return Some(s);
        }
    }
    let mut posts = paths.iter().filter_map(|(_, v)| post_schema(v));
    let first = posts.next()?;
    posts.next().is_none().then_some(first)
}

fn finite(v: &Value) -> Option<f64> {
    v.as_f64().filter(|n| n.is_finite())
}

/// A number keyword: absent or null is None; anything but a finite number is a bad keyword.
fn num(s: &Flat, key: &'static str) -> Result<Option<f64>, SchemaError> {
    match s.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => finite(v).map(Some).ok_or(SchemaError::BadKeyword(key)),
    }
}

/// minLength and the like: a whole number >= 0, or left out.
fn length(s: &Flat, key: &'static str) -> Result<Option<usize>, SchemaError> {
    Ok(num(s, key)?.filter(|n| n.fract() == 0.0 && *n >= 0.0).map(|n| n as usize))
}

fn bounds(s: &Flat, whole: bool) -> Result<Bounds, SchemaError> {
    let (lo, hi) = (num(s, "minimum")?, num(s, "maximum")?);
    let mut b = Bounds::default();
    match s.get("exclusiveMinimum") {
        Some(Value::Bool(true)) => b.gt = lo,
        None | Some(Value::Null) | Some(Value::Bool(false)) => b.ge = lo,
        Some(v) => {
            b.ge = lo;
            b.gt = Some(finite(v).ok_or(SchemaError::BadKeyword("exclusiveMinimum"))?);
        }
    }
    match s.get("exclusiveMaximum") {
        Some(Value::Bool(true)) => b.lt = hi,
        None | Some(Value::Null) | Some(Value::Bool(false)) => b.le = hi,
        Some(v) => {
            b.le = hi;
            b.lt = Some(finite(v).ok_or(SchemaError::BadKeyword("exclusiveMaximum"))?);
        }
    }
    b.multiple_of = num(s, "multipleOf")?.filter(|m| *m > 0.0);
    if whole {
        // `Field(ge=0.5)` can't be declared on an int: such a bound is not the server's.
        for slot in [&mut b.multiple_of, &mut b.le, &mut b.lt, &mut b.ge, &mut b.gt] {
            *slot = slot.filter(|x| x.fract() == 0.0);
        }
    }
    Ok(b)
}

/// `{$ref}` or `{allOf: [{$ref}]}` with only annotations and `nullable` beside it.
fn pure_ref(v: &Value) -> Option<&str> {
    let Value::Obj(m) = v else { return None };
    if let Some(r) = v.get("$ref") {
        return m.iter().all(|(k, _)| is_annotation(k) || k == "$ref" || k == "nullable").then(|| r.as_str()).flatten();
    }
    let [branch] = v.get("allOf")?.as_array()? else { return None };
    let Value::Obj(b) = branch else { return None };
    let r = branch.get("$ref")?.as_str()?;
    (b.iter().all(|(k, _)| k == "$ref" || is_annotation(k)) && m.iter().all(|(k, _)| is_annotation(k) || k == "allOf" || k == "nullable")).then_some(r)
}

impl<'a> Compiler<'a> {
    fn push(&mut self, n: Node) -> Result<NodeId, SchemaError> {
        if self.nodes.len() >= MAX_NODES {
            return Err(SchemaError::TooLarge);
        }
        self.nodes.push(n);
        Ok(self.nodes.len() - 1)
    }

    fn cached(&self, v: &Value) -> Option<NodeId> {
        let p = v as *const Value;
        self.by_schema.iter().find(|(q, _)| *q == p).map(|(_, id)| *id)
    }

    fn target(&self, r: &Value) -> Result<(&'a Value, &'a str), SchemaError> {
        let text = r.as_str().ok_or(SchemaError::BadKeyword("$ref"))?;
        let name = text.strip_prefix(REF_PREFIX).ok_or_else(|| SchemaError::UnresolvedRef(text.into()))?;
        let Some(Value::Obj(all)) = self.components else { return Err(SchemaError::UnresolvedRef(text.into())) };
        all.iter().find(|(k, _)| k == name).map(|(k, v)| (v, k.as_str())).ok_or_else(|| SchemaError::UnresolvedRef(text.into()))
    }

    /// `$ref` targets and `allOf` branches merged into one view, with the class name of the
    /// first referenced component.
    fn flatten(&self, v: &'a Value, depth: usize) -> Result<(Flat<'a>, Option<&'a str>), SchemaError> {
        if depth > 32 {
            return Err(SchemaError::RefLoop("a $ref/allOf chain".into()));
        }
        let mut out = Flat::default();
        let mut name = None;
        let Value::Obj(m) = v else { return Ok((out, None)) };
        if let Some(r) = v.get("$ref") {
            let (t, key) = self.target(r)?;
            let (flat, inner) = self.flatten(t, depth + 1)?;
            name = Some(inner.or_else(|| t.get("title").and_then(Value::as_str)).unwrap_or(key));
            out.absorb(flat);
        }
        match v.get("allOf") {
            None => {}
            Some(Value::Arr(branches)) => {
                for b in branches {
                    let (flat, inner) = self.flatten(b, depth + 1)?;
                    name = name.or(inner);
                    out.absorb(flat);
                }
            }
            Some(_) => return Err(SchemaError::BadKeyword("allOf")),
        }
        for (k, x) in m.iter().filter(|(k, _)| k != "$ref" && k != "allOf") {
            out.set(k, x);
        }
        Ok((out, name))
    }

    fn annotation(&mut self, v: &'a Value) -> Result<NodeId, SchemaError> {
        if self.depth >= MAX_NESTING {
            return Err(SchemaError::TooDeep);
        }
        self.depth += 1;
        let r = self.annotation_at(v);
        self.depth -= 1;
        r
    }

    fn annotation_at(&mut self, v: &'a Value) -> Result<NodeId, SchemaError> {
        if !matches!(v, Value::Obj(_)) {
            return self.push(Node { kind: Kind::Any, nullable: false });
        }
        if let Some(id) = self.cached(v) {
            return Ok(id);
        }
        let id = if let Some(r) = pure_ref(v) {
            let target = self.resolve(r)?;
            if matches!(v.get("nullable"), Some(Value::Bool(true))) {
                self.push(Node { kind: Kind::Alias(target), nullable: true })?
            } else {
                target
            }
        } else {
            let (flat, name) = self.flatten(v, 0)?;
            self.map(&flat, name, v)?
        };
        self.by_schema.push((v as *const Value, id));
        Ok(id)
    }

    fn resolve(&mut self, r: &str) -> Result<NodeId, SchemaError> {
        if let Some(&id) = self.by_ref.get(r) {
            return Ok(id);
        }
        let (target, key) = self.target(&Value::Str(r.into()))?;
        // A model being built: recursion through it is fine.
        if let Some(id) = self.cached(target) {
            return Ok(id);
        }
        if self.resolving.iter().any(|x| x == r) {
            return Err(SchemaError::RefLoop(r.into()));
        }
        self.resolving.push(r.into());
        let built = self.component(target, key);
        self.resolving.pop();
        let id = built?;
        self.by_ref.insert(r.into(), id);
        Ok(id)
    }

    fn component(&mut self, target: &'a Value, key: &'a str) -> Result<NodeId, SchemaError> {
        if !matches!(target, Value::Obj(_)) {
            return self.push(Node { kind: Kind::Any, nullable: false });
        }
        if pure_ref(target).is_some() {
            return self.annotation(target);
        }
        let (flat, inner) = self.flatten(target, 0)?;
        let name = inner.or_else(|| flat.get("title").and_then(Value::as_str)).unwrap_or(key);
        let id = self.map(&flat, Some(name), target)?;
        self.by_schema.push((target as *const Value, id));
        Ok(id)
    }

    /// The pydantic type of a flattened schema. `name`: the class name, when a `$ref` led here.
    fn map(&mut self, s: &Flat<'a>, name: Option<&'a str>, origin: &'a Value) -> Result<NodeId, SchemaError> {
        let mut types: Vec<&str> = match s.get("type") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Str(t)) => vec![t.as_str()],
            Some(Value::Arr(list)) => list.iter().map(|t| t.as_str().ok_or(SchemaError::BadKeyword("type"))).collect::<Result<_, _>>()?,
            Some(_) => return Err(SchemaError::BadKeyword("type")),
        };
        let mut nullable = matches!(s.get("nullable"), Some(Value::Bool(true))) || types.contains(&"null");
        types.retain(|t| *t != "null");

        let mut union: Vec<&'a Value> = Vec::new();
        for key in ["anyOf", "oneOf"] {
            match s.get(key) {
                None | Some(Value::Null) => {}
                Some(Value::Arr(list)) => union.extend(list.iter()),
                Some(_) => return Err(SchemaError::BadKeyword(key)),
            }
        }
        if !union.is_empty() {
            let mut branches = Vec::new();
            for b in union {
                let null_only = matches!(b.get("type"), Some(Value::Str(t)) if t == "null")
                    && matches!(b, Value::Obj(m) if m.iter().filter(|(k, _)| !is_annotation(k)).count() == 1);
                if null_only {
                    nullable = true;
                    continue;
                }
                branches.push(self.annotation(b)?);
            }
            let kind = match branches.len() {
                0 => Kind::Null,
                1 => Kind::Alias(branches[0]),
                _ => Kind::Union(branches),
            };
            return self.push(Node { kind, nullable });
        }

        let listed = match (s.get("enum"), s.get("const")) {
            (Some(Value::Arr(e)), _) => Some((e.clone(), true)),
            (Some(_), _) => return Err(SchemaError::BadKeyword("enum")),
            (None, Some(c)) => Some((vec![c.clone()], false)),
            (None, None) => None,
        };
        if let Some((values, is_enum)) = listed {
            if values.is_empty() || values.iter().any(|v| matches!(v, Value::Arr(_) | Value::Obj(_) | Value::Bytes(_))) {
                return self.push(Node { kind: Kind::Any, nullable });
            }
            nullable |= values.iter().any(Value::is_null);
            let mut distinct: Vec<Value> = Vec::new();
            for v in values.into_iter().filter(|v| !v.is_null()) {
                if !distinct.iter().any(|d| same_literal(d, &v)) {
                    distinct.push(v);
                }
            }
            if distinct.is_empty() {
                return self.push(Node { kind: Kind::Null, nullable: true });
            }
            let kind = match name {
                Some(class) if is_enum => {
                    let nums = || distinct.iter().all(|v| finite(v).is_some());
                    let flavor = if distinct.iter().all(|v| matches!(v, Value::Str(_))) {
                        Flavor::Str
                    } else if nums() && distinct.iter().all(|v| v.as_f64().is_some_and(|n| n.fract() == 0.0)) {
                        Flavor::Int
                    } else if nums() {
                        Flavor::Float
                    } else {
                        Flavor::Plain
                    };
                    Kind::Enum { values: distinct, name: class.into(), flavor }
                }
                _ => Kind::Literal(distinct),
            };
            return self.push(Node { kind, nullable });
        }

        if types.is_empty() {
            if matches!(s.get("properties"), Some(Value::Obj(_))) || s.props.is_some() {
                types.push("object");
            } else if s.get("items").is_some() {
                types.push("array");
            }
        }
        let id = match types.as_slice() {
            [] => self.push(Node { kind: Kind::Any, nullable: false })?,
            [one] => {
                let id = self.kind(one, s, name, origin)?;
                self.nodes[id].nullable |= nullable;
                return Ok(id);
            }
            many => {
                let mut branches = Vec::new();
                for t in many {
                    branches.push(self.kind(t, s, name, origin)?);
                }
                self.push(Node { kind: Kind::Union(branches), nullable })?
            }
        };
        Ok(id)
    }

    fn kind(&mut self, t: &str, s: &Flat<'a>, name: Option<&'a str>, origin: &'a Value) -> Result<NodeId, SchemaError> {
        let kind = match t {
            "string" => {
                let (min, max) = (length(s, "minLength")?, length(s, "maxLength")?);
                let uri = matches!(s.get("format"), Some(Value::Str(f)) if f == "uri");
                if uri && s.get("maxLength").and_then(Value::as_f64) == Some(2083.0) {
                    Kind::Url { max: 2083 }
                } else {
                    let pattern = matches!(s.get("pattern"), Some(Value::Str(_)));
                    Kind::Str { min, max, constrained: min.is_some() || max.is_some() || pattern, uri }
                }
            }
            "integer" => Kind::Int(bounds(s, true)?),
            "number" => Kind::Float(bounds(s, false)?),
            "boolean" => Kind::Bool,
            "array" => {
                let items = match s.get("items") {
                    Some(i) => Some(self.annotation(i)?),
                    None => None,
                };
                Kind::List { items, min: length(s, "minItems")?, max: length(s, "maxItems")? }
            }
            "object" => match &s.props {
                Some(props) => return self.model(props, s, name, origin),
                None => {
                    let values = match s.get("additionalProperties") {
                        Some(extra @ Value::Obj(_)) => Some(self.annotation(extra)?),
                        _ => None,
                    };
                    Kind::Dict { values }
                }
            },
            _ => return Err(SchemaError::BadKeyword("type")),
        };
        self.push(Node { kind, nullable: false })
    }

    fn model(&mut self, props: &Entries<'a>, s: &Flat<'a>, name: Option<&'a str>, origin: &'a Value) -> Result<NodeId, SchemaError> {
        // Reserved first, so that a property referring back to this model finds it.
        let id = self.push(Node { kind: Kind::Any, nullable: false })?;
        self.by_schema.push((origin as *const Value, id));
        let required = s.required.clone().unwrap_or_default();
        let mut fields = Vec::with_capacity(props.len());
        for (prop, sub) in props {
            let node = self.annotation(sub)?;
            let required = required.contains(prop);
            let default_null = sub.get("default").is_none_or(Value::is_null);
            let null_ok = !required && default_null && !self.accepts_none(node);
            fields.push(Field { name: (*prop).to_string(), node, required, null_ok });
        }
        let extra = match s.get("additionalProperties") {
            Some(Value::Bool(false)) => Extra::Forbid,
            Some(Value::Bool(true)) => Extra::Allow(None),
            Some(schema @ Value::Obj(_)) => Extra::Allow(Some(self.annotation(schema)?)),
            _ => Extra::Ignore,
        };
        let class = name.or_else(|| s.get("title").and_then(Value::as_str)).unwrap_or("Model");
        self.nodes[id].kind = Kind::Model { name: class.into(), fields, extra };
        Ok(id)
    }

    fn accepts_none(&self, id: NodeId) -> bool {
        let mut id = id;
        for _ in 0..64 {
            let n = &self.nodes[id];
            if n.nullable {
                return true;
            }
            match &n.kind {
                Kind::Any | Kind::Null => return true,
                Kind::Alias(next) => id = *next,
                Kind::Union(members) => return members.iter().any(|m| self.accepts_none(*m)),
                _ => return false,
            }
        }
        false
    }
}

/// `typing.Literal` keeps one of equal values of the same type.
fn same_literal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Num(x), Value::Num(y)) => x == y,
        _ => a == b,
    }
}
