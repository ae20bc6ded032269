//! From status + headers + body (or a thrown fetch error) to [`ErrorInfo`].
//! Total: every input gives an answer, nothing panics (fuzzed in fuzz/).

use super::classify;
use super::envelope;
use super::issues::{read_issue, read_message_issue, FieldIssue};
use super::{Category, ErrorInfo, Kind};
use crate::proto::retry::Call;
use crate::proto::value::Value;
use crate::proto::when::retry_after_ms;

/// An error body as read (bounded) from the wire.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    Json(Value),
    Text(String),
    Empty,
}

/// Header lookup by lower-case name.
pub type Headers<'a> = &'a dyn Fn(&str) -> Option<String>;

/// `call` is the request that failed, when known: it matters for what a 500 means.
pub fn decode_http(status: u16, header: Headers, body: &Body, truncated: bool, call: Option<Call>, now_ms: f64) -> ErrorInfo {
    decode(Some(status), header, body, truncated, call, now_ms)
}

/// [`decode_http`] for an error whose status is not known (see `flattened`): the body and
/// headers decide alone, and the message names no status.
pub(super) fn decode(status: Option<u16>, header: Headers, body: &Body, truncated: bool, call: Option<Call>, now_ms: f64) -> ErrorInfo {
    let json = match body {
        Body::Json(v) => Some(envelope::unwrap_list(v)),
        _ => None,
    };
    let issues = issues_of(json);
    let fal_type = header("x-fal-error-type")
        .filter(|t| !t.trim().is_empty())
        .or_else(|| json.and_then(|j| j.str_field("error_type")).map(String::from))
        .or_else(|| json.and_then(|j| j.get("detail")).and_then(Value::as_array).and_then(|_| issues.first()).map(|i| i.kind.clone()));
    // Input issues: any issue about a field, or about the whole body with a known type
    // (`dict_type` at ["body"]); not a model's job-level error, which also points at ["body"].
    let is_validation = issues.iter().any(|i| !classify::is_job_level(&i.kind) && i.kind != "unknown" && !i.loc.is_empty());
    let kind = if is_validation { Kind::Validation } else { Kind::Api };
    let by_status = classify::status(status.unwrap_or(0), call);
    let by_fal = fal_type.as_deref().and_then(classify::error_type);
    // Other APIs' codes count only where fal named no type of its own.
    let codes = json.map(envelope::codes).unwrap_or_default();
    let foreign = if by_fal.is_none() { codes.iter().find_map(|c| classify::foreign(c).map(|r| (*c, r))) } else { None };
    let by_type = by_fal.or(foreign.map(|f| f.1));
    let found = message(json, body, &issues, is_validation, header("content-type").as_deref(), truncated);
    let mut category = match (by_type, is_validation) {
        (Some((c, _)), _) => c,
        (None, true) => Category::Validation,
        (None, false) => by_status.0,
    };
    // A safety filter's sentence on a 4xx that no code explained more precisely.
    let worded_policy = status.is_none_or(|s| (400..500).contains(&s))
        && matches!(category, Category::BadRequest | Category::Forbidden | Category::Unknown)
        && found.as_deref().is_some_and(classify::policy_wording);
    if worded_policy {
        category = Category::ContentPolicy;
    }
    let timeout_type = header("x-fal-request-timeout-type");
    // Authority: the server's X-Fal-Retryable, then a user timeout, then the codes, then the status.
    let retryable = match header("x-fal-retryable").map(|v| v.trim().to_ascii_lowercase()).as_deref() {
        Some("true") => true,
        Some("false") => false,
        // The caller's own request (or start) timeout expired: the same request would expire again.
        _ if timeout_type.as_deref().is_some_and(|t| t.trim().eq_ignore_ascii_case("user")) => false,
        _ if worded_policy => false,
        _ => by_type.map_or(by_status.1, |t| t.1),
    };
    let message = found.unwrap_or_else(|| classify::default_message(category, status));
    let docs_url = issues.iter().find_map(|i| i.url.clone()).or_else(|| {
        let t = fal_type.as_deref()?;
        matches!(classify::error_type(t), Some((Category::Validation | Category::ContentPolicy, _)))
            .then(|| format!("https://docs.fal.ai/errors/#{t}"))
            .or_else(|| classify::is_job_level(t).then(|| format!("https://docs.fal.ai/errors/#{t}")))
    });
    let error_type = fal_type.or_else(|| foreign.map(|f| f.0).or(codes.first().copied()).map(String::from));
    ErrorInfo {
        kind,
        category,
        status,
        retryable,
        retry_after_ms: retry_after_ms(header, json, now_ms).or_else(|| json.and_then(envelope::estimated_wait_ms)),
        request_id: header("x-fal-request-id").or_else(|| json.and_then(|j| j.str_field("request_id")).map(String::from)),
        error_type,
        message,
        docs_url,
        issues,
        timeout_type,
        truncated,
        source: Some(super::Source::Server),
    }
}

