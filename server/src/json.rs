//! Small helpers for JSON answers.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

pub fn json(status: StatusCode, body: Value) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

/// The flat `{detail, error_type}` shape of fal's request errors, with its header.
pub fn request_error(status: StatusCode, detail: &str, error_type: &str) -> Response {
    let mut resp = json(status, serde_json::json!({ "detail": detail, "error_type": error_type }));
    if let Ok(v) = HeaderValue::from_str(error_type) {
        resp.headers_mut().insert("x-fal-error-type", v);
    }
    resp
}
