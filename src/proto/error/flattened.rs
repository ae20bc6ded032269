//! Errors that arrive as successes.
//!
//! Some proxies answer every upstream answer with status 200: the Express handler of
//! `@fal-ai/server-proxy` 1.2.1 streams fal's body and headers but not its status. So a
//! 2xx whose body is an error document, where a submit answer, a queue status or a
//! result was expected, is that error: never data. Its status is taken from what the
//! answer still shows (fal's error type, the shape of the body, a server-named wait), or
//! reported as unknown.

use super::decode::{decode, Body, Headers};
use super::ErrorInfo;
use crate::proto::retry::Call;
use crate::proto::value::Value;

/// What a 2xx answer was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// A submit answer: it has a `request_id`.
    Submit,
    /// A queue status: it has a `status`.
    Status,
    /// A job's output: anything, unless the answer says it is an error.
    Result,
}

/// The error a 2xx answer holds, if it holds one. `job_failed`: the job's COMPLETED status
/// carried `error`/`error_type` (fal's sign of a failed job), so its result is its error.
pub fn error_in_success(expected: Expected, header: Headers, body: &Value, job_failed: bool, now_ms: f64) -> Option<ErrorInfo> {
    let fal_type = header("x-fal-error-type").filter(|t| !t.trim().is_empty());
    let shaped = looks_like_error(body);
    let is_error = match expected {
        Expected::Submit => body.str_field("request_id").is_none() && (shaped || fal_type.is_some()),
        Expected::Status => body.str_field("status").is_none() && (shaped || fal_type.is_some()),
        // An output may hold anything; only fal's own signs count: its error headers, a body that
        // is nothing but fal's error document, or a job the queue reported as failed.
        Expected::Result => fal_type.is_some() || header("x-fal-retryable").is_some() || (shaped && only_error_keys(body)) || (job_failed && shaped),
    };
    if !is_error {
        return None;
    }
    let call = match expected {
        Expected::Submit => Call::Submit,
        Expected::Status => Call::Status,
        Expected::Result => Call::Result,
    };
    let status = inferred_status(fal_type.as_deref().or_else(|| body.str_field("error_type")), header, body);
    Some(decode(status, header, &Body::Json(body.clone()), false, Some(call), now_ms))
}

/// The error an output stream's event holds, if any. An event named `error` is one whatever it
/// carries (a fal error document, another API's envelope, or a sentence); an unnamed event only
/// when it is nothing but fal's error document (an output may hold an `error` field of its own,
/// as any-llm's `{output, partial, error: null}` does). `text`: data that was not JSON.
pub fn stream_event_error(named_error: bool, body: Option<&Value>, text: &str, now_ms: f64) -> Option<ErrorInfo> {
    let none = |_: &str| None;
    let Some(body) = body else {
        return named_error.then(|| decode(None, &none, &Body::Text(text.into()), false, Some(Call::Stream), now_ms));
    };
    if !named_error && (!looks_like_error(body) || !only_error_keys(body)) {
        return None;
    }
    let status = inferred_status(body.str_field("error_type"), &none, body);
    Some(decode(status, &none, &Body::Json(body.clone()), false, Some(Call::Stream), now_ms))
}

/// fal's error documents (`{detail: "..." | [...]}`, with `error_type`) and other APIs'
/// envelopes (`{error: ...}`, `{errors: [...]}`, `{message, code}`).
fn looks_like_error(body: &Value) -> bool {
    let present = |k: &str| body.get(k).is_some_and(|v| !v.is_null());
    match body {
        Value::Obj(_) => present("detail") || present("error") || present("errors") || (present("message") && present("code")),
        _ => false,
    }
}

/// Nothing but the keys of an error document.
fn only_error_keys(body: &Value) -> bool {
    const KEYS: [&str; 6] = ["detail", "error_type", "request_id", "error", "errors", "message"];
    match body {
        Value::Obj(fields) => fields.iter().all(|(k, _)| KEYS.contains(&k.as_str())),
        _ => false,
    }
}

