//! The tables: what each fal error type and each HTTP status means for a UI and
//! for retrying. Written from seeds 001 and 002; change them there first.

use super::Category;
use crate::proto::retry::Call;

/// Seed 002's request errors and seed 001's model errors: (category, retryable when the
/// server didn't say). Unknown types: None, and the status decides.
pub fn error_type(t: &str) -> Option<(Category, bool)> {
    use Category::*;
    // Tables, not a `match`: smaller in the wasm.
    // Seed 001's input errors, and later additions of fal's error page.
    const INPUT: [&str; 26] = [
        "image_too_small",
        "image_too_large",
        "image_load_error",
        "file_download_error",
        "face_detection_error",
        "file_too_large",
        "greater_than",
        "greater_than_equal",
        "less_than",
        "less_than_equal",
        "multiple_of",
        "sequence_too_short",
        "sequence_too_long",
        "one_of",
        "feature_not_supported",
        "invalid_archive",
        "archive_file_count_below_minimum",
        "archive_file_count_exceeds_maximum",
        "missing",
        "audio_duration_too_long",
        "audio_duration_too_short",
        "video_duration_too_long",
        "video_duration_too_short",
        "unsupported_audio_format",
        "unsupported_image_format",
        "unsupported_video_format",
    ];
    const OTHERS: [(&str, Category, bool); 23] = [
        // Seed 002: runner and timeout errors are transient, client errors are not.
        ("request_timeout", Timeout, true),
        ("startup_timeout", Timeout, true),
        ("runner_connection_timeout", Timeout, true),
        ("runner_scheduling_failure", Unavailable, true),
        ("runner_disconnected", Unavailable, true),
        ("runner_connection_refused", Unavailable, true),
        ("runner_connection_error", Unavailable, true),
        ("runner_incomplete_response", Unavailable, true),
        ("runner_server_error", Server, false),
        ("internal_error", Server, true),
        ("client_disconnected", Cancelled, false),
        ("client_cancelled", Cancelled, false),
        ("bad_request", BadRequest, false),
        // Seed 001: "can be true or false" ones default to false; the job itself failed.
        ("internal_server_error", Server, false),
        ("generation_timeout", Timeout, false),
        ("downstream_service_error", Unavailable, false),
        ("content_policy_violation", ContentPolicy, false),
        // fal's error page, later additions: a partner being down is like a downstream error;
        // a run that produced no media would produce none again.
        ("downstream_service_unavailable", Unavailable, false),
        ("no_media_generated", Server, false),
        // Our proxy refusing a target (or this page's origin) is a setup mistake of the app.
        ("proxy_target_rejected", Config, false),
        ("proxy_caller_rejected", Config, false),
        ("proxy_upstream_error", Unavailable, true),
        // The upstream answered with a redirect, which the proxy does not follow: it will again.
        ("proxy_upstream_redirect", Server, false),
    ];
    if INPUT.contains(&t) {
        return Some((Validation, false));
    }
    OTHERS.iter().find(|e| e.0 == t).map(|&(_, c, r)| (c, r))
}

/// Model errors whose `loc` is just `["body"]`: about the whole job, not a field.
pub fn is_job_level(t: &str) -> bool {
    matches!(t, "internal_server_error" | "generation_timeout" | "downstream_service_error" | "downstream_service_unavailable" | "no_media_generated")
}

