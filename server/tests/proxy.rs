//! What the proxy forwards, what it adds, what it strips, and that it streams.

mod common;

use std::time::{Duration, Instant};

use axum::body::Body;
use common::{unique_prompt, SseItem, SseReader, QUEUE};
use genwire_server::sim::{upstream_router, Sim};
use reqwest::Method;
use serde_json::{json, Value};
use tower::ServiceExt;

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// Every byte of a response as the browser would see it (status, headers, body), and the body.
async fn raw_response(resp: reqwest::Response) -> (Vec<u8>, Vec<u8>) {
    let mut raw = format!("{}\n", resp.status()).into_bytes();
    for (k, v) in resp.headers() {
        raw.extend_from_slice(k.as_str().as_bytes());
        raw.extend_from_slice(b": ");
        raw.extend_from_slice(v.as_bytes());
        raw.push(b'\n');
    }
    let body = resp.bytes().await.unwrap_or_default().to_vec();
    raw.extend_from_slice(&body);
    (raw, body)
}

#[tokio::test]
async fn only_fal_headers_reach_upstream_and_browser_credentials_are_dropped() {
    let s = common::start().await;
    let resp = s
        .proxy(Method::POST, &format!("{QUEUE}/fal-ai/flux/dev"))
        .header("x-fal-queue-priority", "low")
        .header("x-fal-runner-hint", "abc")
        .header("x-other", "nope")
        .header("authorization", "Bearer browser-secret")
        .header("cookie", "session=browser-cookie")
        .header("referer", "http://page/")
        .header("x-fal-client-proxy", "spoofed")
        .json(&json!({ "prompt": unique_prompt("headers") }))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 200, "the simulator accepted the key the proxy added");
    let log = s.sim_log(0).await;
    assert_eq!(log.len(), 1);
    let headers = log[0]["headers"].as_object().expect("headers").clone();
    let mut names: Vec<&str> = headers.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(names, ["accept", "authorization", "content-type", "x-fal-client-proxy", "x-fal-queue-priority", "x-fal-runner-hint"]);
    assert_eq!(headers["authorization"], "<redacted:present>");
    assert_eq!(headers["x-fal-client-proxy"], "genwire-server/0.1");
    assert_eq!(headers["content-type"], "application/json");
    let logged = serde_json::to_string(&log).expect("json");
    assert!(!logged.contains("browser-secret") && !logged.contains("browser-cookie"));
    assert_eq!(log[0]["url"], format!("{QUEUE}/fal-ai/flux/dev"));
}

#[tokio::test]
async fn simulator_refuses_calls_without_the_key() {
    // Proves that a 200 through the proxy means the proxy added the right key.
    let router = upstream_router(Sim::new(Default::default(), "the-key".into()));
    for auth in [None, Some("Key wrong"), Some("Bearer the-key")] {
        let mut req = axum::http::Request::post("https://queue.fal.run/fal-ai/flux/dev").body(Body::from(r#"{"prompt":"x"}"#)).expect("req");
        if let Some(a) = auth {
            req.headers_mut().insert("authorization", a.parse().expect("value"));
        }
        let resp = router.clone().oneshot(req).await.expect("infallible");
        assert_eq!(resp.status(), 401, "{auth:?}");
        let body = axum::body::to_bytes(resp.into_body(), 1 << 20).await.expect("body");
        let v: Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(v["detail"], "No user found for Key ID and secret");
    }
}

#[tokio::test]
async fn the_key_never_appears_in_any_response() {
    let s = common::start().await;
    let key = genwire_server::sim_key();
    let secret = key.split_once(':').map(|(_, s)| s).expect("id:secret");
    let prompt = unique_prompt("leak");
    // An upstream that echoes the key everywhere it can.
    s.add_faults(
        &prompt,
        json!({ "queue_depth": 0, "latency_ms": 0, "result_error": {
            "status": 500,
            "headers": { "authorization": format!("Key {key}"), "x-echo": key, "x-part": format!("id {secret} end"), "x-fal-error-type": "runner_server_error" },
            "body": { "detail": format!("bad key {key}"), "echo": secret }
        }}),
    )
    .await;
    let mut raw = Vec::new();
    let sub = s.proxy(Method::POST, &format!("{QUEUE}/fal-ai/flux/dev")).json(&json!({ "prompt": prompt })).send().await.expect("send");
    let (sub_raw, sub_body) = raw_response(sub).await;
    let submitted: Value = serde_json::from_slice(&sub_body).expect("json");
    raw.extend(sub_raw);
    tokio::time::sleep(Duration::from_millis(50)).await;
    for target in [
        format!("{}?logs=1", submitted["status_url"].as_str().expect("url")),
        format!("{}/stream?logs=1", submitted["status_url"].as_str().expect("url")),
        submitted["response_url"].as_str().expect("url").to_string(),
        format!("{QUEUE}/fal-ai/unknown"),
    ] {
        let resp = s.proxy(Method::GET, &target).send().await.expect("send");
        raw.extend(raw_response(resp).await.0);
    }
    assert!(contains(&raw, "runner_server_error"), "the error passed through");
    assert!(contains(&raw, "x-fal-error-type"), "ordinary headers are kept");
    assert!(!contains(&raw, key), "key leaked");
    assert!(!contains(&raw, secret), "key secret leaked");
    assert!(!contains(&raw.to_ascii_lowercase(), "authorization"), "authorization header echoed");
}

#[tokio::test]
async fn response_headers_are_filtered() {
    let s = common::start().await;
    let prompt = unique_prompt("headers-out");
    s.add_faults(
        &prompt,
        json!({ "submit_error": { "status": 429, "body": { "detail": "slow down" }, "headers": {
            "set-cookie": "upstream=1", "connection": "close", "content-encoding": "gzip",
            "retry-after": "2", "x-fal-request-id": "abc", "x-fal-retryable": "true"
        }}}),
    )
    .await;
    let resp = s.proxy(Method::POST, &format!("{QUEUE}/fal-ai/flux/dev")).json(&json!({ "prompt": prompt })).send().await.expect("send");
    assert_eq!(resp.status(), 429);
    let h = resp.headers().clone();
    for gone in ["set-cookie", "content-encoding", "authorization"] {
        assert!(h.get(gone).is_none(), "{gone} should be stripped");
    }
    assert!(h.get("connection").is_none_or(|v| v != "close"), "upstream's connection header is not copied");
    for kept in ["retry-after", "x-fal-request-id", "x-fal-retryable", "content-type"] {
        assert!(h.get(kept).is_some(), "{kept} should be kept");
    }
    let body: Value = resp.json().await.expect("plain (not gzip) JSON body");
    assert_eq!(body["detail"], "slow down");
}

#[tokio::test]
async fn client_accept_is_kept() {
    let s = common::start().await;
    let submitted = s.submit("fal-ai/flux/dev", json!({ "prompt": unique_prompt("accept") })).await;
    let stream_url = format!("{}/stream", submitted["status_url"].as_str().expect("url"));
    let resp = s.proxy(Method::GET, &stream_url).header("accept", "text/event-stream").send().await.expect("send");
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    drop(resp);
    let log = s.sim_log(0).await;
    assert_eq!(log[0]["headers"]["accept"], "*/*", "reqwest's own default, passed through");
    assert_eq!(log[1]["headers"]["accept"], "text/event-stream");
}

#[tokio::test]
async fn body_limit_answers_413() {
    let mut config = common::fast_config();
    config.body_limit_bytes = 1000;
    let s = common::start_with(config).await;
    let big = json!({ "prompt": "x".repeat(2000) });
    let (status, _, body) = s.proxy_json(Method::POST, &format!("{QUEUE}/fal-ai/flux/dev"), Some(big)).await;
    assert_eq!(status, 413);
    assert_eq!(body["reason"], "body_too_large");
    assert_eq!(body["error_type"], "proxy_target_rejected");

    // Without a content-length the limit still holds while reading.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = (0..20).map(|_| Ok(vec![b'a'; 100])).collect();
    let resp = s
        .proxy(Method::POST, &format!("{QUEUE}/fal-ai/flux/dev"))
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(chunks)))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 413);
    assert!(s.sim_log(0).await.is_empty(), "nothing reached the upstream");

    let ok = s.proxy_json(Method::POST, &format!("{QUEUE}/fal-ai/flux/dev"), Some(json!({ "prompt": "small" }))).await;
    assert_eq!(ok.0, 200);
}

