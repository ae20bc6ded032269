//! `/__sim/upstream/...`: the simulator as a direct upstream, for proxies under test that call
//! fal's hosts themselves (tests/proxies.test.mjs reaches it through a local TLS stand-in for
//! fal's hosts). The fal host travels in `x-genwire-upstream-host`; path, query, method, headers
//! (the caller's `authorization` included: the simulator checks it) and body reach the simulator
//! as fal would receive them. Only served while the upstream is simulated; the proxy never calls
//! it (its allowlist names fal's hosts only).

use axum::extract::{Request, State};
use axum::http::{header, HeaderName, HeaderValue, StatusCode, Uri};
use axum::response::Response;
use axum::routing::any;
use axum::Router;
use serde_json::json;
use tower::ServiceExt;

use crate::allowlist::ALLOWED_HOSTS;
use crate::json::json as json_resp;
use crate::sim::PublicBase;

pub const HOST_HEADER: &str = "x-genwire-upstream-host";
const PREFIX: &str = "/__sim/upstream";
const HOP_BY_HOP: [&str; 6] = ["connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade"];

/// `upstream` is the simulator's router (`sim::upstream_router`).
pub fn router(upstream: Router) -> Router {
    Router::new().route("/__sim/upstream/{*rest}", any(handle)).with_state(upstream)
}

fn bad_request(detail: &str) -> Response {
    json_resp(StatusCode::BAD_REQUEST, json!({ "detail": detail }))
}

async fn handle(State(upstream): State<Router>, req: Request) -> Response {
    let (mut parts, body) = req.into_parts();
    let host = parts.headers.get(HOST_HEADER).and_then(|v| v.to_str().ok()).map(str::to_ascii_lowercase);
    let Some(host) = host.filter(|h| ALLOWED_HOSTS.contains(&h.as_str())) else {
        return bad_request("x-genwire-upstream-host must name one of fal's hosts: queue.fal.run, fal.run, rest.fal.ai, fal.ai.");
    };
    let rest = parts.uri.path_and_query().map_or("", |p| p.as_str()).strip_prefix(PREFIX).unwrap_or("");
    let Ok(uri) = format!("https://{host}{rest}").parse::<Uri>() else {
        return bad_request("The path does not form a valid URL.");
    };
    // Files the simulator hands out (images, upload URLs) are served by this server, on the
    // address its caller used.
    let local = parts.headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("127.0.0.1");
    let plain = local.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'));
    let base = format!("http://{}", if plain && !local.is_empty() { local } else { "127.0.0.1" });

    parts.headers.remove(HeaderName::from_static(HOST_HEADER));
    for name in HOP_BY_HOP {
        parts.headers.remove(name);
    }
    if let Ok(v) = HeaderValue::from_str(&host) {
        parts.headers.insert(header::HOST, v);
    }
    parts.uri = uri;
    let mut up = Request::from_parts(parts, body);
    up.extensions_mut().insert(PublicBase(base));
    let Ok(resp) = upstream.oneshot(up).await;
    resp
}
