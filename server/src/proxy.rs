//! `/api/fal/proxy`: forwards a browser's call to the fal host named in `x-fal-target-url`,
//! adding the key, which never travels back to the browser.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::Response;
use axum::routing::any;
use axum::Router;
use futures_util::{Stream, StreamExt};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::json;
use tower::ServiceExt;

use crate::allowlist::{check_method, check_target, Endpoints, Reason, Rejection};
use crate::json::json as json_resp;
use crate::sim::PublicBase;

pub const TARGET_HEADER: &str = "x-fal-target-url";
const CLIENT_PROXY: &str = "genwire-server/0.1";

/// Response headers never passed back: hop-by-hop ones, lengths and encodings that
/// no longer hold once the body is re-streamed, cookies and anything carrying credentials.
const STRIPPED_RESPONSE_HEADERS: [&str; 12] = [
    "content-length",
    "content-encoding",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "upgrade",
    "set-cookie",
];

pub enum Upstream {
    /// fal itself; `base` (tests only) replaces `https://<host>` of every target.
    Real { client: reqwest::Client, key: String, base: Option<String> },
    /// The simulator's Router, called as a tower Service with the absolute target URL.
    Simulated { router: Router, key: String },
}

impl Upstream {
    pub fn real(key: String) -> Upstream {
        Upstream::real_at(key, None)
    }

    /// A real upstream reached at `base` instead of the fal hosts: for tests with a local fake fal.
    pub fn real_at(key: String, base: Option<String>) -> Upstream {
        // No redirects: following one could carry the key to a host the allowlist never saw.
        let client =
            reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).connect_timeout(Duration::from_secs(10)).build().unwrap_or_default();
        Upstream::Real { client, key, base }
    }

    fn key(&self) -> &str {
        match self {
            Upstream::Real { key, .. } | Upstream::Simulated { key, .. } => key,
        }
    }
}

pub struct ProxyState {
    pub upstream: Upstream,
    pub body_limit: usize,
    /// The whole request body must arrive within this time (408 otherwise).
    pub body_timeout: Duration,
    /// `--endpoints`: when set, only these fal endpoints may be called.
    pub endpoints: Option<Endpoints>,
    /// `--same-origin` / `--allowed-origins`: when set, who may use the proxy.
    pub callers: Option<Callers>,
}

/// The methods the fal contract uses: GET (status, result, schemas), POST (submit, run, tokens,
/// storage), PUT (cancel). Anything else is refused before it reaches the upstream.
const METHODS: [Method; 3] = [Method::GET, Method::POST, Method::PUT];

/// Who may use the proxy: the page's own origin (`self`) and/or listed origins.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Callers {
    pub same_origin: bool,
    /// `scheme://host[:port]`, lower case, no trailing slash.
    pub origins: Vec<String>,
}

impl Callers {
    /// `--allowed-origins` items: `self` or an origin like `https://app.example.com`.
    pub fn parse(list: &str, same_origin: bool) -> Result<Callers, String> {
        let mut callers = Callers { same_origin, origins: Vec::new() };
        for item in list.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            if item.eq_ignore_ascii_case("self") {
                callers.same_origin = true;
                continue;
            }
            let origin = item.trim_end_matches('/').to_ascii_lowercase();
            let ok = url::Url::parse(&origin).ok().is_some_and(|u| {
                matches!(u.scheme(), "http" | "https")
                    && u.host_str().is_some()
                    && u.path() == "/"
                    && u.query().is_none()
                    && u.username().is_empty()
                    && u.password().is_none()
            });
            if !ok || origin.ends_with(':') {
                return Err(format!("'{item}' is not an origin like https://app.example.com (or 'self')"));
            }
            callers.origins.push(origin);
        }
        Ok(callers)
    }

    /// A browser names the caller: `Sec-Fetch-Site` (every current browser) and `Origin` (on
    /// every cross-origin request and same-origin POST/PUT). A request with neither is not from
    /// a page, and is refused.
    pub fn check(&self, headers: &HeaderMap) -> Result<(), String> {
        let get = |n: HeaderName| headers.get(n).and_then(|v| v.to_str().ok()).map(|v| v.trim().to_ascii_lowercase());
        let site = get(HeaderName::from_static("sec-fetch-site"));
        let origin = get(header::ORIGIN).filter(|o| o != "null");
        if self.same_origin && site.as_deref() == Some("same-origin") {
            return Ok(());
        }
        let Some(origin) = origin else {
            return Err(match site {
                Some(s) => format!("This proxy only serves its own pages{}; this request came from a '{s}' context without an allowed Origin.", self.listed()),
                None => format!("This proxy only serves pages{}; the request names no Origin (it does not come from a browser page).", self.listed()),
            });
        };
        let host = get(header::HOST).unwrap_or_default();
        let own = ["http://", "https://"].iter().any(|scheme| origin.strip_prefix(scheme) == Some(host.as_str()));
        if (self.same_origin && own && site.as_deref().is_none_or(|s| s == "same-origin")) || self.origins.contains(&origin) {
            return Ok(());
        }
        Err(format!("The origin {origin} may not use this proxy{}.", self.listed()))
    }

    fn listed(&self) -> String {
        let mut names: Vec<&str> = self.origins.iter().map(String::as_str).collect();
        if self.same_origin {
            names.insert(0, "its own origin");
        }
        format!(" (allowed: {})", names.join(", "))
    }
}

