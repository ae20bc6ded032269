//! OpenAPI / JSON Schema (the keywords fal uses) to a node graph.

use crate::proto::map::Map;

use super::{Additional, Node, NodeId, Schema, Ty};
use crate::proto::value::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemaError {
    /// No input schema in the document (no POST request body, or not an object).
    NoInput,
    UnresolvedRef(String),
    /// `A` is `$ref B` and `B` is `$ref A`: no node to check against.
    RefLoop(String),
    /// A keyword has a value of the wrong type, e.g. `"minimum": "3"`.
    BadKeyword(String),
    TooLarge,
}

impl core::fmt::Display for SchemaError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::NoInput => f.write_str("the document has no input schema (no POST request body)"),
            Self::UnresolvedRef(r) => write!(f, "the reference '{r}' does not resolve"),
            Self::RefLoop(r) => write!(f, "the reference '{r}' only points at itself"),
            Self::BadKeyword(k) => write!(f, "the keyword '{k}' has a value of the wrong type"),
            Self::TooLarge => f.write_str("the schema is too large"),
        }
    }
}

const MAX_NODES: usize = 10_000;

struct Compiler<'a> {
    components: Option<&'a Value>,
    nodes: Vec<Node>,
    by_ref: Map<NodeId>,
    /// Refs being resolved right now, to tell a ref-only loop from a recursive schema.
    resolving: Vec<String>,
}

pub fn compile(doc: &Value, endpoint: Option<&str>) -> Result<Schema, SchemaError> {
    let input = input_schema(doc, endpoint).ok_or(SchemaError::NoInput)?;
    let mut c = Compiler { components: doc.get("components").and_then(|c| c.get("schemas")), nodes: Vec::new(), by_ref: Map::new(), resolving: Vec::new() };
    let root = c.node(input)?;
    // `A: {$ref: B}`, `B: {$ref: A}` would leave nothing to check against.
    for start in 0..c.nodes.len() {
        let (mut at, mut steps) = (start, 0);
        while let Some(next) = c.nodes[at].alias {
            at = next;
            steps += 1;
            if steps > c.nodes.len() {
                return Err(SchemaError::RefLoop(format!("node {start}")));
            }
        }
    }
    Ok(Schema { nodes: c.nodes, root })
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

fn num(v: &Value, key: &str) -> Result<Option<f64>, SchemaError> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Num(n)) if n.is_finite() => Ok(Some(*n)),
        Some(_) => Err(SchemaError::BadKeyword(key.into())),
    }
}

fn ty(name: &str) -> Option<Ty> {
    Some(match name {
        "string" => Ty::String,
        "integer" => Ty::Integer,
        "number" => Ty::Number,
        "boolean" => Ty::Boolean,
        "array" => Ty::Array,
        "object" => Ty::Object,
        "null" => Ty::Null,
        _ => return None,
    })
}

impl<'a> Compiler<'a> {
    fn push(&mut self, n: Node) -> Result<NodeId, SchemaError> {
        if self.nodes.len() >= MAX_NODES {
            return Err(SchemaError::TooLarge);
        }
        self.nodes.push(n);
        Ok(self.nodes.len() - 1)
    }

    fn resolve(&mut self, r: &str) -> Result<NodeId, SchemaError> {
        if let Some(&id) = self.by_ref.get(r) {
            return Ok(id);
        }
        if self.resolving.iter().any(|x| x == r) {
            return Err(SchemaError::RefLoop(r.into()));
        }
        let name = r.strip_prefix("#/components/schemas/").ok_or_else(|| SchemaError::UnresolvedRef(r.into()))?;
        let target = self.components.and_then(|c| c.get(name)).ok_or_else(|| SchemaError::UnresolvedRef(r.into()))?;
        // Reserve the id first so a schema that refers to itself (a tree) becomes a cycle in the graph.
        let id = self.push(Node::default())?;
        self.by_ref.insert(r.into(), id);
        self.resolving.push(r.into());
        let compiled = self.fill(target);
        self.resolving.pop();
        self.nodes[id] = compiled?;
        Ok(id)
    }

    fn node(&mut self, v: &Value) -> Result<NodeId, SchemaError> {
        let n = self.fill(v)?;
        self.push(n)
    }

