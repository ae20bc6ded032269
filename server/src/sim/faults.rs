//! Faults that tests attach to the next jobs with a given prompt, so client code can be
//! exercised against failures without changing how it calls the API.

use std::collections::BTreeMap;

use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Faults {
    /// SSE sends this many events, then the connection is aborted (not a clean end).
    pub stream_cut_after: Option<u32>,
    /// SSE sends this many events, then nothing at all (no keep-alives) until the client leaves.
    pub stream_stall_after: Option<u32>,
    /// The status stream answers this HTTP status with a request-error body instead of streaming.
    pub stream_status: Option<u16>,
    /// Every status poll answer is delayed by this long.
    pub status_delay_ms: Option<u64>,
    /// The first n status polls answer 503 runner_disconnected (retryable).
    pub status_fail_times: Option<u32>,
    /// The job completes, but its result answers with this.
    pub result_error: Option<ErrorSpec>,
    /// The submit itself answers with this; no job is created.
    pub submit_error: Option<ErrorSpec>,
    pub latency_ms: Option<u64>,
    pub queue_depth: Option<u32>,
}

/// A canned upstream answer: JSON bodies are sent as JSON, a JSON string as plain text.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorSpec {
    pub status: u16,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub body: Value,
}

impl ErrorSpec {
    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    pub fn to_response(&self) -> Response {
        let (content_type, body) = match &self.body {
            Value::String(s) => ("text/plain; charset=utf-8", s.clone()),
            other => ("application/json", other.to_string()),
        };
        let mut resp = (self.status_code(), body).into_response();
        let headers = resp.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        for (name, value) in &self.headers {
            if let (Ok(n), Ok(v)) = (HeaderName::try_from(name.as_str()), HeaderValue::try_from(value.as_str())) {
                headers.insert(n, v);
            }
        }
        resp
    }

    /// What a status answer says about this failure: (error message, error_type if known).
    pub fn status_error(&self) -> (String, Option<String>) {
        let detail = self.body.get("detail").and_then(Value::as_str).map(str::to_owned);
        let error_type = self
            .body
            .get("error_type")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("x-fal-error-type")).map(|(_, v)| v.clone()));
        (detail.unwrap_or_else(|| format!("Request failed with status {}", self.status)), error_type)
    }
}

/// Body of `POST /__sim/faults`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    pub prompt: String,
    pub faults: Faults,
    #[serde(default = "one")]
    pub times: u32,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Default)]
pub struct FaultRegistry {
    rules: Vec<FaultRule>,
}

impl FaultRegistry {
    pub fn add(&mut self, rule: FaultRule) {
        if rule.times > 0 {
            self.rules.push(rule);
        }
    }

    pub fn clear(&mut self) {
        self.rules.clear();
    }

    /// Consumes one use of the oldest rule for this prompt.
    pub fn take(&mut self, prompt: &str) -> Faults {
        let Some(i) = self.rules.iter().position(|r| r.prompt == prompt) else {
            return Faults::default();
        };
        let faults = self.rules[i].faults.clone();
        self.rules[i].times -= 1;
        if self.rules[i].times == 0 {
            self.rules.remove(i);
        }
        faults
    }
}

/// A seed-002 body for a bare status code, picking the error_type fal uses for it.
pub fn request_error_for_status(status: u16) -> Response {
    let (detail, error_type) = match status {
        400 => ("Bad request", "bad_request"),
        499 => ("Client disconnected", "client_disconnected"),
        502 => ("Runner sent an incomplete response", "runner_incomplete_response"),
        503 => ("Runner disconnected", "runner_disconnected"),
        504 => ("Request timed out", "request_timeout"),
        _ => ("Internal error", "internal_error"),
    };
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    crate::json::request_error(code, detail, error_type)
}