pub fn router(state: Arc<ProxyState>) -> Router {
    Router::new().route("/api/fal/proxy", any(handle)).with_state(state)
}

fn rejection(r: &Rejection) -> Response {
    json_resp(r.reason.status(), json!({ "detail": r.detail, "error_type": "proxy_target_rejected", "reason": r.reason.code() }))
}

fn too_large(limit: usize) -> Response {
    json_resp(
        StatusCode::PAYLOAD_TOO_LARGE,
        json!({
            "detail": format!("The request body is larger than the proxy's limit of {limit} bytes; upload big files to storage and send their URL instead."),
            "error_type": "proxy_target_rejected",
            "reason": "body_too_large",
        }),
    )
}

fn method_not_allowed(method: &Method) -> Response {
    let mut resp = json_resp(
        StatusCode::METHOD_NOT_ALLOWED,
        json!({
            "detail": format!("The proxy forwards only GET, POST and PUT, not {method}."),
            "error_type": "proxy_target_rejected",
            "reason": "method_not_allowed",
        }),
    );
    resp.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET, POST, PUT"));
    resp
}

fn caller_rejected(detail: String) -> Response {
    json_resp(StatusCode::FORBIDDEN, json!({ "detail": detail, "error_type": "proxy_caller_rejected", "reason": "origin_not_allowed" }))
}

fn body_timeout(after: Duration) -> Response {
    let mut resp = json_resp(
        StatusCode::REQUEST_TIMEOUT,
        json!({
            "detail": format!("The request body did not arrive within {} ms; the proxy stopped waiting for it.", after.as_millis()),
            "error_type": "proxy_request_timeout",
            "reason": "body_timeout",
        }),
    );
    // The rest of the body may still come: this connection is not reused.
    resp.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    resp
}

/// A 3xx from the upstream is never followed (the key) nor passed on (the browser would re-send
/// the job's input to wherever it points).
fn upstream_redirect(status: StatusCode, host: &str) -> Response {
    json_resp(
        StatusCode::BAD_GATEWAY,
        json!({
            "detail": format!("{host} answered with a redirect (HTTP {}); the proxy neither follows nor passes on redirects.", status.as_u16()),
            "error_type": "proxy_upstream_redirect",
            "reason": "upstream_redirect",
        }),
    )
}

fn upstream_unreachable(detail: String) -> Response {
    json_resp(StatusCode::BAD_GATEWAY, json!({ "detail": detail, "error_type": "proxy_upstream_error", "reason": "upstream_unreachable" }))
}

