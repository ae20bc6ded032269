//! The proxy's guards (issue 16, point 5): methods outside the contract, upstream redirects,
//! stalled request bodies, `/__sim` with a real key, a key split across chunks, the endpoint
//! allowlist and the caller check. Tests that need a "real" key talk to a local fake fal.

mod common;

use std::time::Duration;

use common::{unique_prompt, QUEUE, TARGET};
use genwire_server::allowlist::Endpoints;
use genwire_server::proxy::Callers;
use genwire_server::Config;
use reqwest::Method;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

const FAKE_KEY: &str = "fake-key-id:fake-secret-0123456789abcdef";
const FAKE_SECRET: &str = "fake-secret-0123456789abcdef";

/// Reads one HTTP/1.1 request (head and a content-length body) from a socket.
async fn read_request(sock: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = sock.read(&mut chunk).await.expect("read");
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len = head.lines().find_map(|l| l.strip_prefix("content-length:")).and_then(|v| v.trim().parse::<usize>().ok()).unwrap_or(0);
            while buf.len() < end + 4 + len {
                let n = sock.read(&mut chunk).await.expect("read body");
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            break;
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

/// A fake fal: every connection gets its request read, then `answer` writes what it likes.
async fn fake_fal<F, Fut>(answer: F) -> (String, tokio::sync::mpsc::UnboundedReceiver<String>)
where
    F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let (seen_tx, seen_rx) = tokio::sync::mpsc::unbounded_channel();
    let answer = std::sync::Arc::new(answer);
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let request = read_request(&mut sock).await;
            let _ = seen_tx.send(request);
            let answer = answer.clone();
            tokio::spawn(async move { answer(sock).await });
        }
    });
    (base, seen_rx)
}

fn real_config(base: &str) -> Config {
    Config { fal_key: Some(FAKE_KEY.into()), upstream_base: Some(base.into()), ..common::fast_config() }
}

fn chunk(data: &str) -> Vec<u8> {
    format!("{:x}\r\n{data}\r\n", data.len()).into_bytes()
}

#[tokio::test]
async fn methods_outside_the_contract_are_refused_and_never_reach_the_upstream() {
    let s = common::start().await;
    for m in ["TRACE", "PROPFIND", "DELETE", "PATCH", "OPTIONS", "HEAD", "MKCOL", "PURGE"] {
        let method = Method::from_bytes(m.as_bytes()).expect("method");
        let resp = s.proxy(method, &format!("{QUEUE}/fal-ai/flux/dev")).body(r#"{"prompt":"x"}"#).send().await.expect("send");
        assert_eq!(resp.status(), 405, "{m}");
        assert_eq!(resp.headers()["allow"], "GET, POST, PUT", "{m}");
        if m != "HEAD" {
            let body: Value = resp.json().await.expect("json");
            assert_eq!((body["error_type"].as_str(), body["reason"].as_str()), (Some("proxy_target_rejected"), Some("method_not_allowed")), "{m}");
        }
    }
    assert!(s.sim_log(0).await.is_empty(), "nothing reached the upstream");
    // The contract's methods still go through.
    let submitted = s.submit("fal-ai/flux/dev", json!({ "prompt": unique_prompt("methods") })).await;
    let (status, _) = s.status(&submitted, false).await;
    // 202 while the job is queued or running, as fal answers.
    assert_eq!(status, 202);
    let cancel = s.proxy(Method::PUT, submitted["cancel_url"].as_str().expect("cancel_url")).send().await.expect("send");
    assert!(cancel.status().is_success() || cancel.status() == 400, "PUT reaches the upstream: {}", cancel.status());
}

#[tokio::test]
async fn methods_are_refused_before_a_real_key_is_used() {
    let (base, mut seen) = fake_fal(|mut sock| async move {
        let _ = sock.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}").await;
    })
    .await;
    let s = common::start_with(real_config(&base)).await;
    for m in ["TRACE", "DELETE", "PATCH", "OPTIONS", "HEAD"] {
        let resp = s.proxy(Method::from_bytes(m.as_bytes()).expect("method"), &format!("{QUEUE}/fal-ai/flux/dev")).send().await.expect("send");
        assert_eq!(resp.status(), 405, "{m}");
    }
    // A GET does reach the fake fal, with the key: the refusals above were not a dead upstream.
    let ok = s.proxy(Method::GET, &format!("{QUEUE}/fal-ai/flux/requests/abc/status")).send().await.expect("send");
    assert_eq!(ok.status(), 200);
    let first = seen.recv().await.expect("one request");
    assert!(first.starts_with("GET /fal-ai/flux/requests/abc/status"), "{first}");
    assert!(first.to_ascii_lowercase().contains(&format!("authorization: key {}", FAKE_KEY.to_ascii_lowercase())));
    assert!(seen.try_recv().is_err(), "only the GET arrived");
}

