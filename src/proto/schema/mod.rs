//! Input validation against an endpoint's schema (fal's OpenAPI format), judged as the server
//! judges it: the schema is read as the pydantic v2 model the fal app declared, and an input is
//! checked with pydantic's lax-mode rules, reporting what fal's 422 would list
//! (docs/validation-rules.md). The verdict is sound: whatever this rejects, the server rejects
//! too, with the same `loc`, `type` and `ctx`; where it can't be sure, it accepts.
//!
//! A schema is compiled once into a graph of nodes (`$ref`s become edges, so recursive models
//! are fine) and then checks any number of inputs without allocating while they pass.

mod check;
mod compile;
pub mod files;
mod lax;
#[cfg(test)]
mod tests;

pub use check::url_issue;
pub use compile::SchemaError;

use crate::proto::error::LocPart;
use crate::proto::value::Value;

pub type NodeId = usize;

/// ge/gt/le/lt/multiple_of of a number, as pydantic's `Field(...)` holds them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Bounds {
    pub multiple_of: Option<f64>,
    pub le: Option<f64>,
    pub lt: Option<f64>,
    pub ge: Option<f64>,
    pub gt: Option<f64>,
}

impl Bounds {
    fn any(&self) -> bool {
        self.multiple_of.is_some() || self.le.is_some() || self.lt.is_some() || self.ge.is_some() || self.gt.is_some()
    }
}

/// The member type of an `Enum` class (a `$ref` to a component with `enum`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Flavor {
    Str,
    Int,
    Float,
    Plain,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Extra {
    /// pydantic's default: extra keys are dropped unseen.
    Ignore,
    Forbid,
    /// Kept; checked against the schema when there is one.
    Allow(Option<NodeId>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: String,
    pub node: NodeId,
    pub required: bool,
    /// `Optional[...] = None`: an optional field with no default (or a null one) and no null branch.
    pub null_ok: bool,
}

/// One pydantic type.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Any,
    /// `None` (`type: null` alone).
    Null,
    /// `str`; `constrained` with a length or a pattern (the pattern itself is the server's to check).
    /// `uri` marks a `format: uri` field (for the client's "upload first" check).
    Str {
        min: Option<usize>,
        max: Option<usize>,
        constrained: bool,
        uri: bool,
    },
    /// `HttpUrl` (`format: uri` with `maxLength: 2083`).
    Url {
        max: usize,
    },
    Int(Bounds),
    Float(Bounds),
    Bool,
    Literal(Vec<Value>),
    Enum {
        values: Vec<Value>,
        name: String,
        flavor: Flavor,
    },
    List {
        items: Option<NodeId>,
        min: Option<usize>,
        max: Option<usize>,
    },
    Dict {
        values: Option<NodeId>,
    },
    Model {
        name: String,
        fields: Vec<Field>,
        extra: Extra,
    },
    /// Two or more members, judged in pydantic's smart mode.
    Union(Vec<NodeId>),
    /// A `$ref`: the node it names.
    Alias(NodeId),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: Kind,
    /// `Optional[...]`: null passes.
    pub nullable: bool,
}

/// A compiled input schema.
#[derive(Debug, Clone)]
pub struct Schema {
    nodes: Vec<Node>,
    root: NodeId,
}

/// How to check: the server's rules only, or with the client's additions.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The client's checks beyond the schema: `invalid_url` for a local path or a `blob:`/`file:`
    /// URL in a URL field, and hints (`{width, height}` for a `WxH` size, "upload first").
    pub client: bool,
    /// Where the input held a string with a lone UTF-16 surrogate (paths from the input's root).
    /// A JS string can hold one, a Rust string can't: the caller replaces it (with U+FFFD) and
    /// says where, since pydantic refuses such a string wherever it must read its characters.
    pub lone_surrogates: Vec<Vec<LocPart>>,
}

impl Schema {
    /// From an OpenAPI document (the input of `endpoint`, or of the only POST if the id
    /// isn't found), or from a bare JSON schema whose `$ref`s point into its own `components`.
    pub fn from_openapi(doc: &Value, endpoint: Option<&str>) -> Result<Schema, SchemaError> {
        compile::compile(doc, endpoint)
    }

    /// Every issue the server's 422 would list for `input`, in its order, `loc` from `body`.
    pub fn validate(&self, input: &Value) -> Vec<crate::proto::error::FieldIssue> {
        check::validate(self, input, &Options::default())
    }

    /// [`Schema::validate`] with the client's additions and the input's lone surrogates.
    pub fn validate_with(&self, input: &Value, options: &Options) -> Vec<crate::proto::error::FieldIssue> {
        check::validate(self, input, options)
    }

    /// The node an alias names, and whether any alias on the way was nullable.
    fn resolve(&self, mut id: NodeId) -> (&Node, bool) {
        let mut nullable = false;
        // Aliases never form a loop: compile() refuses ref-only cycles.
        loop {
            let n = &self.nodes[id];
            nullable |= n.nullable;
            match n.kind {
                Kind::Alias(next) => id = next,
                _ => return (n, nullable),
            }
        }
    }
}
