//! The validator module's exports (pkg/genwire_validate_bg.wasm; docs/size.md, "The split"):
//! compile an endpoint's schema, and check an input against it. The core module (`validate`)
//! loads this module on its first validation, in parallel with the schema's fetch, and calls
//! these exports through JS: the document, the input (already walked by the core: files
//! replaced by stand-ins) and the issues cross as plain JS values. Nothing else lives here.

use wasm_bindgen::prelude::*;

use super::conv;
use crate::proto::error::issues::loc_of;
use crate::proto::schema::{Options, Schema};
use crate::proto::shapes;

/// A compiled schema, held by the core's schema cache (freed by the GC: `--weak-refs`).
#[wasm_bindgen]
pub struct Compiled(Schema);

/// The input schema of an OpenAPI document (or a JSON schema), for `endpoint` when the document
/// has several. Throws why it can't be used, as a string.
#[wasm_bindgen]
pub fn compile(doc: JsValue, endpoint: Option<String>) -> Result<Compiled, JsValue> {
    Schema::from_openapi(&conv::lossy(&doc), endpoint.as_deref()).map(Compiled).map_err(|e| JsValue::from_str(&e.to_string()))
}

#[wasm_bindgen]
impl Compiled {
    /// The issues of `value` (the input as JSON sends it) as `shapes::issues` writes them: the
    /// server's rules and the client's extras; `lone` lists where strings held a lone surrogate.
    pub fn check(&self, value: JsValue, lone: JsValue) -> JsValue {
        let lone_surrogates = conv::lossy(&lone).as_array().map(|l| l.iter().map(|p| loc_of(Some(p))).collect()).unwrap_or_default();
        conv::from_value(&shapes::issues(&self.0.validate_with(&conv::lossy(&value), &Options { client: true, lone_surrogates })))
    }
}
