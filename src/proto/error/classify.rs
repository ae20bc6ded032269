//! The tables: what each fal error type and each HTTP status means for a UI and
//! for retrying. Written from seeds 001 and 002; change them there first.

use super::Category;
use crate::proto::retry::Call;

/// Seed 002's request errors and seed 001's model errors: (category, retryable when the
/// server didn't say). Unknown types: None, and the status decides.
pub fn error_type(t: &str) -> Option<(Category, bool)> {
    use Category::*;
    Some(match t {
        // Seed 002: runner and timeout errors are transient, client errors are not.
        "request_timeout" | "startup_timeout" => (Timeout, true),
        "runner_connection_timeout" => (Timeout, true),
        "runner_scheduling_failure" | "runner_disconnected" | "runner_connection_refused" | "runner_connection_error"
        | "runner_incomplete_response" => (Unavailable, true),
        "runner_server_error" => (Server, false),
        "internal_error" => (Server, true),
        "client_disconnected" | "client_cancelled" => (Cancelled, false),
        "bad_request" => (BadRequest, false),
        // Seed 001: "can be true or false" ones default to false; the job itself failed.
        "internal_server_error" => (Server, false),
        "generation_timeout" => (Timeout, false),
        "downstream_service_error" => (Unavailable, false),
        "content_policy_violation" => (ContentPolicy, false),
        "image_too_small" | "image_too_large" | "image_load_error" | "file_download_error" | "face_detection_error"
        | "file_too_large" | "greater_than" | "greater_than_equal" | "less_than" | "less_than_equal" | "multiple_of"
        | "sequence_too_short" | "sequence_too_long" | "one_of" | "feature_not_supported" | "invalid_archive"
        | "archive_file_count_below_minimum" | "archive_file_count_exceeds_maximum" | "missing" => (Validation, false),
        // Our proxy refusing a target is a setup mistake of the app.
        "proxy_target_rejected" => (Config, false),
        "proxy_upstream_error" => (Unavailable, true),
        _ => return None,
    })
}

/// Model errors whose `loc` is just `["body"]`: about the whole job, not a field.
pub fn is_job_level(t: &str) -> bool {
    matches!(t, "internal_server_error" | "generation_timeout" | "downstream_service_error")
}

pub fn status(status: u16, call: Option<Call>) -> (Category, bool) {
    use Category::*;
    match status {
        400 | 405 | 409 | 411 | 413 | 414 | 415 => (BadRequest, false),
        401 => (Auth, false),
        403 => (Forbidden, false),
        404 | 410 => (NotFound, false),
        408 => (Timeout, true),
        422 => (Validation, false),
        429 => (RateLimited, true),
        499 => (Cancelled, false),
        // From the result endpoint a 500 is the job's own failure: it will not change.
        500 => (Server, call != Some(Call::Result)),
        502 | 503 => (Unavailable, true),
        504 | 522 | 524 => (Timeout, true),
        501 | 505..=599 => (Server, false),
        400..=499 => (BadRequest, false),
        _ => (Unknown, false),
    }
}

/// What to tell a person when the server gave nothing usable (HTML, empty, garbage).
pub fn default_message(c: Category, status: Option<u16>) -> String {
    let s = match c {
        Category::Validation => "Some inputs are not valid.",
        Category::ContentPolicy => "The content was flagged by a safety checker. Try a different prompt or image.",
        Category::Auth => "The server could not authenticate the request. Check the proxy's API key.",
        Category::Forbidden => "This request is not allowed.",
        Category::NotFound => "The model or request was not found.",
        Category::RateLimited => "Too many requests right now. Please wait a moment and try again.",
        Category::Timeout => "The request took too long.",
        Category::Unavailable => "The service is temporarily unavailable. Please try again shortly.",
        Category::Server => "The server failed to process the request.",
        Category::Network => "The network connection failed. Check your connection and try again.",
        Category::Aborted => "The request was cancelled.",
        Category::Cancelled => "The request was cancelled.",
        Category::CircuitOpen => "The service is failing repeatedly; requests are paused for a moment.",
        Category::BadRequest => "The request was not accepted.",
        Category::Config => "genwire is not set up correctly for this request.",
        Category::Unknown => "Something went wrong.",
    };
    match status {
        Some(code) => format!("{s} (HTTP {code})"),
        None => s.into(),
    }
}
