//! The proxy's target allowlist, checked both as a pure function and over HTTP.

mod common;

use genwire_server::allowlist::check_target;
use reqwest::Method;
use serde_json::Value;

/// (target, reason, HTTP status) for every way a target can be refused.
const REJECTED: &[(&str, &str, u16)] = &[
    ("", "missing_target", 400),
    ("queue.fal.run/fal-ai/flux/dev", "bad_url", 400),
    ("https:queue.fal.run/fal-ai/flux/dev", "bad_url", 400),
    ("https:///fal-ai/flux/dev", "bad_url", 400),
    ("https://fal.run/fal-ai/flux dev", "bad_url", 400),
    ("https://fal.run/fal-ai/flux\u{7f}dev", "bad_url", 400),
    ("https://fal.run\\fal-ai/flux/dev", "bad_url", 400),
    ("https://fal.run/fal-ai\\..\\x", "bad_url", 400),
    ("http://fal.run/fal-ai/flux/dev", "scheme", 400),
    ("wss://fal.run/fal-ai/flux/dev/realtime", "scheme", 400),
    ("javascript:alert(1)", "scheme", 400),
    ("data:text/plain,hello", "scheme", 400),
    ("file:///etc/passwd", "scheme", 400),
    ("https://fal.run@evil.com/fal-ai/flux/dev", "userinfo", 400),
    ("https://user:pw@fal.run/fal-ai/flux/dev", "userinfo", 400),
    ("https://fal.run:443/fal-ai/flux/dev", "port", 400),
    ("https://fal.run:8443/fal-ai/flux/dev", "port", 400),
    ("https://127.0.0.1/fal-ai/flux/dev", "ip_literal", 400),
    ("https://[::1]/fal-ai/flux/dev", "ip_literal", 400),
    ("https://[::ffff:127.0.0.1]/x", "ip_literal", 400),
    ("https://2130706433/fal-ai/flux/dev", "ip_literal", 400),
    ("https://0x7f000001/fal-ai/flux/dev", "ip_literal", 400),
    ("https://0177.0.0.1/fal-ai/flux/dev", "ip_literal", 400),
    ("https://fal.run.evil.com/fal-ai/flux/dev", "host_not_allowed", 403),
    ("https://notfal.run/fal-ai/flux/dev", "host_not_allowed", 403),
    ("https://api.fal.run/fal-ai/flux/dev", "host_not_allowed", 403),
    ("https://fal.run./fal-ai/flux/dev", "host_not_allowed", 403),
    ("https://example.com/fal-ai/flux/dev", "host_not_allowed", 403),
    ("https://fal%2erun/fal-ai/flux/dev", "encoded_host", 400),
    ("https://f%61l.run/fal-ai/flux/dev", "encoded_host", 400),
    ("https://fal.rün/fal-ai/flux/dev", "encoded_host", 400),
    ("https://ｆal.run/fal-ai/flux/dev", "encoded_host", 400),
    ("https://fal.run/fal-ai/../../admin", "traversal", 400),
    ("https://fal.run/fal-ai/%2e%2e/admin", "traversal", 400),
    ("https://fal.run/fal-ai/%2E./admin", "traversal", 400),
    ("https://fal.run/fal-ai%2fflux/dev", "traversal", 400),
    ("https://fal.run/fal-ai/%252e%252e/admin", "traversal", 400),
    ("https://queue.fal.run/fal-ai/./flux", "traversal", 400),
    ("https://fal.run/fal-ai/flux/dev#x", "fragment", 400),
    ("https://fal.run/", "path_not_allowed", 403),
    ("https://queue.fal.run", "path_not_allowed", 403),
    ("https://rest.fal.ai/storage/upload/initiate", "path_not_allowed", 403),
    ("https://rest.fal.ai/storage/upload/initiate?storage_type=fal-cdn-v3&x=1", "path_not_allowed", 403),
    ("https://rest.fal.ai/storage/upload/other?storage_type=fal-cdn-v3", "path_not_allowed", 403),
    ("https://rest.fal.ai/storage/upload/initiate?storage_type=other", "path_not_allowed", 403),
    ("https://rest.fal.ai/storage/upload/initiate-multipart?storage_type=gcs", "path_not_allowed", 403),
    ("https://rest.fal.ai/storage/upload/complete-multipart", "path_not_allowed", 403),
    ("https://rest.fal.ai/storage/upload/whatever", "path_not_allowed", 403),
    ("https://rest.fal.ai/billing", "path_not_allowed", 403),
    ("https://fal.ai/api/other", "path_not_allowed", 403),
    ("https://fal.ai/api/openapi/queue/openapi.json", "path_not_allowed", 403),
    ("https://fal.ai/api/openapi/queue/openapi.json?endpoint_id=flux", "path_not_allowed", 403),
    ("https://fal.ai/api/openapi/queue/openapi.json?endpoint_id=a/b&more=1", "path_not_allowed", 403),
];