fn issues_of(json: Option<&Value>) -> Vec<FieldIssue> {
    let Some(j) = json else { return Vec::new() };
    if let Some(items) = j.get("detail").and_then(Value::as_array) {
        return items.iter().map(read_issue).collect();
    }
    // Other APIs' lists: `errors: ["Missing required field: prompt", ...]` (seed 004, Stability)
    // or `errors: [{code, message}]` (Cloudflare).
    j.get("errors")
        .and_then(Value::as_array)
        .map(|e| e.iter().filter_map(|item| item.as_str().or_else(|| item.str_field("message"))).map(read_message_issue).collect())
        .unwrap_or_default()
}

/// The sentence to show: what the server wrote for people, when it wrote one.
fn message(json: Option<&Value>, body: &Body, issues: &[FieldIssue], is_validation: bool, content_type: Option<&str>, truncated: bool) -> Option<String> {
    let first_issue = || {
        let shown: Vec<&FieldIssue> = issues.iter().filter(|i| !is_validation || !i.field.is_empty()).collect();
        let first = shown.first().copied().or(issues.first())?;
        let msg = envelope::text(&first.msg)?;
        Some(match shown.len() {
            0 | 1 => msg,
            n => format!("{msg} (and {} more)", n - 1),
        })
    };
    let from_json = || json.and_then(envelope::message);
    let from_text = || match body {
        Body::Text(t) => envelope::text_body(t, content_type, truncated),
        _ => None,
    };
    (if is_validation { first_issue().or_else(from_json) } else { from_json().or_else(first_issue) }).or_else(from_text)
}

/// A rejected fetch, by its `name` and `message` as each browser words them.
pub fn decode_thrown(name: &str, message: &str) -> ErrorInfo {
    let lower = message.to_ascii_lowercase();
    const NETWORK: [&str; 8] = [
        "failed to fetch",                                // Chromium
        "load failed",                                    // Safari
        "networkerror when attempting to fetch resource", // Firefox
        "network error",
        "fetch failed", // Node's undici
        "network request failed",
        "the network connection was lost",
        "the internet connection appears to be offline",
    ];
    let mut e = match name {
        "AbortError" => ErrorInfo::local(Kind::Aborted, Category::Aborted, "The request was cancelled."),
        "TimeoutError" => ErrorInfo::local(Kind::Timeout, Category::Timeout, "The request took too long."),
        // Bytewise: `str::contains` would bring its searcher and a panic path into the wasm.
        _ if NETWORK.iter().any(|n| lower.as_bytes().windows(n.len()).any(|w| w == n.as_bytes())) => {
            ErrorInfo::local(Kind::Network, Category::Network, classify::default_message(Category::Network, None))
        }
        _ => ErrorInfo::local(Kind::Network, Category::Unknown, classify::default_message(Category::Unknown, None)),
    };
    e.retryable = matches!(e.category, Category::Network | Category::Timeout);
    e
}