#[tokio::test]
async fn sse_passes_through_unbuffered() {
    let s = common::start().await;
    let prompt = unique_prompt("sse");
    s.add_faults(&prompt, json!({ "queue_depth": 1, "latency_ms": 1500 })).await;
    let submitted = s.submit("fal-ai/flux/dev", json!({ "prompt": prompt })).await;
    let started = Instant::now();
    let stream_url = format!("{}/stream?logs=1", submitted["status_url"].as_str().expect("url"));
    let resp = s.proxy(Method::GET, &stream_url).header("accept", "text/event-stream").send().await.expect("send");
    let mut sse = SseReader::new(resp);
    let SseItem::Data(first) = sse.next(Duration::from_millis(1000)).await else { panic!("no first event") };
    assert_eq!(first["status"], "IN_QUEUE");
    assert!(started.elapsed() < Duration::from_millis(1000), "first event arrived while the job ran");
    let id = submitted["request_id"].as_str().expect("id");
    let job = s.sim_get(&format!("/__sim/jobs/{id}")).await;
    assert_ne!(job["phase"], "COMPLETED", "the stream was not buffered to its end");
    let mut last = first;
    loop {
        match sse.next(Duration::from_secs(3)).await {
            SseItem::Data(v) => last = v,
            SseItem::Comment(c) => assert_eq!(c, ": keep-alive"),
            SseItem::End => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(last["status"], "COMPLETED");
}

#[tokio::test]
async fn missing_target_header_is_400() {
    let s = common::start().await;
    let resp = s.client.get(s.url("/api/fal/proxy")).send().await.expect("send");
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["reason"], "missing_target");
}

#[tokio::test]
async fn cors_only_when_asked() {
    let s = common::start().await;
    let preflight = |s: &common::Server| {
        s.client
            .request(Method::OPTIONS, s.url("/api/fal/proxy"))
            .header("origin", "http://127.0.0.1:9999")
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "x-fal-target-url, x-fal-queue-priority, content-type")
            .send()
    };
    let resp = preflight(&s).await.expect("send");
    assert!(resp.headers().get("access-control-allow-origin").is_none());

    let mut config = common::fast_config();
    config.cors_any = true;
    let s = common::start_with(config).await;
    let resp = preflight(&s).await.expect("send");
    assert_eq!(resp.headers()["access-control-allow-origin"], "*");
    let allowed = resp.headers()["access-control-allow-headers"].to_str().expect("ascii").to_ascii_lowercase();
    assert!(allowed.contains("x-fal-target-url") && allowed.contains("x-fal-queue-priority"));
    let resp = s
        .proxy(Method::POST, &format!("{QUEUE}/fal-ai/flux/dev"))
        .header("origin", "http://127.0.0.1:9999")
        .json(&json!({"prompt": "c"}))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.headers()["access-control-allow-origin"], "*");
    assert!(resp.headers()["access-control-expose-headers"].to_str().expect("ascii").contains("x-fal-request-id"));
}