/// Codes other generative APIs put in their envelopes (compared case-insensitively), where
/// they say more than the status: each is named in a body of tests/errors/corpus.json.
/// Generic ones (`invalid_request_error`, `INVALID_ARGUMENT`, `api_error`) are left to the status.
pub fn foreign(code: &str) -> Option<(Category, bool)> {
    use Category::*;
    // A table, not a `match`: smaller in the wasm.
    const CODES: [(&str, Category, bool); 23] = [
        // OpenAI images (`content_policy_violation`, gpt-image `moderation_blocked`), Azure OpenAI
        // (`content_filter`, inner `ResponsibleAIPolicyViolation`; DALL-E 3 `contentFilter`),
        // Stability (`name: content_moderation`).
        ("content_policy_violation", ContentPolicy, false),
        ("moderation_blocked", ContentPolicy, false),
        ("content_filter", ContentPolicy, false),
        ("contentfilter", ContentPolicy, false),
        ("responsibleaipolicyviolation", ContentPolicy, false),
        ("content_moderation", ContentPolicy, false),
        // OpenAI `invalid_api_key`, Anthropic `authentication_error`, Google `UNAUTHENTICATED` and
        // reason `API_KEY_INVALID` (sent with a 400).
        ("invalid_api_key", Auth, false),
        ("authentication_error", Auth, false),
        ("unauthenticated", Auth, false),
        ("api_key_invalid", Auth, false),
        // The account may not, or has nothing left to pay with: waiting does not help.
        // Anthropic `permission_error`/`billing_error`, Google `PERMISSION_DENIED`, OpenAI
        // `insufficient_quota` (sent with a 429), ElevenLabs `quota_exceeded` (sent with a 401).
        ("permission_error", Forbidden, false),
        ("permission_denied", Forbidden, false),
        ("billing_error", Forbidden, false),
        ("insufficient_quota", Forbidden, false),
        ("quota_exceeded", Forbidden, false),
        // Anthropic `rate_limit_error`, OpenAI `rate_limit_exceeded`, Google `RESOURCE_EXHAUSTED`
        // and reason `rateLimitExceeded`.
        ("rate_limit_error", RateLimited, true),
        ("rate_limit_exceeded", RateLimited, true),
        ("resource_exhausted", RateLimited, true),
        ("ratelimitexceeded", RateLimited, true),
        // Anthropic `overloaded_error` (529), Google `UNAVAILABLE`, OpenAI behind Cloudflare `cf_bad_gateway`.
        ("overloaded_error", Unavailable, true),
        ("unavailable", Unavailable, true),
        ("cf_bad_gateway", Unavailable, true),
        // Google `DEADLINE_EXCEEDED`.
        ("deadline_exceeded", Timeout, true),
    ];
    CODES.iter().find(|(c, _, _)| c.eq_ignore_ascii_case(code)).map(|&(_, category, retry)| (category, retry))
}

/// Safety-filter wording, for 4xx answers whose codes say nothing more specific (OpenAI's
/// image safety system sends `code: null`). Phrases as the APIs word them, lower case.
pub fn policy_wording(message: &str) -> bool {
    const PHRASES: [&str; 8] = [
        "safety system",             // OpenAI: "rejected as a result of our safety system"
        "content management policy", // Azure OpenAI
        "content moderation",        // Stability, gateways
        "content checker",           // fal
        "safety filter",             // "activated the API's safety filters"
        "content policy",            // Azure: "may violate our content policy"
        "nsfw content",              // diffusers' safety checker: "NSFW content detected"
        "responsible ai practices",  // Vertex Imagen
    ];
    PHRASES.iter().any(|p| super::envelope::has(message, p))
}

pub fn status(status: u16, call: Option<Call>) -> (Category, bool) {
    use Category::*;
    match status {
        400 | 405 | 409 | 411 | 413 | 414 | 415 => (BadRequest, false),
        // Payment required (Replicate, BFL): the account has no credit.
        402 => (Forbidden, false),
        401 => (Auth, false),
        403 => (Forbidden, false),
        404 | 410 => (NotFound, false),
        408 => (Timeout, true),
        422 => (Validation, false),
        429 => (RateLimited, true),
        499 => (Cancelled, false),
        // From the result endpoint a 500 is the job's own failure: it will not change.
        500 => (Server, call != Some(Call::Result)),
        // 520, 521, 523: Cloudflare could not get an answer from the origin; 529: Anthropic overloaded.
        502 | 503 | 520 | 521 | 523 | 529 => (Unavailable, true),
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
