//! Reading the error envelopes of other generative APIs: where their sentence for people
//! is, and which machine-readable codes they name. Shapes read (see tests/errors/corpus.json):
//!
//! - fal / FastAPI / Replicate: `{detail: "..."}`, Replicate adds `{title, status}`
//! - ElevenLabs: `{detail: {status: "<code>", message}}`
//! - OpenAI / Azure: `{error: {message, type, param, code, innererror?: {code}}}`
//! - Anthropic: `{type: "error", error: {type, message}}`
//! - Google (Gemini, Vertex): `{error: {code, message, status, details: [{reason}]}}`, streaming
//!   endpoints wrap it in an array: `[{error: {...}}]`
//! - Cloudflare: `{success: false, errors: [{code, message}], result: null}`; gateways in front of
//!   other APIs: `{success: false, error: {message, code}}`
//! - Stability: `{name: "<code>", errors: ["..."], id}`; Hugging Face / Runway: `{error: "..."}`
//! - seed 004: `{error: "<title>", message, errors: ["..."]}`

use crate::proto::value::Value;

/// A sentence longer than this (in chars) is cut, with an ellipsis.
pub const MAX_MESSAGE_CHARS: usize = 2000;
/// A plain-text body longer than this (in bytes) is a dump, not a sentence.
const MAX_TEXT_BODY: usize = 2000;
/// Nested envelopes are followed this deep.
const MAX_DEPTH: usize = 3;

/// `[{error: {...}}]` (Google's streaming endpoints): the first object stands for the answer.
pub fn unwrap_list(v: &Value) -> &Value {
    match v.as_array().and_then(|a| a.first()) {
        Some(first @ Value::Obj(_)) => first,
        _ => v,
    }
}

/// The sentence for people in a JSON error body, if it has one.
pub fn message(json: &Value) -> Option<String> {
    message_at(json, 0)
}

fn message_at(v: &Value, depth: usize) -> Option<String> {
    match v {
        Value::Str(s) => text(s),
        Value::Arr(items) if depth < MAX_DEPTH => items.first().and_then(|i| message_at(i, depth + 1)),
        Value::Obj(_) if depth < MAX_DEPTH => {
            // `detail` first (fal, Replicate); `message` before `error`: seed 004 puts a title in
            // `error` and the sentence in `message`.
            for key in ["detail", "message", "msg", "error", "errors", "title"] {
                let found = match v.get(key) {
                    // A `detail` array is a list of field issues, read elsewhere.
                    Some(Value::Arr(_)) if key == "detail" => None,
                    Some(c) => message_at(c, depth + 1),
                    None => None,
                };
                if found.is_some() {
                    return found;
                }
            }
            None
        }
        _ => None,
    }
}

/// A plain-text body as a message: short text only, never markup or broken JSON.
pub fn text_body(t: &str, content_type: Option<&str>, truncated: bool) -> Option<String> {
    let ct = content_type.unwrap_or("");
    // A body the server declared as JSON that did not parse is broken, whatever it looks like.
    if truncated || t.len() > MAX_TEXT_BODY || has(ct, "html") || has(ct, "json") {
        return None;
    }
    text(t)
}

/// Text is text: kept verbatim (trimmed), whatever characters it has. Only an HTML document
/// (a gateway's page) or a JSON fragment is not a sentence.
pub fn text(s: &str) -> Option<String> {
    let t = s.trim();
    if t.is_empty() || is_html_document(t) || looks_like_json(t) {
        return None;
    }
    Some(cut(t))
}

/// By chars, not by slicing: a `str` slice at a computed index brings its panic path (and the
/// Unicode tables it prints with) into the wasm.
fn cut(t: &str) -> String {
    let mut out: String = t.chars().take(MAX_MESSAGE_CHARS).collect();
    if out.len() < t.len() {
        out.push('…');
    }
    out
}

/// `<!DOCTYPE html>`, `<html>`, or a page with a head or body: what gateways and CDNs send.
/// A sentence that merely contains `<` (fal's "Expected '<key_id>:<key_secret>'") is not one.
pub fn is_html_document(t: &str) -> bool {
    ["<!doctype", "<?xml"].iter().any(|p| t.as_bytes().get(..p.len()).is_some_and(|b| b.eq_ignore_ascii_case(p.as_bytes())))
        || ["<html", "<head", "<body", "</html>"].iter().any(|tag| has(t, tag))
}

/// An object or array opener followed by what JSON would put there: a body or field that is
/// (or was cut from) a JSON document. `[Errno 111] Connection refused` is still text.
fn looks_like_json(t: &str) -> bool {
    let mut chars = t.chars();
    let Some(open @ ('{' | '[')) = chars.next() else { return false };
    match chars.find(|c| !c.is_whitespace()) {
        None => true,
        Some(c) => c == '"' || (open == '[' && (c == '{' || c == '[' || c == ']' || c == '-' || c.is_ascii_digit())) || (open == '{' && c == '}'),
    }
}

/// Whether `hay` contains `needle` (lower case), ignoring ASCII case. Bytewise: `str::contains`
/// would bring its searcher and a panic path into the wasm.
pub fn has(hay: &str, needle: &str) -> bool {
    let n = needle.as_bytes();
    n.is_empty() || hay.as_bytes().windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
}

/// The machine-readable codes an envelope names, most specific first (see the module doc).
/// Only identifier-like strings count: `error: "Invalid API key"` is a title, not a code.
pub fn codes<'a>(json: &'a Value) -> Vec<&'a str> {
    let mut out: Vec<&'a str> = Vec::new();
    let err = json.get("error").filter(|e| matches!(e, Value::Obj(_)));
    let mut push = |v: Option<&'a Value>| {
        if let Some(s) = v.and_then(Value::as_str).filter(|s| is_code(s)) {
            out.push(s);
        }
    };
    if let Some(e) = err {
        push(e.get("code"));
        push(e.get("innererror").and_then(|i| i.get("code")));
        for list in ["details", "errors"] {
            for item in e.get(list).and_then(Value::as_array).unwrap_or_default() {
                push(item.get("reason"));
            }
        }
    }
    let detail = json.get("detail");
    push(detail.and_then(|d| d.get("status")));
    push(detail.and_then(|d| d.get("code")));
    push(json.get("code"));
    push(json.get("name"));
    for item in json.get("errors").and_then(Value::as_array).unwrap_or_default() {
        push(item.get("code"));
    }
    if let Some(e) = err {
        push(e.get("type"));
        push(e.get("status"));
    }
    // Anthropic's top-level `type` is always "error": no information.
    push(json.get("type").filter(|t| t.as_str() != Some("error")));
    out
}

fn is_code(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'))
}

/// Hugging Face's `estimated_time` (seconds until a loading model is up) as a wait in ms.
pub fn estimated_wait_ms(json: &Value) -> Option<f64> {
    json.get("estimated_time").and_then(Value::as_f64).filter(|s| s.is_finite() && *s >= 0.0).map(|s| s * 1000.0)
}