#[tokio::test]
async fn an_upstream_redirect_becomes_a_typed_502_and_is_never_followed() {
    let elsewhere = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    elsewhere.set_nonblocking(true).expect("nonblocking");
    let location = format!("http://{}/steal", elsewhere.local_addr().expect("addr"));
    for code in [301u16, 302, 303, 307, 308] {
        let location = location.clone();
        let (base, _) = fake_fal(move |mut sock| {
            let location = location.clone();
            async move {
                let head = format!("HTTP/1.1 {code} Moved\r\nlocation: {location}\r\nset-cookie: a=b\r\ncontent-length: 0\r\n\r\n");
                let _ = sock.write_all(head.as_bytes()).await;
            }
        })
        .await;
        let mut s = common::start_with(real_config(&base)).await;
        // Like a browser's `redirect: "manual"`: what the proxy answers, not where it points.
        s.client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
        let resp = s.proxy(Method::POST, &format!("{QUEUE}/fal-ai/flux/dev")).json(&json!({ "prompt": "my private input" })).send().await.expect("send");
        assert_eq!(resp.status(), 502, "{code}");
        assert!(resp.headers().get("location").is_none(), "{code}: the redirect is not passed on");
        let body: Value = resp.json().await.expect("json");
        assert_eq!(body["error_type"], "proxy_upstream_redirect", "{code}");
        assert!(body["detail"].as_str().expect("detail").contains(&code.to_string()));
        // Following it would have connected before the answer came back.
        assert!(matches!(elsewhere.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock), "{code}: nobody went to the Location");
    }
}

