//! Which upstream URLs the proxy may call with the app's key.
//!
//! The raw header text is checked before the `url` crate sees it, because the parser
//! normalizes away exactly the tricks we want to refuse (IDN, `%2e`, `0x7f.1`, `https:host`).

use axum::http::{Method, StatusCode};
use url::Url;

/// Hosts the key may be sent to; compared exactly, so `api.fal.run` or `fal.run.` never match.
pub const ALLOWED_HOSTS: [&str; 4] = ["queue.fal.run", "fal.run", "rest.fal.ai", "fal.ai"];

const STORAGE_PATHS: [&str; 3] = ["/storage/upload/initiate", "/storage/upload/initiate-multipart", "/storage/upload/complete-multipart"];
const STORAGE_QUERY: &str = "storage_type=fal-cdn-v3";
const TOKENS_PATH: &str = "/tokens/";
const OPENAPI_PATH: &str = "/api/openapi/queue/openapi.json";

/// Machine-readable cause of a refusal; `code()` is what clients see in `reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    MissingTarget,
    BadUrl,
    Scheme,
    Userinfo,
    Port,
    IpLiteral,
    HostNotAllowed,
    EncodedHost,
    PathNotAllowed,
    Traversal,
    Fragment,
    /// The target is a fal endpoint the proxy's `--endpoints` list does not name.
    EndpointNotAllowed,
}

impl Reason {
    pub fn code(self) -> &'static str {
        match self {
            Reason::MissingTarget => "missing_target",
            Reason::BadUrl => "bad_url",
            Reason::Scheme => "scheme",
            Reason::Userinfo => "userinfo",
            Reason::Port => "port",
            Reason::IpLiteral => "ip_literal",
            Reason::HostNotAllowed => "host_not_allowed",
            Reason::EncodedHost => "encoded_host",
            Reason::PathNotAllowed => "path_not_allowed",
            Reason::Traversal => "traversal",
            Reason::Fragment => "fragment",
            Reason::EndpointNotAllowed => "endpoint_not_allowed",
        }
    }

    /// 403 when the URL is well formed but points somewhere we refuse; 400 when it is malformed.
    pub fn status(self) -> StatusCode {
        match self {
            Reason::HostNotAllowed | Reason::PathNotAllowed | Reason::EndpointNotAllowed => StatusCode::FORBIDDEN,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub reason: Reason,
    pub detail: String,
}

fn reject<T>(reason: Reason, detail: impl Into<String>) -> Result<T, Rejection> {
    Err(Rejection { reason, detail: detail.into() })
}

/// Checks the value of `x-fal-target-url`; on success returns the parsed URL to forward to.
pub fn check_target(raw: &str) -> Result<Url, Rejection> {
    if raw.is_empty() {
        return reject(
            Reason::MissingTarget,
            "The x-fal-target-url header is empty; set it to the full upstream URL, e.g. https://queue.fal.run/fal-ai/flux/dev.",
        );
    }
    if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return reject(Reason::BadUrl, "The target URL contains whitespace or control characters; send it percent-encoded.");
    }
    if raw.contains('\\') {
        return reject(Reason::BadUrl, "The target URL contains a backslash, which browsers and servers read differently; use '/' only.");
    }
    let Some(colon) = raw.find(':') else {
        return reject(Reason::BadUrl, "The target URL has no scheme; send an absolute https:// URL.");
    };
    let scheme = &raw[..colon];
    if !is_scheme_syntax(scheme) {
        return reject(Reason::BadUrl, "The target URL has no valid scheme; send an absolute https:// URL.");
    }
    if !scheme.eq_ignore_ascii_case("https") {
        return reject(Reason::Scheme, format!("The target URL uses the '{}' scheme; only https is allowed.", scheme.to_ascii_lowercase()));
    }
    let Some(rest) = raw[colon + 1..].strip_prefix("//") else {
        return reject(Reason::BadUrl, "The target URL must start with 'https://' followed by the host.");
    };
    if raw.contains('#') {
        return reject(Reason::Fragment, "The target URL has a '#' fragment, which is never sent upstream; remove it.");
    }
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path_and_query) = rest.split_at(authority_end);
    if authority.contains('@') {
        return reject(Reason::Userinfo, "The target URL contains credentials or an '@' before the host; remove them (the proxy adds the key itself).");
    }
    if authority.starts_with('[') {
        return reject(Reason::IpLiteral, "The target URL uses an IP address as host; use one of the fal host names.");
    }
    if authority.contains(':') {
        return reject(Reason::Port, "The target URL names an explicit port; remove it (fal hosts use the default https port).");
    }
    if authority.is_empty() {
        return reject(Reason::BadUrl, "The target URL has an empty host.");
    }
    if !authority.is_ascii() || authority.contains('%') {
        return reject(Reason::EncodedHost, "The target host is percent-encoded or non-ASCII; write the host name in plain ASCII.");
    }
    let host = authority.to_ascii_lowercase();
    if !host.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-') {
        return reject(Reason::EncodedHost, "The target host contains characters other than letters, digits, '.' and '-'.");
    }
    if ends_in_number(&host) {
        return reject(Reason::IpLiteral, "The target URL uses an IP address (in some notation) as host; use one of the fal host names.");
    }
    let Some(&allowed) = ALLOWED_HOSTS.iter().find(|h| **h == host) else {
        return reject(Reason::HostNotAllowed, format!("The host '{host}' is not allowed; the proxy only calls {}.", ALLOWED_HOSTS.join(", ")));
    };

    let (raw_path, raw_query) = match path_and_query.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path_and_query, None),
    };
    check_traversal(raw_path)?;

    let url = match Url::parse(raw) {
        Ok(u) => u,
        Err(e) => return reject(Reason::BadUrl, format!("The target URL does not parse: {e}.")),
    };
    if url.host_str() != Some(allowed) || url.port().is_some() || !url.username().is_empty() {
        return reject(Reason::BadUrl, "The target URL parses to a different host than it names; refusing it.");
    }
    check_path(allowed, raw_path, raw_query, &url)?;
    Ok(url)
}