const ALLOWED: &[&str] = &[
    "https://queue.fal.run/fal-ai/flux/dev",
    "https://queue.fal.run/fal-ai/flux/dev?fal_webhook=https%3A%2F%2Fexample.com%2Fhook",
    "https://queue.fal.run/fal-ai/flux/requests/0b0e6c1a-0000-4000-8000-000000000000/status?logs=1",
    "https://QUEUE.fal.run/fal-ai/flux/dev",
    "HTTPS://fal.run/fal-ai/fast-sdxl",
    "https://fal.run/fal-ai/flux/dev/stream",
    "https://rest.fal.ai/storage/upload/initiate?storage_type=fal-cdn-v3",
    "https://rest.fal.ai/storage/upload/initiate-multipart?storage_type=fal-cdn-v3",
    "https://rest.fal.ai/storage/upload/complete-multipart?storage_type=fal-cdn-v3",
    "https://rest.fal.ai/tokens/",
    "https://fal.ai/api/openapi/queue/openapi.json?endpoint_id=fal-ai/flux/dev",
    "https://fal.ai/api/openapi/queue/openapi.json?endpoint_id=fal-ai%2Fflux%2Fdev",
];

#[test]
fn table_of_rejections() {
    for (target, reason, _) in REJECTED {
        match check_target(target) {
            Ok(u) => panic!("{target:?} was allowed as {u}"),
            Err(r) => {
                assert_eq!(r.reason.code(), *reason, "{target:?}: {}", r.detail);
                assert!(r.detail.ends_with('.') && r.detail.len() > 20, "detail should be a sentence: {}", r.detail);
            }
        }
    }
}

#[test]
fn table_of_allowed() {
    for target in ALLOWED {
        if let Err(r) = check_target(target) {
            panic!("{target:?} was rejected: {r:?}");
        }
    }
}

#[tokio::test]
async fn http_rejections_have_the_documented_shape() {
    let s = common::start().await;
    for (target, reason, status) in REJECTED {
        // Header values cannot hold control characters; the pure test covers that case.
        if target.chars().any(char::is_control) {
            continue;
        }
        let req = s.client.post(s.url("/api/fal/proxy")).body("{}");
        let req = if target.is_empty() { req } else { req.header(common::TARGET, *target) };
        let resp = req.send().await.expect("send");
        assert_eq!(resp.status().as_u16(), *status, "{target:?}");
        let body: Value = resp.json().await.expect("json");
        assert_eq!(body["error_type"], "proxy_target_rejected", "{target:?}");
        assert_eq!(body["reason"], *reason, "{target:?}");
        assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()));
    }
    // Nothing refused may have reached the upstream.
    assert!(s.sim_log(0).await.is_empty());
}

#[tokio::test]
async fn http_allowed_targets_reach_the_upstream() {
    let s = common::start().await;
    for target in ALLOWED {
        let method = if target.contains("openapi") || target.contains("/status") { Method::GET } else { Method::POST };
        let resp = s.proxy(method, target).body("{}").send().await.expect("send");
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        assert_ne!(body["error_type"], "proxy_target_rejected", "{target} rejected: {body}");
        assert_ne!(status, 401, "{target}: key not added");
    }
    assert_eq!(s.sim_log(0).await.len(), ALLOWED.len());
}

#[tokio::test]
async fn tokens_are_post_only_and_raw_non_utf8_targets_are_refused() {
    let s = common::start().await;
    let (status, _, body) = s.proxy_json(Method::GET, "https://rest.fal.ai/tokens/", None).await;
    assert_eq!((status, body["reason"].as_str()), (403, Some("path_not_allowed")));
    let (status, _, token) = s.proxy_json(Method::POST, "https://rest.fal.ai/tokens/", Some(serde_json::json!({"allowed_apps": ["flux"]}))).await;
    assert_eq!(status, 201);
    assert!(token.as_str().is_some_and(|t| t.starts_with("simtok_")), "{token}");

    let raw = reqwest::header::HeaderValue::from_bytes(b"https://fal.run/\xff").expect("opaque bytes");
    let resp = s.client.post(s.url("/api/fal/proxy")).header(common::TARGET, raw).send().await.expect("send");
    assert_eq!(resp.status().as_u16(), 400);
}
