//! Named error answers, one per example of the error documents the client must decode
//! (fal model errors, fal request errors, another API's format), plus gateway failures
//! and rate limits. Faults serve them with `{"example": "<name>"}`; `GET /__sim/examples`
//! lists them.
//!
//! The data is `catalog.json`. JSON bodies are served minified with their keys in the
//! file's order (the seeds' order), so the bytes are stable. Header values and bodies may
//! hold `{{now+<n>s:<iso|http|epoch>}}`, filled in when the example is served.

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};

use super::{civil_from_days, iso8601};

const CATALOG_JSON: &str = include_str!("catalog.json");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    name: String,
    source: String,
    status: u16,
    headers: BTreeMap<String, String>,
    body_kind: String,
    #[serde(borrow)]
    body: Option<&'static RawValue>,
    /// A body too big for the file: `text` repeated up to exactly `bytes` bytes.
    repeat: Option<Repeat>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Repeat {
    text: String,
    bytes: usize,
}

#[derive(Debug)]
pub struct Example {
    pub name: String,
    pub source: String,
    pub status: u16,
    /// Lowercase names; values may hold time placeholders.
    pub headers: Vec<(String, String)>,
    /// `json`, `text`, `html`, `empty` or `truncated`.
    pub body_kind: String,
    /// Served bytes; may hold time placeholders when `templated`.
    body: Bytes,
    templated: bool,
    /// Only for generated bodies, which the listing does not repeat in full.
    preview: Option<String>,
}

pub struct Catalog {
    pub examples: Vec<Example>,
}

/// The catalog, parsed once. Its shape is checked by the tests, so a bad file fails them.
pub fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| load(CATALOG_JSON).unwrap_or_else(|e| panic!("src/sim/catalog.json is invalid: {e}")))
}

pub fn get(name: &str) -> Option<&'static Example> {
    catalog().examples.iter().find(|e| e.name == name)
}

fn load(text: &'static str) -> Result<Catalog, String> {
    let entries: Vec<Entry> = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let mut examples = Vec::with_capacity(entries.len());
    for e in entries {
        let kind = e.body_kind.as_str();
        let (body, preview) = match (kind, e.body, &e.repeat) {
            ("empty", None, None) => (String::new(), None),
            ("json", Some(raw), None) => (minify(raw.get()), None),
            ("text" | "html" | "truncated", Some(raw), None) => {
                (serde_json::from_str::<String>(raw.get()).map_err(|_| format!("{}: body must be a string", e.name))?, None)
            }
            ("text", None, Some(r)) if !r.text.is_empty() => {
                let body: String = r.text.chars().cycle().take(r.bytes).collect();
                if body.len() != r.bytes {
                    return Err(format!("{}: repeat.text must be ASCII", e.name));
                }
                (body, Some(r.text.clone()))
            }
            _ => return Err(format!("{}: body_kind {kind} does not fit its body", e.name)),
        };
        if examples.iter().any(|x: &Example| x.name == e.name) {
            return Err(format!("{}: duplicate name", e.name));
        }
        StatusCode::from_u16(e.status).map_err(|_| format!("{}: bad status", e.name))?;
        let headers: Vec<(String, String)> = e.headers.into_iter().map(|(k, v)| (k.to_ascii_lowercase(), v)).collect();
        let templated = body.contains("{{") || headers.iter().any(|(_, v)| v.contains("{{"));
        let example =
            Example { name: e.name, source: e.source, status: e.status, headers, body_kind: e.body_kind, body: Bytes::from(body), templated, preview };
        // Every placeholder must render and every header must be sendable.
        let (headers, _) = example.render(SystemTime::now())?;
        for (k, v) in &headers {
            if HeaderName::try_from(k.as_str()).is_err() || HeaderValue::try_from(v.as_str()).is_err() {
                return Err(format!("{}: header {k} cannot be sent", example.name));
            }
        }
        examples.push(example);
    }
    Ok(Catalog { examples })
}

/// Drops the whitespace between JSON tokens, keeping strings and numbers as written.
fn minify(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in raw.chars() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else if !c.is_ascii_whitespace() {
            in_string = c == '"';
            out.push(c);
        }
    }
    out
}

impl Example {
    /// Headers and body as they are served at `now`.
    pub fn render(&self, now: SystemTime) -> Result<(Vec<(String, String)>, Bytes), String> {
        if !self.templated {
            return Ok((self.headers.clone(), self.body.clone()));
        }
        let headers = self.headers.iter().map(|(k, v)| fill(v, now).map(|v| (k.clone(), v))).collect::<Result<Vec<_>, _>>()?;
        let body = fill(std::str::from_utf8(&self.body).map_err(|e| e.to_string())?, now)?;
        Ok((headers, Bytes::from(body)))
    }