/// Method rules that the URL alone cannot express: token minting is POST only.
pub fn check_method(method: &Method, url: &Url) -> Result<(), Rejection> {
    if url.host_str() == Some("rest.fal.ai") && url.path() == TOKENS_PATH && method != Method::POST {
        return reject(Reason::PathNotAllowed, format!("{TOKENS_PATH} on rest.fal.ai may only be called with POST, not {method}."));
    }
    Ok(())
}

fn is_scheme_syntax(s: &str) -> bool {
    let mut bytes = s.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic()) && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
}

/// WHATWG rule: a host whose last label is numeric (decimal, 0x-hex) is parsed as IPv4,
/// so `2130706433`, `0x7f.1` and `0177.0.0.1` are all loopback addresses.
fn ends_in_number(host: &str) -> bool {
    let trimmed = host.strip_suffix('.').unwrap_or(host);
    let last = trimmed.rsplit('.').next().unwrap_or("");
    if !last.is_empty() && last.bytes().all(|b| b.is_ascii_digit()) {
        return true;
    }
    match last.strip_prefix("0x") {
        Some(hex) => hex.bytes().all(|b| b.is_ascii_hexdigit()),
        None => false,
    }
}

/// Refuses `.`/`..` segments in any spelling, and encoded separators that would
/// let a segment turn into a path change after one more decoding step.
fn check_traversal(raw_path: &str) -> Result<(), Rejection> {
    for segment in raw_path.split('/') {
        let decoded = percent_decode(segment);
        let lower = decoded.to_ascii_lowercase();
        if lower == "." || lower == ".." || lower.contains('/') || lower.contains('\\') || lower.contains('%') {
            return reject(Reason::Traversal, "The target path contains '.'/'..' segments or encoded separators; send a plain path.");
        }
    }
    Ok(())
}