/// Sends a request head and part of its body, then stalls; returns what the server answered.
async fn stalled_body(addr: &str, head_extra: &str, partial: &[u8]) -> String {
    let mut sock = TcpStream::connect(addr).await.expect("connect");
    let head =
        format!("POST /api/fal/proxy HTTP/1.1\r\nhost: {addr}\r\n{TARGET}: {QUEUE}/fal-ai/flux/dev\r\ncontent-type: application/json\r\n{head_extra}\r\n");
    sock.write_all(head.as_bytes()).await.expect("head");
    sock.write_all(partial).await.expect("partial body");
    let mut out = Vec::new();
    // Bounded so a regression fails instead of hanging; the server answers long before.
    let _ = tokio::time::timeout(Duration::from_secs(20), async {
        let mut buf = [0u8; 1024];
        while let Ok(n) = sock.read(&mut buf).await {
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
            if out.windows(4).any(|w| w == b"\r\n\r\n") && out.ends_with(b"}") {
                break;
            }
        }
    })
    .await;
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn a_stalled_request_body_gets_408() {
    let s = common::start_with(Config { body_timeout_ms: 300, ..common::fast_config() }).await;
    let addr = s.base.trim_start_matches("http://").to_string();
    for (extra, partial) in [
        ("content-length: 100\r\n", b"{\"prompt\":".as_slice()),
        ("transfer-encoding: chunked\r\n", b"a\r\n{\"prompt\":\r\n".as_slice()),
        ("content-length: 50\r\n", b"".as_slice()),
    ] {
        let answer = stalled_body(&addr, extra, partial).await;
        assert!(answer.starts_with("HTTP/1.1 408"), "{extra}: {answer}");
        assert!(answer.to_ascii_lowercase().contains("connection: close"), "{answer}");
        let body: Value = serde_json::from_str(&answer[answer.find("\r\n\r\n").expect("head end") + 4..]).expect("json body");
        assert_eq!((body["error_type"].as_str(), body["reason"].as_str()), (Some("proxy_request_timeout"), Some("body_timeout")));
    }
    assert!(s.sim_log(0).await.is_empty(), "a stalled request never reaches the upstream");
    // A body that arrives is still fine.
    s.submit("fal-ai/flux/dev", json!({ "prompt": unique_prompt("not stalled") })).await;
}

#[tokio::test]
async fn the_sim_control_api_exists_only_without_a_key() {
    let simulated = common::start().await;
    assert_eq!(simulated.client.get(simulated.url("/__sim/config")).send().await.expect("send").status(), 200);
    let (base, _) = fake_fal(|_| async {}).await;
    let real = common::start_with(real_config(&base)).await;
    for (method, path) in [
        (Method::GET, "/__sim/config"),
        (Method::POST, "/__sim/config"),
        (Method::POST, "/__sim/faults"),
        (Method::DELETE, "/__sim/faults"),
        (Method::GET, "/__sim/log"),
        (Method::GET, "/__sim/examples"),
        (Method::GET, "/__sim/jobs"),
        (Method::GET, "/__sim/storage/config"),
        (Method::GET, "/__sim/realtime/stats"),
        (Method::PUT, "/sim/upload/0123456789abcdef0123456789abcdef"),
    ] {
        let resp = real.client.request(method.clone(), real.url(path)).json(&json!({ "latency_ms": 1 })).send().await.expect("send");
        assert!(resp.status() == 404 || resp.status() == 405, "{method} {path}: {}", resp.status());
        let text = resp.text().await.unwrap_or_default();
        assert!(!text.contains("latency_ms") && !text.contains("entries"), "{path}: {text}");
    }
}

#[tokio::test]
async fn a_key_split_across_two_chunks_is_masked_in_both_and_the_stream_is_not_held() {
    let (go_tx, go_rx) = oneshot::channel::<()>();
    let go_rx = std::sync::Arc::new(tokio::sync::Mutex::new(Some(go_rx)));
    let (base, _) = fake_fal(move |mut sock| {
        let go_rx = go_rx.clone();
        async move {
            let (first_half, second_half) = FAKE_KEY.split_at(20);
            let _ = sock.write_all(b"HTTP/1.1 500 Internal Server Error\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n").await;
            let _ = sock.write_all(&chunk(&format!("echo: {first_half}"))).await;
            let _ = sock.flush().await;
            // The second half only after the test has seen what the first chunk let through.
            if let Some(rx) = go_rx.lock().await.take() {
                let _ = rx.await;
            }
            let _ = sock.write_all(&chunk(&format!("{second_half} and the secret {FAKE_SECRET} again"))).await;
            let _ = sock.write_all(b"0\r\n\r\n").await;
        }
    })
    .await;
    let s = common::start_with(real_config(&base)).await;
    let mut resp = s.proxy(Method::GET, &format!("{QUEUE}/fal-ai/flux/requests/abc")).send().await.expect("send");
    assert_eq!(resp.status(), 500);
    // The text before the key passes at once (however it is chunked); the key's beginning waits.
    let mut first = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), async {
        while first.len() < b"echo: ".len() {
            first.extend_from_slice(&resp.chunk().await.expect("read").expect("more before the key"));
        }
    })
    .await
    .expect("the first part arrived before the upstream sent the rest");
    assert_eq!(&first[..], b"echo: ", "nothing of the key's first half got through");
    go_tx.send(()).expect("signal");
    let mut rest = Vec::new();
    while let Some(c) = resp.chunk().await.expect("read") {
        rest.extend_from_slice(&c);
    }
    let whole = format!("{}{}", String::from_utf8_lossy(&first), String::from_utf8_lossy(&rest));
    assert_eq!(whole, format!("echo: {} and the secret {} again", "*".repeat(FAKE_KEY.len()), "*".repeat(FAKE_SECRET.len())));
}