async fn handle(State(state): State<Arc<ProxyState>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    if !METHODS.contains(&parts.method) {
        return method_not_allowed(&parts.method);
    }
    if let Some(callers) = &state.callers {
        if let Err(detail) = callers.check(&parts.headers) {
            return caller_rejected(detail);
        }
    }
    let raw_target = match parts.headers.get(TARGET_HEADER) {
        None => {
            return rejection(&Rejection {
                reason: Reason::MissingTarget,
                detail: format!("The {TARGET_HEADER} header is missing; set it to the full upstream URL, e.g. https://queue.fal.run/fal-ai/flux/dev."),
            })
        }
        Some(v) => match std::str::from_utf8(v.as_bytes()) {
            Ok(s) => s.to_string(),
            Err(_) => return rejection(&Rejection { reason: Reason::BadUrl, detail: "The target URL is not valid UTF-8.".into() }),
        },
    };
    let url = match check_target(&raw_target).and_then(|u| check_method(&parts.method, &u).map(|_| u)) {
        Ok(u) => u,
        Err(r) => return rejection(&r),
    };
    // Every endpoint but a token request's apps is named by the URL: refused before reading the body.
    if let Some(endpoints) = state.endpoints.as_ref().filter(|_| !is_tokens(&url)) {
        if let Err(r) = endpoints.check(&url, &[]) {
            return rejection(&r);
        }
    }

    let limit = state.body_limit;
    let declared = parts.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return too_large(limit);
    }
    let body = match tokio::time::timeout(state.body_timeout, Limited::new(body, limit).collect()).await {
        Err(_) => return body_timeout(state.body_timeout),
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => return too_large(limit),
        Ok(Err(_)) => return json_resp(StatusCode::BAD_REQUEST, json!({ "detail": "Could not read the request body.", "error_type": "proxy_request_error" })),
    };
    if let Some(endpoints) = state.endpoints.as_ref().filter(|_| is_tokens(&url)) {
        if let Err(r) = endpoints.check(&url, &body) {
            return rejection(&r);
        }
    }

    let headers = forward_headers(&parts.headers, state.upstream.key());
    let needles = secret_needles(state.upstream.key());
    let host = url.host_str().unwrap_or("upstream").to_string();
    match &state.upstream {
        Upstream::Simulated { router, .. } => {
            let mut up = Request::new(Body::from(body));
            *up.method_mut() = parts.method.clone();
            *up.uri_mut() = match url.as_str().parse() {
                Ok(uri) => uri,
                Err(_) => return rejection(&Rejection { reason: Reason::BadUrl, detail: "The target URL is not a valid request URI.".into() }),
            };
            *up.headers_mut() = headers;
            up.extensions_mut().insert(PublicBase(public_base(&parts.headers)));
            let Ok(resp) = router.clone().oneshot(up).await;
            let (head, body) = resp.into_parts();
            if head.status.is_redirection() {
                return upstream_redirect(head.status, &host);
            }
            respond(head.status, &head.headers, body.into_data_stream(), needles)
        }
        Upstream::Real { client, base, .. } => {
            let target = match base {
                Some(base) => format!("{}{}{}", base.trim_end_matches('/'), url.path(), url.query().map(|q| format!("?{q}")).unwrap_or_default()),
                None => url.to_string(),
            };
            let sent = client.request(parts.method.clone(), target).headers(headers).body(body).send().await;
            match sent {
                Ok(resp) if resp.status().is_redirection() => upstream_redirect(resp.status(), &host),
                Ok(resp) => {
                    let (status, up_headers) = (resp.status(), resp.headers().clone());
                    respond(status, &up_headers, resp.bytes_stream(), needles)
                }
                Err(e) => upstream_unreachable(format!("The proxy could not reach {host}: {}", redact_str(&e.to_string(), state.upstream.key()))),
            }
        }
    }
}

fn is_tokens(url: &url::Url) -> bool {
    url.host_str() == Some("rest.fal.ai") && url.path() == "/tokens/"
}

/// Only `x-fal-*` (minus the target), the client's accept and content-type, then the key.
fn forward_headers(incoming: &HeaderMap, key: &str) -> HeaderMap {
    let mut out = HeaderMap::new();
    for (name, value) in incoming {
        let n = name.as_str();
        if n.starts_with("x-fal-") && n != TARGET_HEADER {
            out.append(name.clone(), value.clone());
        }
    }
    // Keeping the client's accept is what lets `text/event-stream` reach the upstream.
    let accept = incoming.get(header::ACCEPT).cloned().unwrap_or(HeaderValue::from_static("application/json"));
    out.insert(header::ACCEPT, accept);
    let content_type = incoming.get(header::CONTENT_TYPE).cloned().unwrap_or(HeaderValue::from_static("application/json"));
    out.insert(header::CONTENT_TYPE, content_type);
    if let Ok(mut auth) = HeaderValue::from_str(&format!("Key {key}")) {
        auth.set_sensitive(true);
        out.insert(header::AUTHORIZATION, auth);
    }
    out.insert(HeaderName::from_static("x-fal-client-proxy"), HeaderValue::from_static(CLIENT_PROXY));
    out
}