    fn list(&mut self, v: &Value, key: &str) -> Result<Vec<NodeId>, SchemaError> {
        match v.get(key) {
            None => Ok(Vec::new()),
            Some(Value::Arr(items)) => items.iter().map(|s| self.node(s)).collect(),
            Some(_) => Err(SchemaError::BadKeyword(key.into())),
        }
    }

    fn fill(&mut self, v: &Value) -> Result<Node, SchemaError> {
        let mut n = Node::default();
        if !matches!(v, Value::Obj(_)) {
            // `true` / `{}`-like schemas accept anything.
            return Ok(n);
        }
        if let Some(r) = v.get("$ref") {
            let r = r.as_str().ok_or_else(|| SchemaError::BadKeyword("$ref".into()))?;
            let target = self.resolve(r)?;
            const CONSTRAINTS: [&str; 20] = [
                "type", "nullable", "enum", "const", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
                "minLength", "maxLength", "minItems", "maxItems", "properties", "required", "additionalProperties", "items",
                "anyOf", "oneOf", "allOf",
            ];
            if !CONSTRAINTS.iter().any(|k| v.get(k).is_some()) {
                n.alias = Some(target);
                return Ok(n);
            }
            n.all_of.push(target);
        }
        match v.get("type") {
            None => {}
            Some(Value::Str(s)) => n.types.extend(ty(s)),
            Some(Value::Arr(list)) => n.types.extend(list.iter().filter_map(Value::as_str).filter_map(ty)),
            Some(_) => return Err(SchemaError::BadKeyword("type".into())),
        }
        n.nullable = matches!(v.get("nullable"), Some(Value::Bool(true)));
        n.enumeration = match (v.get("enum"), v.get("const")) {
            (Some(Value::Arr(e)), _) => Some(e.clone()),
            (Some(_), _) => return Err(SchemaError::BadKeyword("enum".into())),
            (None, Some(c)) => Some(vec![c.clone()]),
            (None, None) => None,
        };
        // OpenAPI 3.0 writes exclusive bounds as booleans next to minimum/maximum.
        let (min, max) = (num(v, "minimum")?, num(v, "maximum")?);
        match v.get("exclusiveMinimum") {
            Some(Value::Bool(true)) => n.exclusive_minimum = min,
            Some(Value::Bool(false)) | None => n.minimum = min,
            Some(_) => {
                n.exclusive_minimum = num(v, "exclusiveMinimum")?;
                n.minimum = min;
            }
        }
        match v.get("exclusiveMaximum") {
            Some(Value::Bool(true)) => n.exclusive_maximum = max,
            Some(Value::Bool(false)) | None => n.maximum = max,
            Some(_) => {
                n.exclusive_maximum = num(v, "exclusiveMaximum")?;
                n.maximum = max;
            }
        }
        n.multiple_of = num(v, "multipleOf")?.filter(|m| *m > 0.0);
        n.min_length = num(v, "minLength")?;
        n.max_length = num(v, "maxLength")?;
        n.min_items = num(v, "minItems")?;
        n.max_items = num(v, "maxItems")?;
        if let Some(Value::Obj(props)) = v.get("properties") {
            let order: Vec<&str> = v.get("x-fal-order-properties").and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
            let mut names: Vec<&String> = order.iter().filter_map(|o| props.iter().find(|(k, _)| k == o).map(|(k, _)| k)).collect();
            names.extend(props.iter().map(|(k, _)| k).filter(|k| !order.contains(&k.as_str())));
            for name in names {
                let schema = props.iter().find(|(k, _)| k == name).map(|(_, s)| s).unwrap_or(&Value::Null);
                let id = self.node(schema)?;
                n.properties.push((name.clone(), id));
            }
        }
        n.required = v.get("required").and_then(Value::as_array).map(|r| r.iter().filter_map(Value::as_str).map(String::from).collect()).unwrap_or_default();
        n.additional = match v.get("additionalProperties") {
            None | Some(Value::Bool(true)) => Additional::Allow,
            Some(Value::Bool(false)) => Additional::Forbid,
            Some(s) => Additional::Schema(self.node(s)?),
        };
        if let Some(items) = v.get("items") {
            n.items = Some(self.node(items)?);
        }
        n.any_of = self.list(v, "anyOf")?;
        n.any_of.extend(self.list(v, "oneOf")?);
        n.all_of.extend(self.list(v, "allOf")?);
        Ok(n)
    }
}