/// The status the answer would have had: fal's request-error table (seed 002), a model
/// error's type (seed 001), a server-named wait; else unknown.
fn inferred_status(error_type: Option<&str>, header: Headers, body: &Value) -> Option<u16> {
    const REQUEST_ERRORS: [(&str, u16); 13] = [
        ("request_timeout", 504),
        ("startup_timeout", 504),
        ("runner_scheduling_failure", 503),
        ("runner_connection_timeout", 503),
        ("runner_disconnected", 503),
        ("runner_connection_refused", 503),
        ("runner_connection_error", 503),
        ("runner_incomplete_response", 502),
        ("runner_server_error", 500),
        ("internal_error", 500),
        ("client_disconnected", 499),
        ("client_cancelled", 499),
        ("bad_request", 400),
    ];
    if let Some(&(_, s)) = error_type.and_then(|t| REQUEST_ERRORS.iter().find(|(k, _)| *k == t)) {
        return Some(s);
    }
    // A model error's list: the job-level types have their own statuses (seed 001's examples),
    // field issues are a 422.
    if let Some(first) = body.get("detail").and_then(Value::as_array).and_then(|d| d.first()) {
        return match first.str_field("type") {
            Some("internal_server_error") => Some(500),
            Some("generation_timeout") => Some(504),
            Some("downstream_service_error") => Some(400),
            Some(_) if first.get("loc").is_some() => Some(422),
            _ => None,
        };
    }
    // A wait named by the server is a rate limit's sign.
    let waits = ["retry-after", "retry-after-ms", "x-ratelimit-reset", "ratelimit-reset"];
    waits.iter().any(|h| header(h).is_some()).then_some(429)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::error::{Category, Kind};

    fn json(s: &str) -> Value {
        let mut de = serde_json::Deserializer::from_str(s);
        Value::from_deserializer(&mut de).unwrap()
    }

    fn check(expected: Expected, headers: &[(&str, &str)], body: &str, job_failed: bool) -> Option<ErrorInfo> {
        let get = |n: &str| headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(n)).map(|(_, v)| v.to_string());
        error_in_success(expected, &get, &json(body), job_failed, 0.0)
    }

    #[test]
    fn real_answers_are_not_errors() {
        assert!(check(Expected::Submit, &[], r#"{"status":"IN_QUEUE","request_id":"r1","queue_position":0}"#, false).is_none());
        assert!(check(Expected::Submit, &[], r#"{"request_id":"r1","response_url":"u"}"#, false).is_none());
        assert!(check(Expected::Status, &[], r#"{"status":"COMPLETED","request_id":"r1","logs":null}"#, false).is_none());
        // Outputs may carry words like these without being errors.
        assert!(check(Expected::Result, &[], r#"{"images":[],"detail":"high","error":null}"#, false).is_none());
        assert!(check(Expected::Result, &[], r#"{"output":"x","message":"hi","code":1}"#, false).is_none());
    }

    #[test]
    fn the_express_handlers_200s_decode_as_the_errors_they_are() {
        // Rows of tests/proxies.test.mjs, as the client saw them behind @fal-ai/server-proxy's Express handler.
        let e = check(Expected::Submit, &[("x-fal-error-type", "bad_request")], r#"{"detail":"Invalid timeout header","error_type":"bad_request"}"#, false)
            .unwrap();
        assert_eq!((e.kind, e.category, e.status, e.retryable), (Kind::Api, Category::BadRequest, Some(400), false));
        assert_eq!(e.message, "Invalid timeout header");
        let e = check(Expected::Submit, &[("retry-after-ms", "100")], r#"{"detail":"Rate limit exceeded"}"#, false).unwrap();
        assert_eq!((e.category, e.status, e.retryable, e.retry_after_ms), (Category::RateLimited, Some(429), true, Some(100.0)));
        let e = check(
            Expected::Submit,
            &[("x-fal-error-type", "runner_scheduling_failure")],
            r#"{"detail":"No runner","error_type":"runner_scheduling_failure"}"#,
            false,
        )
        .unwrap();
        assert_eq!((e.category, e.status, e.retryable), (Category::Unavailable, Some(503), true));
        let e = check(
            Expected::Result,
            &[("x-fal-retryable", "false")],
            r#"{"detail":[{"loc":["body"],"msg":"Internal server error","type":"internal_server_error"}]}"#,
            true,
        )
        .unwrap();
        assert_eq!((e.category, e.status, e.retryable), (Category::Server, Some(500), false));
        let e = check(Expected::Result, &[], r#"{"detail":[{"loc":["body","guidance_scale"],"msg":"Input should be less than or equal to 20","type":"less_than_equal","ctx":{"le":20},"input":25}]}"#, false).unwrap();
        assert_eq!((e.kind, e.status, e.issues.len()), (Kind::Validation, Some(422), 1));
        let e = check(Expected::Status, &[], r#"{"detail":"Request not found"}"#, false).unwrap();
        assert_eq!((e.kind, e.status, e.retryable), (Kind::Api, None, false));
        assert_eq!(e.message, "Request not found");
    }

    #[test]
    fn a_failed_jobs_result_is_its_error_even_without_headers() {
        let e = check(Expected::Result, &[], r#"{"detail":[{"loc":["body"],"msg":"Generation timeout","type":"generation_timeout"}],"request_id":"r"}"#, false)
            .unwrap();
        assert_eq!((e.category, e.status), (Category::Timeout, Some(504)));
        let e = check(Expected::Result, &[], r#"{"error":{"message":"quota"},"images":[]}"#, true).unwrap();
        assert_eq!(e.status, None);
        assert!(check(Expected::Result, &[], r#"{"error":{"message":"quota"},"images":[]}"#, false).is_none(), "not failed: an output");
    }
}