/// `http://<Host>` of the browser's request, if the Host header is a plain host[:port].
fn public_base(headers: &HeaderMap) -> String {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    let plain = !host.is_empty() && host.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'));
    format!("http://{}", if plain { host } else { "127.0.0.1" })
}

/// The strings that must never reach the browser: the whole key and, for `id:secret`
/// keys, the secret part on its own.
fn secret_needles(key: &str) -> Vec<Vec<u8>> {
    let mut needles = vec![key.as_bytes().to_vec()];
    if let Some((_, secret)) = key.split_once(':') {
        if secret.len() >= 8 {
            needles.push(secret.as_bytes().to_vec());
        }
    }
    needles.retain(|n| !n.is_empty());
    needles
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.len() <= haystack.len() && haystack.windows(needle.len()).any(|w| w == needle)
}

fn redact_str(s: &str, key: &str) -> String {
    secret_needles(key).iter().fold(s.to_string(), |acc, n| acc.replace(String::from_utf8_lossy(n).as_ref(), "<redacted>"))
}

fn respond<S, E>(status: StatusCode, up_headers: &HeaderMap, body: S, needles: Vec<Vec<u8>>) -> Response
where
    S: Stream<Item = Result<Bytes, E>> + Send + 'static,
    E: Into<axum::BoxError> + 'static,
{
    let mut headers = HeaderMap::new();
    for (name, value) in up_headers {
        let n = name.as_str();
        let leaks = needles.iter().any(|k| contains(n.as_bytes(), k) || contains(value.as_bytes(), k));
        if STRIPPED_RESPONSE_HEADERS.contains(&n) || name == header::AUTHORIZATION || leaks {
            continue;
        }
        headers.append(name.clone(), value.clone());
    }
    // Chunk by chunk, so server-sent events reach the browser as they happen; only bytes that
    // could begin the key wait for the next chunk.
    let start = Some((Box::pin(body), Redactor::new(needles)));
    let stream = futures_util::stream::unfold(start, |state| async move {
        let (mut body, mut redactor) = state?;
        loop {
            match body.next().await {
                Some(Ok(chunk)) => {
                    let out = redactor.process(&chunk);
                    if !out.is_empty() {
                        return Some((Ok::<Bytes, axum::BoxError>(out), Some((body, redactor))));
                    }
                }
                // A broken upstream body breaks the answer (the browser sees a network error).
                Some(Err(e)) => return Some((Err(e.into()), None)),
                None => {
                    let rest = redactor.finish();
                    return (!rest.is_empty()).then_some((Ok(rest), None));
                }
            }
        }
    });
    let mut resp = Response::new(Body::from_stream(stream));
    *resp.status_mut() = status;
    *resp.headers_mut() = headers;
    resp
}

/// Masks the key in a streamed body, across chunk boundaries, without buffering the stream:
/// each chunk goes out at once, except a tail that could be the start of a key, which waits
/// for the next chunk to tell (a key is never sent in two halves). SSE events end in "\n\n",
/// which no key begins with, so they are never held.
struct Redactor {
    needles: Vec<Vec<u8>>,
    pending: Vec<u8>,
}

impl Redactor {
    fn new(needles: Vec<Vec<u8>>) -> Redactor {
        Redactor { needles: needles.into_iter().filter(|n| !n.is_empty()).collect(), pending: Vec::new() }
    }

    fn process(&mut self, chunk: &[u8]) -> Bytes {
        if self.needles.is_empty() {
            return Bytes::copy_from_slice(chunk);
        }
        let mut buf = std::mem::take(&mut self.pending);
        buf.extend_from_slice(chunk);
        self.mask(&mut buf);
        let hold = self.needles.iter().map(|n| longest_prefix_suffix(&buf, n)).max().unwrap_or(0);
        self.pending = buf.split_off(buf.len() - hold);
        Bytes::from(buf)
    }

    /// The end of the body: what was held is only the beginning of a key, masked all the same.
    fn finish(&mut self) -> Bytes {
        let mut rest = std::mem::take(&mut self.pending);
        rest.iter_mut().for_each(|b| *b = b'*');
        Bytes::from(rest)
    }

