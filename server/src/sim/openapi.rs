//! `GET https://fal.ai/api/openapi/queue/openapi.json?endpoint_id=...`: per-endpoint schemas.

use axum::extract::Request;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use std::sync::OnceLock;

use serde_json::{json, Value};

use crate::json::json as json_resp;

/// Endpoint id and its OpenAPI document, as fal serves it.
const DOCUMENTS: [(&str, &str); 6] = [
    ("fal-ai/flux/dev", include_str!("schemas/fal-ai__flux__dev.json")),
    ("fal-ai/fast-sdxl", include_str!("schemas/fal-ai__fast-sdxl.json")),
    ("fal-ai/flux/dev/image-to-image", include_str!("schemas/fal-ai__flux__dev__image-to-image.json")),
    ("genwire/schema-zoo", include_str!("schemas/genwire__schema-zoo.json")),
    ("fal-ai/any-llm", include_str!("schemas/fal-ai__any-llm.json")),
    ("genwire/audio-stream", include_str!("schemas/genwire__audio-stream.json")),
];

pub fn document(endpoint_id: &str) -> Option<&'static str> {
    DOCUMENTS.iter().find(|(id, _)| *id == endpoint_id).map(|(_, doc)| *doc)
}

/// The parsed document of an endpoint (parsed once); `None` for endpoints without one.
pub fn parsed(endpoint_id: &str) -> Option<&'static Value> {
    static PARSED: OnceLock<Vec<Option<Value>>> = OnceLock::new();
    let all = PARSED.get_or_init(|| DOCUMENTS.iter().map(|(_, doc)| serde_json::from_str(doc).ok()).collect());
    let i = DOCUMENTS.iter().position(|(id, _)| *id == endpoint_id)?;
    all[i].as_ref()
}

pub fn route(req: Request) -> Response {
    if req.uri().path() != "/api/openapi/queue/openapi.json" {
        return super::not_found();
    }
    if req.method() != Method::GET {
        return json_resp(StatusCode::METHOD_NOT_ALLOWED, json!({ "detail": "Method Not Allowed" }));
    }
    let id = req.uri().query().and_then(|q| url::form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "endpoint_id").map(|(_, v)| v.into_owned()));
    let Some(id) = id else {
        return json_resp(StatusCode::BAD_REQUEST, json!({ "detail": "Missing endpoint_id" }));
    };
    match parsed(&id) {
        Some(doc) => json_resp(StatusCode::OK, doc.clone()),
        None => json_resp(StatusCode::NOT_FOUND, json!({ "detail": format!("Endpoint '{id}' not found") })),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn documents_are_valid_json_with_input_ref() {
        let inputs = [
            ("fal-ai/flux/dev", "FluxDevInput"),
            ("fal-ai/fast-sdxl", "FastSdxlInput"),
            ("fal-ai/flux/dev/image-to-image", "ImageToImageInput"),
            ("genwire/schema-zoo", "SchemaZooInput"),
            ("fal-ai/any-llm", "AnyLlmInput"),
            ("genwire/audio-stream", "AudioStreamInput"),
        ];
        for (id, input) in inputs {
            let doc: serde_json::Value = serde_json::from_str(super::document(id).expect("known")).expect("valid JSON");
            assert_eq!(super::parsed(id), Some(&doc));
            let path = format!("/{id}");
            let schema = &doc["paths"][path.as_str()]["post"]["requestBody"]["content"]["application/json"]["schema"];
            assert_eq!(schema["$ref"], format!("#/components/schemas/{input}"));
            assert!(doc["components"]["schemas"][input]["properties"]["prompt"].is_object());
        }
    }
}