fn check_path(host: &str, raw_path: &str, raw_query: Option<&str>, url: &Url) -> Result<(), Rejection> {
    let segments: Vec<&str> = raw_path.trim_start_matches('/').split('/').collect();
    let trailing_slash = segments.len() > 1 && segments.last() == Some(&"");
    let inner = if trailing_slash { &segments[..segments.len() - 1] } else { &segments[..] };
    let has_empty = inner.iter().any(|s| s.is_empty());
    match host {
        "fal.run" | "queue.fal.run" => {
            if inner.is_empty() || has_empty {
                return reject(
                    Reason::PathNotAllowed,
                    format!("The path '{raw_path}' on {host} must name an endpoint, e.g. /fal-ai/flux/dev, without empty segments."),
                );
            }
            Ok(())
        }
        "rest.fal.ai" => {
            if STORAGE_PATHS.contains(&raw_path) {
                if raw_query == Some(STORAGE_QUERY) {
                    return Ok(());
                }
                return reject(Reason::PathNotAllowed, format!("Storage calls on rest.fal.ai need exactly the query '?{STORAGE_QUERY}'."));
            }
            if raw_path == TOKENS_PATH && raw_query.is_none_or(str::is_empty) {
                return Ok(());
            }
            reject(
                Reason::PathNotAllowed,
                format!("The path '{raw_path}' on rest.fal.ai is not allowed; only {} and {TOKENS_PATH} are.", STORAGE_PATHS.join(", ")),
            )
        }
        "fal.ai" => {
            if raw_path != OPENAPI_PATH {
                return reject(Reason::PathNotAllowed, format!("Only {OPENAPI_PATH} may be called on fal.ai."));
            }
            let pairs: Vec<(String, String)> = url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
            match pairs.as_slice() {
                [(k, v)] if k == "endpoint_id" && is_endpoint_id(v) => Ok(()),
                _ => reject(Reason::PathNotAllowed, "The OpenAPI URL needs exactly one query parameter, endpoint_id=<owner>/<alias>[/<subpath>]."),
            }
        }
        _ => reject(Reason::HostNotAllowed, format!("The host '{host}' is not allowed.")),
    }
}

/// `owner/alias[/subpath...]` made of plain name characters.
pub fn is_endpoint_id(id: &str) -> bool {
    let parts: Vec<&str> = id.split('/').collect();
    parts.len() >= 2
        && parts.iter().all(|p| !p.is_empty() && *p != "." && *p != ".." && p.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')))
}

/// The optional `--endpoints` list: the fal endpoints the key may be spent on. A pattern is an
/// endpoint id (`fal-ai/flux/dev`) where `*` stands for any run of characters (`fal-ai/fast-*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    patterns: Vec<String>,
}

