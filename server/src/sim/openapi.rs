//! `GET https://fal.ai/api/openapi/queue/openapi.json?endpoint_id=...`: per-endpoint schemas.

use axum::extract::Request;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};

use crate::json::json as json_resp;

const FLUX_DEV: &str = include_str!("schemas/fal-ai__flux__dev.json");
const FAST_SDXL: &str = include_str!("schemas/fal-ai__fast-sdxl.json");

pub fn document(endpoint_id: &str) -> Option<&'static str> {
    match endpoint_id {
        "fal-ai/flux/dev" => Some(FLUX_DEV),
        "fal-ai/fast-sdxl" => Some(FAST_SDXL),
        _ => None,
    }
}

pub fn route(req: Request) -> Response {
    if req.uri().path() != "/api/openapi/queue/openapi.json" {
        return super::not_found();
    }
    if req.method() != Method::GET {
        return json_resp(StatusCode::METHOD_NOT_ALLOWED, json!({ "detail": "Method Not Allowed" }));
    }
    let id = req
        .uri()
        .query()
        .and_then(|q| url::form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "endpoint_id").map(|(_, v)| v.into_owned()));
    let Some(id) = id else {
        return json_resp(StatusCode::BAD_REQUEST, json!({ "detail": "Missing endpoint_id" }));
    };
    match document(&id).and_then(|doc| serde_json::from_str::<Value>(doc).ok()) {
        Some(doc) => json_resp(StatusCode::OK, doc),
        None => json_resp(StatusCode::NOT_FOUND, json!({ "detail": format!("Endpoint '{id}' not found") })),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn documents_are_valid_json_with_input_ref() {
        for (id, input) in [("fal-ai/flux/dev", "FluxDevInput"), ("fal-ai/fast-sdxl", "FastSdxlInput")] {
            let doc: serde_json::Value = serde_json::from_str(super::document(id).expect("known")).expect("valid JSON");
            let path = format!("/{id}");
            let schema = &doc["paths"][path.as_str()]["post"]["requestBody"]["content"]["application/json"]["schema"];
            assert_eq!(schema["$ref"], format!("#/components/schemas/{input}"));
            assert!(doc["components"]["schemas"][input]["properties"]["prompt"].is_object());
        }
    }
}
