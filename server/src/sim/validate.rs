//! Server-side input validation: an input judged against the endpoint's OpenAPI input schema
//! by genwire's own core (`genwire::proto::schema`), the one implementation of the rules
//! (docs/validation-rules.md: pydantic v2 lax, as fal's 422 reports it). The independent
//! check of those rules is pydantic itself, in the differential test (scripts/differential.sh).
//! Only the server's rules apply here: none of the client's additions (`invalid_url`, hints).

use std::fmt;

use genwire::proto::error::{FieldIssue, LocPart};
use genwire::proto::schema::Schema;
use genwire::proto::value::Value as Core;
use serde::Serialize;
use serde_json::{Map, Number, Value};

/// One step of an issue's `loc`: a property name, an array index, or a union member's label.
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

/// Why a document's input schema cannot be used (the input is then accepted unvalidated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaError(pub genwire::proto::schema::SchemaError);

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for SchemaError {}

/// Every issue of `input` against the document's input schema, in pydantic's order (empty when
/// the input is valid).
pub fn validate(doc: &Value, input: &Value) -> Result<Vec<Issue>, SchemaError> {
    let doc = Core::from_deserializer(doc).expect("a serde_json value always reads");
    let schema = Schema::from_openapi(&doc, None).map_err(SchemaError)?;
    let input = Core::from_deserializer(input).expect("a serde_json value always reads");
    Ok(schema.validate(&input).into_iter().map(issue).collect())
}

fn issue(i: FieldIssue) -> Issue {
    let ctx = i.ctx.as_ref().map(|c| match json(&serde_json_value(c)) {
        Value::Object(m) => m,
        other => Map::from_iter([("value".to_string(), other)]),
    });
    Issue {
        loc: i
            .loc
            .into_iter()
            .map(|p| match p {
                LocPart::Key(k) => LocItem::Key(k),
                LocPart::Index(n) => LocItem::Index(n as usize),
            })
            .collect(),
        msg: i.msg,
        kind: i.kind,
        ctx,
        input: i.input.as_ref().map(|v| json(&serde_json_value(v))).unwrap_or(Value::Null),
    }
}

fn serde_json_value(v: &impl Serialize) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// Whole numbers written as integers, as FastAPI writes what pydantic holds as an int.
fn json(v: &Value) -> Value {
    match v {
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 9.007_199_254_740_992e15 => Value::Number(Number::from(f as i64)),
            _ => v.clone(),
        },
        Value::Array(a) => Value::Array(a.iter().map(json).collect()),
        Value::Object(m) => Value::Object(m.iter().map(|(k, x)| (k.clone(), json(x))).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(schemas: Value, input: Value) -> Value {
        json!({
            "paths": { "/x": { "post": { "requestBody": { "content": { "application/json": { "schema": input } } } } } },
            "components": { "schemas": schemas },
        })
    }

    #[test]
    fn issues_in_the_servers_shape() {
        let d = doc(
            json!({ "In": { "title": "In", "type": "object", "required": ["n"], "properties": { "n": { "type": "integer", "maximum": 4 }, "s": { "type": "string", "enum": ["a", "b"], "default": "a" } } } }),
            json!({ "$ref": "#/components/schemas/In" }),
        );
        let got = serde_json::to_value(validate(&d, &json!({ "n": 9, "s": null })).unwrap()).unwrap();
        assert_eq!(
            got,
            json!([
                { "loc": ["body", "n"], "msg": "Input should be less than or equal to 4", "type": "less_than_equal", "ctx": { "le": 4 }, "input": 9 },
                { "loc": ["body", "s"], "msg": "Input should be 'a' or 'b'", "type": "one_of", "ctx": { "expected": ["a", "b"] }, "input": null },
            ])
        );
        assert_eq!(validate(&d, &json!({ "n": "2" })).unwrap(), [], "lax, as pydantic");
        assert_eq!(validate(&d, &json!(null)).unwrap()[0].kind, "missing");
    }

    #[test]
    fn no_client_additions_and_unusable_schemas() {
        let d = doc(json!({}), json!({ "type": "object", "properties": { "image_url": { "type": "string" } } }));
        assert_eq!(validate(&d, &json!({ "image_url": "/home/me/a.png" })).unwrap(), []);
        let broken = doc(json!({}), json!({ "$ref": "#/components/schemas/Nope" }));
        assert!(validate(&broken, &json!({})).is_err());
        assert!(validate(&json!({ "paths": {} }), &json!({})).is_err());
    }
}