impl Endpoints {
    /// A comma-separated list; blanks around items are ignored.
    pub fn parse(list: &str) -> Result<Endpoints, String> {
        let patterns: Vec<String> = list.split(',').map(str::trim).filter(|p| !p.is_empty()).map(String::from).collect();
        if patterns.is_empty() {
            return Err("the endpoint list is empty; name at least one endpoint, e.g. fal-ai/flux/dev".into());
        }
        for p in &patterns {
            let segments: Vec<&str> = p.split('/').collect();
            let plain = segments.iter().all(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'*')));
            if !plain || (segments.len() < 2 && *p != "*") {
                return Err(format!("'{p}' is not an endpoint id like owner/alias[/path] (letters, digits, '-', '_', '.', and '*' as a wildcard)"));
            }
        }
        Ok(Endpoints { patterns })
    }

    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }

    /// A full endpoint id (`owner/alias[/path]`).
    pub fn allows_endpoint(&self, id: &str) -> bool {
        self.patterns.iter().any(|p| glob(p, id))
    }

    /// An app (`owner/alias`), as queue status, result and cancel URLs name it: allowed when some
    /// pattern's first two segments match it.
    pub fn allows_app(&self, owner_alias: &str) -> bool {
        self.patterns.iter().any(|p| glob(&first_segments(p, 2), owner_alias))
    }

    /// An app alias alone, as realtime token requests name it in `allowed_apps`.
    pub fn allows_alias(&self, alias: &str) -> bool {
        self.patterns.iter().any(|p| {
            let alias_pattern = if p == "*" { "*" } else { p.split('/').nth(1).unwrap_or("") };
            glob(alias_pattern, alias)
        })
    }

    /// Checks a target the host/path rules already accepted; `body` is the request body
    /// (token requests name their apps in it).
    pub fn check(&self, url: &Url, body: &[u8]) -> Result<(), Rejection> {
        let host = url.host_str().unwrap_or("");
        let path = url.path().trim_matches('/');
        let refuse = |what: &str| {
            reject(
                Reason::EndpointNotAllowed,
                format!("{what} is not in this proxy's endpoint list ({}); ask whoever runs the proxy to add it.", self.patterns.join(", ")),
            )
        };
        match host {
            "queue.fal.run" | "fal.run" => {
                let segments: Vec<&str> = path.split('/').collect();
                if segments.len() >= 4 && segments[2] == "requests" {
                    let app = segments[..2].join("/");
                    return if self.allows_app(&app) { Ok(()) } else { refuse(&format!("The app '{app}'")) };
                }
                let streamed = path.strip_suffix("/stream").is_some_and(|id| self.allows_endpoint(id));
                if self.allows_endpoint(path) || streamed {
                    Ok(())
                } else {
                    refuse(&format!("The endpoint '{path}'"))
                }
            }
            "fal.ai" => {
                let id = url.query_pairs().find(|(k, _)| k == "endpoint_id").map(|(_, v)| v.into_owned()).unwrap_or_default();
                if self.allows_endpoint(&id) {
                    Ok(())
                } else {
                    refuse(&format!("The endpoint '{id}'"))
                }
            }
            "rest.fal.ai" if url.path() == TOKENS_PATH => {
                let apps: Option<Vec<String>> = serde_json::from_slice::<serde_json::Value>(body)
                    .ok()
                    .and_then(|v| v.get("allowed_apps").and_then(|a| a.as_array().cloned()))
                    .and_then(|a| a.iter().map(|v| v.as_str().map(String::from)).collect());
                match apps {
                    Some(apps) if !apps.is_empty() => match apps.iter().find(|a| !(self.allows_alias(a) || self.allows_app(a) || self.allows_endpoint(a))) {
                        None => Ok(()),
                        Some(app) => refuse(&format!("The realtime app '{app}'")),
                    },
                    _ => reject(
                        Reason::EndpointNotAllowed,
                        "A token request must name its apps in allowed_apps (a non-empty list of strings) when the proxy has an endpoint list.",
                    ),
                }
            }
            // Storage is not spent on an endpoint: uploads stay open.
            _ => Ok(()),
        }
    }
}

fn first_segments(pattern: &str, n: usize) -> String {
    if pattern == "*" {
        return "*".into();
    }
    pattern.split('/').take(n).collect::<Vec<_>>().join("/")
}

/// `*` matches any run of bytes (also `/`); everything else matches itself.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|b| *b == b'*')
}