    /// The upstream answer; `request_id` becomes `x-fal-request-id`.
    pub fn response(&self, request_id: &str) -> Response {
        let (headers, body) = self.render(SystemTime::now()).unwrap_or_else(|_| (self.headers.clone(), self.body.clone()));
        let mut resp = Response::new(if body.is_empty() { Body::empty() } else { Body::from(body) });
        *resp.status_mut() = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let map = resp.headers_mut();
        for (k, v) in &headers {
            if let (Ok(n), Ok(v)) = (HeaderName::try_from(k.as_str()), HeaderValue::try_from(v.as_str())) {
                map.insert(n, v);
            }
        }
        if let Ok(v) = HeaderValue::from_str(request_id) {
            map.insert("x-fal-request-id", v);
        }
        resp
    }

    /// The body as JSON if it is JSON (for status answers that summarise a failure).
    pub fn body_json(&self) -> Option<Value> {
        let (_, body) = self.render(SystemTime::now()).ok()?;
        serde_json::from_slice(&body).ok()
    }

    /// One item of `GET /__sim/examples`, with time-dependent values as served now.
    pub fn describe(&self, now: SystemTime) -> Value {
        let (headers, body) = self.render(now).unwrap_or_else(|_| (self.headers.clone(), self.body.clone()));
        let headers: serde_json::Map<String, Value> = headers.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
        let text = String::from_utf8_lossy(&body).into_owned();
        let mut v = json!({
            "name": self.name,
            "source": self.source,
            "status": self.status,
            "headers": headers,
            "body_kind": self.body_kind,
            "body_bytes": body.len(),
        });
        if let Some(preview) = &self.preview {
            // A generated body of several MiB is described, not repeated.
            v["body"] = Value::Null;
            v["body_text"] = Value::Null;
            v["body_preview"] = json!(preview);
        } else {
            v["body"] = match self.body_kind.as_str() {
                "empty" => Value::Null,
                "json" => serde_json::from_str(&text).unwrap_or(Value::Null),
                _ => Value::String(text.clone()),
            };
            v["body_text"] = Value::String(text);
        }
        v
    }
}

/// Replaces every `{{now+<n>s:<fmt>}}` in `s`.
fn fill(s: &str, now: SystemTime) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or_else(|| format!("unclosed placeholder in {s:?}"))?;
        out.push_str(&placeholder(&after[..end], now)?);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

fn placeholder(p: &str, now: SystemTime) -> Result<String, String> {
    let bad = || format!("bad placeholder {{{{{p}}}}}: expected now+<n>s:<iso|http|epoch>");
    let (offset, fmt) = p.strip_prefix("now+").and_then(|r| r.split_once(':')).ok_or_else(bad)?;
    let secs: u64 = offset.strip_suffix('s').and_then(|n| n.parse().ok()).ok_or_else(bad)?;
    let at = now + Duration::from_secs(secs);
    // Whole-second formats round up, so the instant named is never sooner than promised.
    let ceil_secs = || {
        let d = at.duration_since(UNIX_EPOCH).unwrap_or_default();
        d.as_secs() + u64::from(d.subsec_nanos() > 0)
    };
    match fmt {
        "iso" => Ok(iso8601(at)),
        "http" => Ok(http_date(ceil_secs())),
        "epoch" => Ok(ceil_secs().to_string()),
        _ => Err(bad()),
    }
}

/// An IMF-fixdate (RFC 9110), e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
pub(crate) fn http_date(epoch_secs: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let days = (epoch_secs / 86_400) as i64;
    let secs = epoch_secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{}, {day:02} {} {year:04} {:02}:{:02}:{:02} GMT",
        DAYS[days.rem_euclid(7) as usize],
        MONTHS[(month - 1) as usize],
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_loads_and_renders() {
        let c = catalog();
        assert_eq!(c.examples.len(), 57);
        for e in &c.examples {
            let (headers, body) = e.render(SystemTime::now()).expect("renders");
            assert!(!String::from_utf8_lossy(&body).contains("{{") && headers.iter().all(|(_, v)| !v.contains("{{")), "{}", e.name);
            if e.body_kind == "json" {
                serde_json::from_slice::<Value>(&body).unwrap_or_else(|err| panic!("{}: {err}", e.name));
            }
        }
        assert_eq!(get("gateway/huge_500").map(|e| e.body.len()), Some(3 * 1024 * 1024));
    }

    #[test]
    fn minify_keeps_strings_and_order() {
        assert_eq!(minify("{ \"b\": [1.0, \"a b\\\" c\"],\n \"a\": -0.5 }"), "{\"b\":[1.0,\"a b\\\" c\"],\"a\":-0.5}");
    }

    #[test]
    fn time_placeholders() {
        let now = UNIX_EPOCH + Duration::from_millis(784_111_777_250);
        assert_eq!(http_date(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(fill("{{now+3s:http}}", now).expect("http"), "Sun, 06 Nov 1994 08:49:41 GMT");
        assert_eq!(fill("a {{now+2s:epoch}} b", now).expect("epoch"), "a 784111780 b");
        assert_eq!(fill("{{now+3s:iso}}", now).expect("iso"), "1994-11-06T08:49:40.250Z");
        assert!(fill("{{later}}", now).is_err());
    }
}