#[tokio::test]
async fn server_sent_events_from_a_real_upstream_pass_one_by_one() {
    let (go_tx, go_rx) = oneshot::channel::<()>();
    let go_rx = std::sync::Arc::new(tokio::sync::Mutex::new(Some(go_rx)));
    let (base, _) = fake_fal(move |mut sock| {
        let go_rx = go_rx.clone();
        async move {
            let _ = sock.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n").await;
            let _ = sock.write_all(&chunk("data: {\"status\":\"IN_QUEUE\"}\n\n")).await;
            if let Some(rx) = go_rx.lock().await.take() {
                let _ = rx.await;
            }
            let _ = sock.write_all(&chunk("data: {\"status\":\"COMPLETED\"}\n\n")).await;
            let _ = sock.write_all(b"0\r\n\r\n").await;
        }
    })
    .await;
    let s = common::start_with(real_config(&base)).await;
    let resp =
        s.proxy(Method::GET, &format!("{QUEUE}/fal-ai/flux/requests/abc/status/stream")).header("accept", "text/event-stream").send().await.expect("send");
    let mut sse = common::SseReader::new(resp);
    // The upstream sends the second event only after this one arrived: no buffering on the way.
    let common::SseItem::Data(first) = sse.next(Duration::from_secs(10)).await else { panic!("no first event") };
    assert_eq!(first["status"], "IN_QUEUE");
    go_tx.send(()).expect("signal");
    let common::SseItem::Data(second) = sse.next(Duration::from_secs(10)).await else { panic!("no second event") };
    assert_eq!(second["status"], "COMPLETED");
}

#[tokio::test]
async fn the_endpoint_allowlist_limits_what_the_key_is_spent_on() {
    let endpoints = Endpoints::parse("fal-ai/flux/dev, fal-ai/fast-*, fal-ai/lcm-sd15-i2i").expect("list");
    let s = common::start_with(Config { endpoints: Some(endpoints), ..common::fast_config() }).await;
    let refused = |status: u16, body: &Value| status == 403 && body["reason"] == "endpoint_not_allowed" && body["error_type"] == "proxy_target_rejected";

    // Submit and run: by the endpoint id.
    let flux = s.submit("fal-ai/flux/dev", json!({ "prompt": unique_prompt("allowed") })).await;
    s.submit("fal-ai/fast-sdxl", json!({ "prompt": unique_prompt("wildcard") })).await;
    let before = s.sim_log(0).await.len();
    for target in [format!("{QUEUE}/genwire/schema-zoo"), format!("{QUEUE}/fal-ai/flux/dev/image-to-image"), "https://fal.run/genwire/schema-zoo".into()] {
        let (status, _, body) = s.proxy_json(Method::POST, &target, Some(json!({ "prompt": "p" }))).await;
        assert!(refused(status, &body), "{target}: {status} {body}");
    }
    // Status, result and cancel: by owner/alias (202: the job is still queued or running).
    let (status, _) = s.status(&flux, false).await;
    assert_eq!(status, 202);
    let (status, _, body) = s.proxy_json(Method::GET, &format!("{QUEUE}/genwire/schema-zoo/requests/abc/status"), None).await;
    assert!(refused(status, &body), "{body}");
    let (status, _, body) = s.proxy_json(Method::PUT, &format!("{QUEUE}/genwire/schema-zoo/requests/abc/cancel"), None).await;
    assert!(refused(status, &body), "{body}");
    // Schemas: by endpoint_id.
    let (status, _, _) = s.proxy_json(Method::GET, "https://fal.ai/api/openapi/queue/openapi.json?endpoint_id=fal-ai/flux/dev", None).await;
    assert_eq!(status, 200);
    let (status, _, body) = s.proxy_json(Method::GET, "https://fal.ai/api/openapi/queue/openapi.json?endpoint_id=genwire/schema-zoo", None).await;
    assert!(refused(status, &body), "{body}");
    // Realtime tokens: by allowed_apps.
    let (status, _, _) =
        s.proxy_json(Method::POST, "https://rest.fal.ai/tokens/", Some(json!({ "allowed_apps": ["lcm-sd15-i2i"], "token_expiration": 120 }))).await;
    assert_eq!(status, 201);
    for body in [
        json!({ "allowed_apps": ["lcm-sd15-i2i", "other-app"] }),
        json!({ "allowed_apps": ["echo"] }),
        json!({ "allowed_apps": [] }),
        json!({ "token_expiration": 120 }),
    ] {
        let (status, _, answer) = s.proxy_json(Method::POST, "https://rest.fal.ai/tokens/", Some(body.clone())).await;
        assert!(refused(status, &answer), "{body}: {status} {answer}");
    }
    // Storage is not spent on an endpoint.
    let (status, _, _) =
        s.proxy_json(Method::POST, "https://rest.fal.ai/storage/upload/initiate?storage_type=fal-cdn-v3", Some(json!({ "content_type": "image/png" }))).await;
    assert_eq!(status, 200);
    let log = s.sim_log(0).await;
    let reached: Vec<String> = log[before..].iter().map(|e| e["url"].as_str().unwrap_or("").to_string()).collect();
    assert!(reached.iter().all(|u| !u.contains("schema-zoo") && !u.contains("image-to-image")), "{reached:?}");
}