    fn mask(&self, buf: &mut [u8]) {
        for needle in &self.needles {
            let n = needle.len();
            let mut i = 0;
            while i + n <= buf.len() {
                if buf[i..i + n] == needle[..] {
                    buf[i..i + n].fill(b'*');
                    i += n;
                } else {
                    i += 1;
                }
            }
        }
    }
}

/// The length of the longest end of `buf` that is a proper beginning of `needle`.
fn longest_prefix_suffix(buf: &[u8], needle: &[u8]) -> usize {
    (1..needle.len().min(buf.len() + 1)).rev().find(|&k| buf.ends_with(&needle[..k])).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(needles: &[&str], parts: &[&str]) -> (Vec<String>, String) {
        let mut r = Redactor::new(needles.iter().map(|n| n.as_bytes().to_vec()).collect());
        let mut out: Vec<String> = parts.iter().map(|p| String::from_utf8(r.process(p.as_bytes()).to_vec()).expect("utf8")).collect();
        out.push(String::from_utf8(r.finish().to_vec()).expect("utf8"));
        let whole = out.concat();
        (out, whole)
    }

    #[test]
    fn redactor_masks_a_key_split_across_chunks_in_both() {
        let (out, whole) = run(&["SECRETKEY"], &["hello SEC", "RETKEY and SECRETKEY", " end"]);
        assert_eq!(whole, "hello ********* and ********* end");
        assert_eq!(out[0], "hello ", "the possible start of the key waits for the next chunk");
    }

    #[test]
    fn redactor_holds_nothing_that_cannot_start_a_key() {
        let (out, _) = run(&["k3y:s3cr3tvalue"], &["data: {\"status\":\"IN_QUEUE\"}\n\n", "data: {\"a\":1}\n\n"]);
        assert_eq!(out[0], "data: {\"status\":\"IN_QUEUE\"}\n\n", "an SSE event passes at once, whole");
        assert_eq!(out[1], "data: {\"a\":1}\n\n");
        assert_eq!(out[2], "", "nothing was held back");
    }

    #[test]
    fn redactor_releases_a_false_start_and_masks_a_cut_key() {
        // "SECRET" then "S": not the key after all, released with the next chunk.
        let (_, whole) = run(&["SECRETKEY"], &["a SECRET", "S b"]);
        assert_eq!(whole, "a SECRETS b");
        // A key split over three chunks, one byte at a time at the seam.
        let (_, whole) = run(&["SECRETKEY"], &["xSECRE", "T", "KEYy"]);
        assert_eq!(whole, "x*********y");
        // A body that ends inside a key: the held beginning is masked too.
        let (_, whole) = run(&["SECRETKEY"], &["tail SECRE"]);
        assert_eq!(whole, "tail *****");
        // Both needles (the key and its secret part).
        let (_, whole) = run(&["id:SECRETPART", "SECRETPART"], &["x id:SECR", "ETPART y SECRETPART z"]);
        assert_eq!(whole, "x ************* y ********** z");
    }

    #[test]
    fn forwards_only_fal_headers() {
        let mut h = HeaderMap::new();
        h.insert("x-fal-queue-priority", HeaderValue::from_static("low"));
        h.insert(TARGET_HEADER, HeaderValue::from_static("https://fal.run/x"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer browser"));
        h.insert(header::COOKIE, HeaderValue::from_static("a=b"));
        h.insert(header::ACCEPT, HeaderValue::from_static("text/event-stream"));
        let out = forward_headers(&h, "k:s");
        assert_eq!(out.get("x-fal-queue-priority").map(|v| v.as_bytes()), Some(&b"low"[..]));
        assert!(out.get(TARGET_HEADER).is_none() && out.get(header::COOKIE).is_none());
        assert_eq!(out.get(header::AUTHORIZATION).map(|v| v.as_bytes()), Some(&b"Key k:s"[..]));
        assert_eq!(out.get(header::ACCEPT).map(|v| v.as_bytes()), Some(&b"text/event-stream"[..]));
        let bare = forward_headers(&HeaderMap::new(), "k");
        assert_eq!(bare.get(header::ACCEPT).map(|v| v.as_bytes()), Some(&b"application/json"[..]));
        assert_eq!(bare.get(header::CONTENT_TYPE).map(|v| v.as_bytes()), Some(&b"application/json"[..]));
    }
}