/// Decodes `%XX` escapes; malformed escapes stay as they are (and keep their `%`).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(b) = hex {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(raw: &str) -> Option<&'static str> {
        check_target(raw).err().map(|r| r.reason.code())
    }

    #[test]
    fn allows_fal_hosts() {
        for ok in [
            "https://queue.fal.run/fal-ai/flux/dev",
            "https://queue.fal.run/fal-ai/flux/dev?fal_webhook=https%3A%2F%2Fexample.com%2Fhook",
            "https://queue.fal.run/fal-ai/flux/requests/5e7c/status?logs=1",
            "https://QUEUE.FAL.RUN/fal-ai/flux/dev",
            "https://fal.run/fal-ai/fast-sdxl",
            "https://rest.fal.ai/storage/upload/initiate?storage_type=fal-cdn-v3",
            "https://rest.fal.ai/storage/upload/initiate-multipart?storage_type=fal-cdn-v3",
            "https://rest.fal.ai/storage/upload/complete-multipart?storage_type=fal-cdn-v3",
            "https://rest.fal.ai/tokens/",
            "https://fal.ai/api/openapi/queue/openapi.json?endpoint_id=fal-ai/flux/dev",
            "https://fal.ai/api/openapi/queue/openapi.json?endpoint_id=fal-ai%2Fflux%2Fdev",
        ] {
            assert!(check_target(ok).is_ok(), "{ok}: {:?}", check_target(ok));
        }
    }

    #[test]
    fn missing_and_malformed() {
        assert_eq!(reason(""), Some("missing_target"));
        assert_eq!(reason("fal.run/x"), Some("bad_url"));
        assert_eq!(reason("https:fal.run/x"), Some("bad_url"));
        assert_eq!(reason("https:///x"), Some("bad_url"));
        assert_eq!(reason("https://fal.run/a b"), Some("bad_url"));
        assert_eq!(reason("https://fal.run/a\tb"), Some("bad_url"));
        assert_eq!(reason("https://fal.run\\@evil.com/"), Some("bad_url"));
    }

    #[test]
    fn schemes() {
        for s in ["http://fal.run/x", "wss://fal.run/x", "javascript:alert(1)", "data:text/html,hi", "file:///etc/passwd"] {
            assert_eq!(reason(s), Some("scheme"), "{s}");
        }
    }

    #[test]
    fn authority_tricks() {
        assert_eq!(reason("https://fal.run@evil.com/x"), Some("userinfo"));
        assert_eq!(reason("https://user:pw@fal.run/x"), Some("userinfo"));
        assert_eq!(reason("https://fal.run:443/x"), Some("port"));
        assert_eq!(reason("https://fal.run:/x"), Some("port"));
        for ip in ["https://127.0.0.1/x", "https://[::1]/x", "https://2130706433/x", "https://0x7f000001/x", "https://0177.0.0.1/x", "https://0x7f.1/x"] {
            assert_eq!(reason(ip), Some("ip_literal"), "{ip}");
        }
        assert_eq!(reason("https://fal%2Erun/x"), Some("encoded_host"));
        assert_eq!(reason("https://fаl.run/x"), Some("encoded_host"));
        assert_eq!(reason("https://fal_run/x"), Some("encoded_host"));
    }

    #[test]
    fn look_alike_hosts() {
        for h in [
            "https://fal.run.evil.com/x",
            "https://notfal.run/x",
            "https://api.fal.run/x",
            "https://fal.run./x",
            "https://evil.com/x",
            "https://xn--fal-run.com/x",
        ] {
            assert_eq!(reason(h), Some("host_not_allowed"), "{h}");
        }
    }

    #[test]
    fn paths() {
        assert_eq!(reason("https://fal.run/fal-ai/../x"), Some("traversal"));
        assert_eq!(reason("https://fal.run/fal-ai/%2e%2e/x"), Some("traversal"));
        assert_eq!(reason("https://fal.run/fal-ai/.%2E/x"), Some("traversal"));
        assert_eq!(reason("https://fal.run/fal-ai%2fx"), Some("traversal"));
        assert_eq!(reason("https://fal.run/a/./b"), Some("traversal"));
        assert_eq!(reason("https://fal.run/"), Some("path_not_allowed"));
        assert_eq!(reason("https://fal.run"), Some("path_not_allowed"));
        assert_eq!(reason("https://queue.fal.run/a//b"), Some("path_not_allowed"));
        assert_eq!(reason("https://rest.fal.ai/storage/upload/initiate"), Some("path_not_allowed"));
        assert_eq!(reason("https://rest.fal.ai/storage/upload/initiate?storage_type=other"), Some("path_not_allowed"));
        assert_eq!(reason("https://rest.fal.ai/admin"), Some("path_not_allowed"));
        assert_eq!(reason("https://fal.ai/api/other"), Some("path_not_allowed"));
        assert_eq!(reason("https://fal.ai/api/openapi/queue/openapi.json?endpoint_id=x"), Some("path_not_allowed"));
        assert_eq!(reason("https://fal.ai/api/openapi/queue/openapi.json?endpoint_id=a/b&x=1"), Some("path_not_allowed"));
        assert_eq!(reason("https://fal.run/x#frag"), Some("fragment"));
    }

    #[test]
    fn tokens_are_post_only() {
        let url = check_target("https://rest.fal.ai/tokens/").expect("allowed");
        assert!(check_method(&Method::POST, &url).is_ok());
        assert_eq!(check_method(&Method::GET, &url).map_err(|r| r.reason), Err(Reason::PathNotAllowed));
    }

    #[test]
    fn glob_matches_like_a_shell_star() {
        for (p, t, m) in [
            ("fal-ai/fast-*", "fal-ai/fast-sdxl", true),
            ("fal-ai/fast-*", "fal-ai/fast-", true),
            ("fal-ai/fast-*", "fal-ai/flux/dev", false),
            ("fal-ai/*", "fal-ai/flux/dev", true),
            ("*/dev", "fal-ai/flux/dev", true),
            ("fal-ai/flux/dev", "fal-ai/flux/dev/image-to-image", false),
            ("fal-ai/flux/dev", "fal-ai/flux/de", false),
            ("a*b*c", "aXbYbZc", true),
            ("a*b*c", "aXbYbZ", false),
            ("*", "", true),
        ] {
            assert_eq!(glob(p, t), m, "{p} ~ {t}");
        }
    }

    #[test]
    fn endpoint_checks_by_kind_of_target() {
        let e = Endpoints::parse("fal-ai/flux/dev,fal-ai/fast-*").expect("list");
        let ok = |raw: &str, body: &str| e.check(&check_target(raw).expect(raw), body.as_bytes()).is_ok();
        assert!(ok("https://queue.fal.run/fal-ai/flux/dev", ""));
        assert!(ok("https://fal.run/fal-ai/flux/dev/stream", ""));
        assert!(ok("https://queue.fal.run/fal-ai/fast-sdxl?fal_webhook=https%3A%2F%2Fx", ""));
        assert!(!ok("https://queue.fal.run/fal-ai/flux/schnell", ""));
        assert!(!ok("https://queue.fal.run/fal-ai/flux/dev/image-to-image", ""));
        assert!(ok("https://queue.fal.run/fal-ai/flux/requests/abc/status", ""));
        assert!(ok("https://queue.fal.run/fal-ai/fast-sdxl/requests/abc/cancel", ""));
        assert!(!ok("https://queue.fal.run/fal-ai/other/requests/abc", ""));
        assert!(ok("https://fal.ai/api/openapi/queue/openapi.json?endpoint_id=fal-ai%2Fflux%2Fdev", ""));
        assert!(!ok("https://fal.ai/api/openapi/queue/openapi.json?endpoint_id=fal-ai/flux/schnell", ""));
        assert!(ok("https://rest.fal.ai/tokens/", r#"{"allowed_apps":["fast-lcm-diffusion"]}"#));
        assert!(ok("https://rest.fal.ai/tokens/", r#"{"allowed_apps":["fal-ai/fast-lcm-diffusion"]}"#));
        assert!(!ok("https://rest.fal.ai/tokens/", r#"{"allowed_apps":["flux","other"]}"#));
        assert!(!ok("https://rest.fal.ai/tokens/", r#"{"allowed_apps":"flux"}"#));
        assert!(!ok("https://rest.fal.ai/tokens/", "not json"));
        assert!(ok("https://rest.fal.ai/storage/upload/initiate?storage_type=fal-cdn-v3", ""));
        let refused = e.check(&check_target("https://queue.fal.run/x/y").expect("url"), b"").expect_err("refused");
        assert_eq!((refused.reason.code(), refused.reason.status()), ("endpoint_not_allowed", StatusCode::FORBIDDEN));
    }
}