#[tokio::test]
async fn the_caller_check_refuses_other_origins_and_non_browsers() {
    let callers = Callers::parse("https://app.example.com", true).expect("origins");
    let s = common::start_with(Config { callers: Some(callers), ..common::fast_config() }).await;
    let own = s.base.clone();
    let target = format!("{QUEUE}/fal-ai/flux/dev");
    let send = |headers: Vec<(&'static str, String)>| {
        let mut req = s.proxy(Method::POST, &target).json(&json!({ "prompt": unique_prompt("caller") }));
        for (k, v) in headers {
            req = req.header(k, v);
        }
        req.send()
    };
    for (headers, ok) in [
        (vec![("sec-fetch-site", "same-origin".to_string())], true),
        (vec![("sec-fetch-site", "same-origin".to_string()), ("origin", own.clone())], true),
        (vec![("origin", own.clone())], true),
        (vec![("sec-fetch-site", "cross-site".to_string()), ("origin", "https://app.example.com".to_string())], true),
        (vec![("origin", "https://APP.example.com".to_string())], true),
        (vec![], false),
        (vec![("sec-fetch-site", "cross-site".to_string())], false),
        (vec![("sec-fetch-site", "cross-site".to_string()), ("origin", "https://evil.example".to_string())], false),
        (vec![("sec-fetch-site", "same-site".to_string()), ("origin", "https://app.example.com.evil.example".to_string())], false),
        (vec![("origin", "null".to_string())], false),
        (vec![("sec-fetch-site", "none".to_string())], false),
        // An Origin that claims this host while the browser says the page is elsewhere.
        (vec![("sec-fetch-site", "cross-site".to_string()), ("origin", own.clone())], false),
    ] {
        let shown = format!("{headers:?}");
        let resp = send(headers).await.expect("send");
        if ok {
            assert_eq!(resp.status(), 200, "{shown}");
        } else {
            assert_eq!(resp.status(), 403, "{shown}");
            let body: Value = resp.json().await.expect("json");
            assert_eq!((body["error_type"].as_str(), body["reason"].as_str()), (Some("proxy_caller_rejected"), Some("origin_not_allowed")), "{shown}");
        }
    }
    let refused = s.sim_log(0).await.len();
    assert_eq!(refused, 5, "only the allowed callers reached the upstream");
}

#[test]
fn endpoint_and_origin_lists_are_checked_when_read() {
    assert!(Endpoints::parse("fal-ai/flux/dev,fal-ai/fast-*").is_ok());
    assert!(Endpoints::parse("*").is_ok());
    for bad in ["", " , ", "flux", "fal-ai//dev", "fal-ai/flux dev", "https://fal.run/fal-ai/flux"] {
        assert!(Endpoints::parse(bad).is_err(), "{bad:?}");
    }
    let c = Callers::parse("self, https://app.example.com/, http://localhost:3000", false).expect("ok");
    assert!(c.same_origin);
    assert_eq!(c.origins, ["https://app.example.com", "http://localhost:3000"]);
    for bad in ["app.example.com", "https://app.example.com/path", "ftp://x.example", "https://user@x.example", "https://x.example:"] {
        assert!(Callers::parse(bad, false).is_err(), "{bad:?}");
    }
}
