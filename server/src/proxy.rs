//! `/api/fal/proxy`: forwards a browser's call to the fal host named in `x-fal-target-url`,
//! adding the key, which never travels back to the browser.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::any;
use axum::Router;
use futures_util::{Stream, StreamExt};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::json;
use tower::ServiceExt;

use crate::allowlist::{check_method, check_target, Reason, Rejection};
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
    Real { client: reqwest::Client, key: String },
    /// The simulator's Router, called as a tower Service with the absolute target URL.
    Simulated { router: Router, key: String },
}

impl Upstream {
    pub fn real(key: String) -> Upstream {
        // No redirects: following one could carry the key to a host the allowlist never saw.
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        Upstream::Real { client, key }
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

fn upstream_unreachable(detail: String) -> Response {
    json_resp(StatusCode::BAD_GATEWAY, json!({ "detail": detail, "error_type": "proxy_upstream_error", "reason": "upstream_unreachable" }))
}

async fn handle(State(state): State<Arc<ProxyState>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
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

    let limit = state.body_limit;
    let declared = parts.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return too_large(limit);
    }
    let body = match Limited::new(body, limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => return too_large(limit),
        Err(_) => return json_resp(StatusCode::BAD_REQUEST, json!({ "detail": "Could not read the request body.", "error_type": "proxy_request_error" })),
    };

    let headers = forward_headers(&parts.headers, state.upstream.key());
    let needles = secret_needles(state.upstream.key());
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
            respond(head.status, &head.headers, body.into_data_stream(), needles)
        }
        Upstream::Real { client, .. } => {
            let sent = client.request(parts.method.clone(), url.as_str()).headers(headers).body(body).send().await;
            match sent {
                Ok(resp) => {
                    let (status, up_headers) = (resp.status(), resp.headers().clone());
                    respond(status, &up_headers, resp.bytes_stream(), needles)
                }
                Err(e) => upstream_unreachable(format!("The proxy could not reach {}: {}", url.host_str().unwrap_or("upstream"), redact_str(&e.to_string(), state.upstream.key()))),
            }
        }
    }
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
    let mut redactor = Redactor::new(needles);
    // Chunk by chunk, so server-sent events reach the browser as they happen.
    let stream = body.map(move |chunk| chunk.map(|c| redactor.process(c)));
    let mut resp = Response::new(Body::from_stream(stream));
    *resp.status_mut() = status;
    *resp.headers_mut() = headers;
    resp
}

/// Masks the key in a streamed body without holding bytes back: the tail of what was
/// already sent is kept, so a key split across chunks is caught in the later chunk,
/// where its remaining bytes are masked (the earlier part alone is not the key).
struct Redactor {
    needles: Vec<Vec<u8>>,
    tail: Vec<u8>,
    keep: usize,
}

impl Redactor {
    fn new(needles: Vec<Vec<u8>>) -> Redactor {
        let keep = needles.iter().map(Vec::len).max().unwrap_or(1).saturating_sub(1);
        Redactor { needles, tail: Vec::new(), keep }
    }

    fn process(&mut self, chunk: Bytes) -> Bytes {
        if self.needles.is_empty() || chunk.is_empty() {
            return chunk;
        }
        let carry = self.tail.len();
        let mut joined = std::mem::take(&mut self.tail);
        joined.extend_from_slice(&chunk);
        let mut masked = false;
        for needle in &self.needles {
            let n = needle.len();
            let mut i = 0;
            while i + n <= joined.len() {
                if joined[i..i + n] == needle[..] {
                    for b in joined[i.max(carry)..i + n].iter_mut() {
                        *b = b'*';
                    }
                    masked = true;
                    i += n;
                } else {
                    i += 1;
                }
            }
        }
        self.tail = joined[joined.len().saturating_sub(self.keep)..].to_vec();
        if masked {
            Bytes::copy_from_slice(&joined[carry..])
        } else {
            chunk
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redactor_masks_keys_across_chunks() {
        let mut r = Redactor::new(vec![b"SECRETKEY".to_vec()]);
        let mut out = Vec::new();
        for part in ["hello SEC", "RETKEY and SECRETKEY", " end"] {
            out.extend_from_slice(&r.process(Bytes::from(part)));
        }
        let text = String::from_utf8(out).expect("utf8");
        assert!(!text.contains("SECRETKEY"), "{text}");
        assert!(text.starts_with("hello SEC") && text.ends_with(" end"));
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
