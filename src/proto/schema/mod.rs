//! Input validation against an endpoint's schema (fal's OpenAPI format), by the
//! rules in docs/validation-rules.md, reporting the server's own 422 issues.
//!
//! A schema is compiled once into a graph of nodes (`$ref`s become edges, so
//! recursive schemas are fine) and then checks any number of inputs.

mod check;
mod compile;
pub mod files;
#[cfg(test)]
mod tests;

pub use check::url_issue;
pub use compile::SchemaError;

use crate::proto::value::Value;

pub type NodeId = usize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    String,
    Integer,
    Number,
    Boolean,
    Array,
    Object,
    Null,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Additional {
    Allow,
    Forbid,
    Schema(NodeId),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub types: Vec<Ty>,
    pub nullable: bool,
    pub enumeration: Option<Vec<Value>>,
    pub exclusive_minimum: Option<f64>,
    pub minimum: Option<f64>,
    pub exclusive_maximum: Option<f64>,
    pub maximum: Option<f64>,
    pub multiple_of: Option<f64>,
    pub min_length: Option<f64>,
    pub max_length: Option<f64>,
    pub min_items: Option<f64>,
    pub max_items: Option<f64>,
    /// In report order: `x-fal-order-properties`, then the rest of `properties`.
    pub properties: Vec<(String, NodeId)>,
    pub required: Vec<String>,
    pub additional: Additional,
    pub items: Option<NodeId>,
    pub any_of: Vec<NodeId>,
    pub all_of: Vec<NodeId>,
    /// Set when this node is only a `$ref` to another.
    pub alias: Option<NodeId>,
}

impl Default for Node {
    fn default() -> Self {
        Self {
            types: Vec::new(),
            nullable: false,
            enumeration: None,
            exclusive_minimum: None,
            minimum: None,
            exclusive_maximum: None,
            maximum: None,
            multiple_of: None,
            min_length: None,
            max_length: None,
            min_items: None,
            max_items: None,
            properties: Vec::new(),
            required: Vec::new(),
            additional: Additional::Allow,
            items: None,
            any_of: Vec::new(),
            all_of: Vec::new(),
            alias: None,
        }
    }
}

/// A compiled input schema.
#[derive(Debug, Clone)]
pub struct Schema {
    nodes: Vec<Node>,
    root: NodeId,
}

impl Schema {
    /// From an OpenAPI document (the input of `endpoint`, or of the only POST if the id
    /// isn't found), or from a bare JSON schema whose `$ref`s point into its own `components`.
    pub fn from_openapi(doc: &Value, endpoint: Option<&str>) -> Result<Schema, SchemaError> {
        compile::compile(doc, endpoint)
    }

    /// Every issue of `input`, in the server's order, with `loc` starting at `body`.
    pub fn validate(&self, input: &Value) -> Vec<crate::proto::error::FieldIssue> {
        check::validate(self, input)
    }

    fn node(&self, id: NodeId) -> &Node {
        let mut n = &self.nodes[id];
        // Aliases never form a loop: compile() refuses ref-only cycles.
        while let Some(next) = n.alias {
            n = &self.nodes[next];
        }
        n
    }
}
