//! The simulated fal upstream, driven through the proxy like the browser library drives it.

mod common;

use std::time::{Duration, Instant};

use common::{unique_prompt, Server, SseItem, SseReader, QUEUE};
use reqwest::Method;
use serde_json::{json, Value};

fn decode_png(bytes: &[u8]) -> (u32, u32) {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().expect("png header");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("png frame");
    (info.width, info.height)
}

async fn fetch(s: &Server, url: &str) -> (u16, Vec<u8>) {
    let resp = s.client.get(url).send().await.expect("send");
    (resp.status().as_u16(), resp.bytes().await.expect("bytes").to_vec())
}

async fn sync_run(s: &Server, input: Value) -> Value {
    let (status, _, body) = s.proxy_json(Method::POST, "https://fal.run/fal-ai/flux/dev", Some(input)).await;
    assert_eq!(status, 200, "{body}");
    body
}

fn is_uuid_v4(id: &str) -> bool {
    uuid::Uuid::parse_str(id).is_ok_and(|u| u.get_version_num() == 4)
}

#[tokio::test]
async fn job_goes_through_queue_progress_and_completion() {
    let s = common::start().await;
    let prompt = unique_prompt("lifecycle");
    let resp = s
        .proxy(Method::POST, &format!("{QUEUE}/fal-ai/flux/dev"))
        .json(&json!({ "prompt": prompt, "image_size": "square", "seed": 42 }))
        .send()
        .await
        .expect("send");
    let header_id = resp.headers().get("x-fal-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let sub: Value = resp.json().await.expect("json");
    let id = sub["request_id"].as_str().expect("id");
    assert!(is_uuid_v4(id));
    assert_eq!(header_id.as_deref(), Some(id));
    assert_eq!(sub["status"], "IN_QUEUE");
    assert_eq!(sub["queue_position"], 2);
    assert_eq!(sub["response_url"], format!("{QUEUE}/fal-ai/flux/requests/{id}"));
    assert_eq!(sub["status_url"], format!("{QUEUE}/fal-ai/flux/requests/{id}/status"));
    assert_eq!(sub["cancel_url"], format!("{QUEUE}/fal-ai/flux/requests/{id}/cancel"));

    let (status, _, early) = s.result(&sub).await;
    assert_eq!((status, early["detail"].as_str()), (400, Some("Request is still in progress")));

    let mut positions = Vec::new();
    let mut saw_progress_logs = 0;
    let done = loop {
        let (code, st) = s.status(&sub, true).await;
        assert_eq!(code, 200);
        match st["status"].as_str() {
            Some("IN_QUEUE") => {
                assert_eq!(saw_progress_logs, 0, "queue after progress");
                positions.push(st["queue_position"].as_u64().expect("position"));
            }
            Some("IN_PROGRESS") => saw_progress_logs = saw_progress_logs.max(st["logs"].as_array().expect("logs").len().max(1)),
            Some("COMPLETED") => break st,
            other => panic!("unexpected status {other:?}"),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(positions.windows(2).all(|w| w[0] >= w[1]), "positions must not grow: {positions:?}");
    assert!(positions.contains(&2) && positions.contains(&1), "{positions:?}");
    assert!(saw_progress_logs > 0, "IN_PROGRESS was observed");
    let logs = done["logs"].as_array().expect("logs");
    assert_eq!(logs.len(), 4);
    assert_eq!(logs[0]["message"], "step 1/4");
    assert_eq!(logs[3]["message"], "step 4/4");
    assert!(logs.iter().all(|l| l["level"] == "INFO" && l["source"] == "USER" && l["timestamp"].as_str().is_some_and(|t| t.ends_with('Z'))));
    assert_eq!(done["metrics"]["inference_time"], 0.2);
    assert!(done.get("error").is_none());

    let (_, no_logs) = s.status(&sub, false).await;
    assert!(no_logs["logs"].is_null());

    let (status, headers, out) = s.result(&sub).await;
    assert_eq!(status, 200);
    assert_eq!(headers["x-fal-request-id"], id);
    assert_eq!(out["seed"], 42);
    assert_eq!(out["prompt"], prompt.as_str());
    assert_eq!(out["has_nsfw_concepts"], json!([false]));
    assert_eq!(out["timings"]["inference"], 0.2);
    let image = &out["images"][0];
    assert_eq!((image["width"].as_u64(), image["height"].as_u64()), (Some(512), Some(512)));
    assert_eq!(image["content_type"], "image/png");
    let url = image["url"].as_str().expect("url");
    assert!(url.starts_with(&format!("{}/sim/files/", s.base)), "absolute URL on this server: {url}");
    let (code, png) = fetch(&s, url).await;
    assert_eq!(code, 200);
    assert_eq!(decode_png(&png), (512, 512));
}

#[tokio::test]
async fn images_are_deterministic_and_prompt_dependent() {
    let s = common::start().await;
    let size = json!({ "width": 96, "height": 64 });
    let a1 = sync_run(&s, json!({ "prompt": "a lighthouse", "seed": 7, "image_size": size })).await;
    let a2 = sync_run(&s, json!({ "prompt": "a lighthouse", "seed": 7, "image_size": size })).await;
    let b = sync_run(&s, json!({ "prompt": "a forest", "seed": 7, "image_size": size })).await;
    let url = |v: &Value| v["images"][0]["url"].as_str().expect("url").to_string();
    assert_eq!(url(&a1), url(&a2));
    let (_, png_a1) = fetch(&s, &url(&a1)).await;
    let (_, png_a2) = fetch(&s, &url(&a2)).await;
    let (_, png_b) = fetch(&s, &url(&b)).await;
    assert_eq!(png_a1, png_a2, "same prompt and seed give the same bytes");
    assert_ne!(png_a1, png_b, "another prompt gives another picture");
    assert_eq!(decode_png(&png_b), (96, 64));

    let unseeded = sync_run(&s, json!({ "prompt": "a lighthouse", "num_images": 2 })).await;
    assert_eq!(unseeded["seed"], sync_run(&s, json!({ "prompt": "a lighthouse" })).await["seed"], "seed derives from the prompt");
    let images = unseeded["images"].as_array().expect("images");
    assert_eq!(images.len(), 2);
    assert_ne!(images[0]["url"], images[1]["url"]);
    assert_eq!((images[0]["width"].as_u64(), images[0]["height"].as_u64()), (Some(1024), Some(768)), "default landscape_4_3");
    assert_eq!(unseeded["has_nsfw_concepts"], json!([false, false]));
}

#[tokio::test]
async fn large_image_renders_and_bad_file_names_are_404() {
    let s = common::start().await;
    let out = sync_run(&s, json!({ "prompt": "big", "image_size": "square_hd" })).await;
    let (code, png) = fetch(&s, out["images"][0]["url"].as_str().expect("url")).await;
    assert_eq!(code, 200);
    assert_eq!(decode_png(&png), (1024, 1024));
    for bad in ["nope.png", "0x10-1-0000000000000001.png", "10x10-1-0000000000000001.jpg", "99999x10-1-0000000000000001.png"] {
        assert_eq!(fetch(&s, &s.url(&format!("/sim/files/{bad}"))).await.0, 404, "{bad}");
    }
}

#[tokio::test]
async fn cancel_ends_the_job() {
    let s = common::start().await;
    let prompt = unique_prompt("cancel");
    s.add_faults(&prompt, json!({ "latency_ms": 5000 })).await;
    let sub = s.submit("fal-ai/flux/dev", json!({ "prompt": prompt })).await;
    let cancel_url = sub["cancel_url"].as_str().expect("url");
    let (code, _, body) = s.proxy_json(Method::PUT, cancel_url, None).await;
    assert_eq!((code, body["status"].as_str()), (202, Some("CANCELLATION_REQUESTED")));
    let (_, st) = s.status(&sub, false).await;
    assert_eq!(st["status"], "COMPLETED");
    assert_eq!(st["error_type"], "client_cancelled");
    let (code, headers, result) = s.result(&sub).await;
    assert_eq!(code, 499);
    assert_eq!(result, json!({ "detail": "Request was cancelled", "error_type": "client_cancelled" }));
    assert_eq!(headers["x-fal-error-type"], "client_cancelled");
    let (code, _, again) = s.proxy_json(Method::PUT, cancel_url, None).await;
    assert_eq!((code, again["status"].as_str()), (400, Some("ALREADY_COMPLETED")));
    let job = s.sim_get(&format!("/__sim/jobs/{}", sub["request_id"].as_str().expect("id"))).await;
    assert_eq!(job["canceled"], true);
    let (code, _, _) = s.proxy_json(Method::PUT, &format!("{QUEUE}/fal-ai/flux/requests/00000000-0000-4000-8000-000000000000/cancel"), None).await;
    assert_eq!(code, 404);
}

#[tokio::test]
async fn unknown_endpoints_and_requests_are_404() {
    let s = common::start().await;
    let (code, _, body) = s.proxy_json(Method::POST, &format!("{QUEUE}/fal-ai/nope"), Some(json!({ "prompt": "x" }))).await;
    assert_eq!((code, body["detail"].as_str()), (404, Some("Application 'fal-ai/nope' not found")));
    let (code, _, body) = s.proxy_json(Method::GET, &format!("{QUEUE}/fal-ai/flux/requests/123/status"), None).await;
    assert_eq!((code, body["detail"].as_str()), (404, Some("Request not found")));
    // A real id under another app's owner/alias is not found either.
    let sub = s.submit("fal-ai/fast-sdxl", json!({ "prompt": "x" })).await;
    let id = sub["request_id"].as_str().expect("id");
    assert_eq!(sub["status_url"], format!("{QUEUE}/fal-ai/fast-sdxl/requests/{id}/status"));
    let (code, _, _) = s.proxy_json(Method::GET, &format!("{QUEUE}/fal-ai/flux/requests/{id}/status"), None).await;
    assert_eq!(code, 404);
    let (code, _, _) = s.proxy_json(Method::GET, &format!("{QUEUE}/fal-ai/fast-sdxl/requests/{id}/status"), None).await;
    assert_eq!(code, 200);
}

#[tokio::test]
async fn submit_validates_body_and_headers() {
    let s = common::start().await;
    let target = format!("{QUEUE}/fal-ai/flux/dev");
    let (code, _, body) = s.proxy_json(Method::POST, &target, Some(json!([1, 2]))).await;
    assert_eq!(code, 422);
    assert_eq!(body["detail"][0]["loc"], json!(["body"]));
    let (code, h, body) = s.proxy_json(Method::POST, &target, Some(json!({ "image_size": "square" }))).await;
    assert_eq!(code, 422);
    assert_eq!(h["x-fal-retryable"], "false");
    let d = &body["detail"][0];
    assert_eq!((d["loc"].clone(), d["type"].as_str()), (json!(["body", "prompt"]), Some("missing")));
    assert_eq!(d["msg"], "Field required");
    assert_eq!(d["input"], json!({ "image_size": "square" }));
    let resp = s.proxy(Method::POST, &target).body("not json").send().await.expect("send");
    assert_eq!(resp.status(), 422);

    for (name, value) in [("x-fal-queue-priority", "urgent"), ("x-fal-request-timeout", "1"), ("x-fal-request-timeout", "soon")] {
        let resp = s.proxy(Method::POST, &target).header(name, value).json(&json!({ "prompt": "x" })).send().await.expect("send");
        assert_eq!(resp.status(), 400, "{name}: {value}");
        assert_eq!(resp.headers()["x-fal-error-type"], "bad_request");
        let body: Value = resp.json().await.expect("json");
        assert_eq!(body["error_type"], "bad_request");
        assert!(body["detail"].is_string());
    }
}

#[tokio::test]
async fn webhook_and_priority_are_recorded() {
    let s = common::start().await;
    let resp = s
        .proxy(Method::POST, &format!("{QUEUE}/fal-ai/flux/dev?fal_webhook=https%3A%2F%2Fexample.com%2Fhook"))
        .header("x-fal-queue-priority", "low")
        .json(&json!({ "prompt": "hooked" }))
        .send()
        .await
        .expect("send");
    let sub: Value = resp.json().await.expect("json");
    let job = s.sim_get(&format!("/__sim/jobs/{}", sub["request_id"].as_str().expect("id"))).await;
    assert_eq!(job["webhook"], "https://example.com/hook");
    assert_eq!(job["priority"], "low");
    assert_eq!(job["endpoint"], "fal-ai/flux/dev");
    assert_eq!(job["input"]["prompt"], "hooked");
    assert_eq!(job["phase"], "IN_QUEUE");
    assert_eq!(job["canceled"], false);
    assert_eq!(s.client.get(s.url("/__sim/jobs/nope")).send().await.expect("send").status(), 404);
}

#[tokio::test]
async fn request_timeout_fails_the_job() {
    let s = common::start().await;
    let prompt = unique_prompt("timeout");
    s.add_faults(&prompt, json!({ "latency_ms": 5000, "queue_depth": 0 })).await;
    let resp = s
        .proxy(Method::POST, &format!("{QUEUE}/fal-ai/flux/dev"))
        .header("x-fal-request-timeout", "1.1")
        .json(&json!({ "prompt": prompt }))
        .send()
        .await
        .expect("send");
    let sub: Value = resp.json().await.expect("json");
    let done = s.wait_completed(&sub).await;
    assert_eq!(done["error_type"], "request_timeout");
    assert_eq!(done["error"], "Request timed out");
    let (code, h, body) = s.result(&sub).await;
    assert_eq!(code, 504);
    assert_eq!(h["x-fal-error-type"], "request_timeout");
    assert_eq!(body, json!({ "detail": "Request timed out", "error_type": "request_timeout" }));
}

async fn open_stream(s: &Server, sub: &Value) -> SseReader {
    let url = format!("{}/stream?logs=1", sub["status_url"].as_str().expect("url"));
    let resp = s.proxy(Method::GET, &url).header("accept", "text/event-stream").send().await.expect("send");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-cache");
    SseReader::new(resp)
}

#[tokio::test]
async fn status_stream_sends_every_change_and_keepalives() {
    let s = common::start().await;
    let prompt = unique_prompt("stream");
    s.add_faults(&prompt, json!({ "latency_ms": 600 })).await;
    let sub = s.submit("fal-ai/flux/dev", json!({ "prompt": prompt })).await;
    let mut sse = open_stream(&s, &sub).await;
    let (mut events, mut comments) = (Vec::new(), 0);
    loop {
        match sse.next(Duration::from_secs(3)).await {
            SseItem::Data(v) => events.push(v),
            SseItem::Comment(c) => {
                assert_eq!(c, ": keep-alive");
                comments += 1;
            }
            SseItem::End => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    let kinds: Vec<String> = events.iter().map(|e| format!("{}{}", e["status"].as_str().unwrap_or("?"), e["queue_position"].as_u64().map(|p| format!(":{p}")).unwrap_or_default())).collect();
    assert_eq!(kinds.first().map(String::as_str), Some("IN_QUEUE:2"), "{kinds:?}");
    assert!(kinds.contains(&"IN_QUEUE:1".to_string()), "{kinds:?}");
    assert_eq!(kinds.last().map(String::as_str), Some("COMPLETED"), "{kinds:?}");
    let progress = events.iter().filter(|e| e["status"] == "IN_PROGRESS").count();
    assert!(progress >= 2, "a new event per new log line: {kinds:?}");
    assert_eq!(events.last().and_then(|e| e["logs"].as_array()).map(Vec::len), Some(4));
    assert!(comments >= 1, "keep-alive comments between changes");
}

#[tokio::test]
async fn fault_stream_cut_breaks_the_connection() {
    let s = common::start().await;
    let prompt = unique_prompt("cut");
    s.add_faults(&prompt, json!({ "stream_cut_after": 1 })).await;
    let sub = s.submit("fal-ai/flux/dev", json!({ "prompt": prompt })).await;
    let mut sse = open_stream(&s, &sub).await;
    assert!(matches!(sse.next(Duration::from_secs(2)).await, SseItem::Data(_)));
    loop {
        match sse.next(Duration::from_secs(2)).await {
            SseItem::Comment(_) => continue,
            SseItem::Broken(_) => break,
            other => panic!("expected a broken connection, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn fault_stream_stall_goes_silent() {
    let s = common::start().await;
    let prompt = unique_prompt("stall");
    s.add_faults(&prompt, json!({ "stream_stall_after": 1 })).await;
    let sub = s.submit("fal-ai/flux/dev", json!({ "prompt": prompt })).await;
    let mut sse = open_stream(&s, &sub).await;
    assert!(matches!(sse.next(Duration::from_secs(2)).await, SseItem::Data(_)));
    // Keep-alives come every 100 ms and the job ends in 400 ms; a stalled stream sends neither.
    assert!(matches!(sse.next(Duration::from_millis(700)).await, SseItem::Silent));
}

#[tokio::test]
async fn fault_stream_status_answers_an_error() {
    let s = common::start().await;
    let prompt = unique_prompt("stream-status");
    s.add_faults(&prompt, json!({ "stream_status": 503 })).await;
    let sub = s.submit("fal-ai/flux/dev", json!({ "prompt": prompt })).await;
    let url = format!("{}/stream", sub["status_url"].as_str().expect("url"));
    let resp = s.proxy(Method::GET, &url).header("accept", "text/event-stream").send().await.expect("send");
    assert_eq!(resp.status(), 503);
    assert_eq!(resp.headers()["x-fal-error-type"], "runner_disconnected");
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["error_type"], "runner_disconnected");
}

#[tokio::test]
async fn fault_status_delay_and_failures() {
    let s = common::start().await;
    let prompt = unique_prompt("status-faults");
    s.add_faults(&prompt, json!({ "status_delay_ms": 300, "status_fail_times": 2 })).await;
    let sub = s.submit("fal-ai/flux/dev", json!({ "prompt": prompt })).await;
    for _ in 0..2 {
        let started = Instant::now();
        let resp = s.proxy(Method::GET, sub["status_url"].as_str().expect("url")).send().await.expect("send");
        assert!(started.elapsed() >= Duration::from_millis(290), "delayed");
        assert_eq!(resp.status(), 503);
        assert_eq!(resp.headers()["x-fal-retryable"], "true");
        assert_eq!(resp.headers()["x-fal-error-type"], "runner_disconnected");
        let body: Value = resp.json().await.expect("json");
        assert_eq!(body, json!({ "detail": "Runner disconnected", "error_type": "runner_disconnected" }));
    }
    let (code, st) = s.status(&sub, false).await;
    assert_eq!(code, 200);
    assert!(st["status"].is_string());
}

#[tokio::test]
async fn fault_result_error_is_answered_verbatim() {
    let s = common::start().await;
    let prompt = unique_prompt("result-error");
    let body = json!({ "detail": [{ "loc": ["body", "prompt"], "msg": "flagged", "type": "content_policy_violation", "url": "https://docs.fal.ai/errors/#content_policy_violation" }] });
    s.add_faults(&prompt, json!({ "queue_depth": 0, "latency_ms": 50, "result_error": { "status": 422, "headers": { "x-fal-retryable": "false" }, "body": body } })).await;
    let sub = s.submit("fal-ai/flux/dev", json!({ "prompt": prompt })).await;
    let st = s.wait_completed(&sub).await;
    assert!(st["error"].is_string());
    let (code, h, got) = s.result(&sub).await;
    assert_eq!(code, 422);
    assert_eq!(h["x-fal-retryable"], "false");
    assert_eq!(got, body);

    let text_prompt = unique_prompt("result-text");
    s.add_faults(&text_prompt, json!({ "queue_depth": 0, "latency_ms": 0, "result_error": { "status": 502, "body": "<html>Bad Gateway</html>" } })).await;
    let sub = s.submit("fal-ai/flux/dev", json!({ "prompt": text_prompt })).await;
    s.wait_completed(&sub).await;
    let resp = s.proxy(Method::GET, sub["response_url"].as_str().expect("url")).send().await.expect("send");
    assert_eq!(resp.status(), 502);
    assert!(resp.headers()["content-type"].to_str().expect("ascii").starts_with("text/plain"));
    assert_eq!(resp.text().await.expect("text"), "<html>Bad Gateway</html>");
}

#[tokio::test]
async fn fault_submit_error_applies_the_given_number_of_times() {
    let s = common::start().await;
    let prompt = unique_prompt("submit-error");
    let rule = json!({ "prompt": prompt, "times": 2, "faults": { "submit_error": { "status": 503, "headers": { "x-fal-error-type": "runner_scheduling_failure", "x-fal-retryable": "true" }, "body": { "detail": "No runner", "error_type": "runner_scheduling_failure" } } } });
    assert_eq!(s.sim_post("/__sim/faults", rule).await, 200);
    let target = format!("{QUEUE}/fal-ai/flux/dev");
    for _ in 0..2 {
        let (code, h, body) = s.proxy_json(Method::POST, &target, Some(json!({ "prompt": prompt }))).await;
        assert_eq!((code, body["error_type"].as_str()), (503, Some("runner_scheduling_failure")));
        assert_eq!(h["x-fal-retryable"], "true");
    }
    let (code, _, _) = s.proxy_json(Method::POST, &target, Some(json!({ "prompt": prompt }))).await;
    assert_eq!(code, 200, "the rule was used up");

    let other = unique_prompt("cleared");
    s.add_faults(&other, json!({ "submit_error": { "status": 500 } })).await;
    assert_eq!(s.client.delete(s.url("/__sim/faults")).send().await.expect("send").status(), 200);
    assert_eq!(s.proxy_json(Method::POST, &target, Some(json!({ "prompt": other }))).await.0, 200);
    assert_eq!(s.sim_post("/__sim/faults", json!({ "prompt": "x", "faults": { "no_such_fault": 1 } })).await, 400);
}

#[tokio::test]
async fn sync_run_waits_and_answers_output_or_fault() {
    let s = common::start().await;
    let started = Instant::now();
    let out = sync_run(&s, json!({ "prompt": "sync" })).await;
    assert!(started.elapsed() >= Duration::from_millis(190), "waited for latency");
    assert_eq!(out["images"].as_array().map(Vec::len), Some(1));
    let prompt = unique_prompt("sync-error");
    s.add_faults(&prompt, json!({ "result_error": { "status": 500, "body": { "detail": "boom", "error_type": "runner_server_error" } } })).await;
    let (code, _, body) = s.proxy_json(Method::POST, "https://fal.run/fal-ai/flux/dev", Some(json!({ "prompt": prompt }))).await;
    assert_eq!((code, body["detail"].as_str()), (500, Some("boom")));
}

#[tokio::test]
async fn openapi_documents_are_served() {
    let s = common::start().await;
    let (code, _, doc) = s.proxy_json(Method::GET, "https://fal.ai/api/openapi/queue/openapi.json?endpoint_id=fal-ai/flux/dev", None).await;
    assert_eq!(code, 200);
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.0")));
    let schema = &doc["paths"]["/fal-ai/flux/dev"]["post"]["requestBody"]["content"]["application/json"]["schema"];
    assert_eq!(schema["$ref"], "#/components/schemas/FluxDevInput");
    let input = &doc["components"]["schemas"]["FluxDevInput"];
    assert_eq!(input["required"], json!(["prompt"]));
    let p = &input["properties"];
    assert_eq!(p["prompt"]["type"], "string");
    assert_eq!(p["image_size"]["default"], "landscape_4_3");
    assert_eq!(p["image_size"]["anyOf"][0]["$ref"], "#/components/schemas/ImageSize");
    assert!(p["image_size"]["anyOf"][1]["enum"].as_array().is_some_and(|e| e.len() == 6));
    assert_eq!((p["num_inference_steps"]["minimum"].as_u64(), p["num_inference_steps"]["maximum"].as_u64(), p["num_inference_steps"]["default"].as_u64()), (Some(1), Some(50), Some(28)));
    assert_eq!(p["seed"]["nullable"], true);
    assert_eq!((p["guidance_scale"]["minimum"].as_f64(), p["guidance_scale"]["maximum"].as_f64(), p["guidance_scale"]["default"].as_f64()), (Some(1.0), Some(20.0), Some(3.5)));
    assert_eq!((p["num_images"]["minimum"].as_u64(), p["num_images"]["maximum"].as_u64()), (Some(1), Some(4)));
    assert_eq!(p["enable_safety_checker"]["default"], true);
    assert_eq!(p["output_format"]["enum"], json!(["jpeg", "png"]));
    assert!(doc["components"]["schemas"]["FluxDevOutput"]["properties"]["images"].is_object());
    for path in ["/fal-ai/flux/requests/{request_id}/status", "/fal-ai/flux/requests/{request_id}/cancel", "/fal-ai/flux/requests/{request_id}"] {
        assert!(doc["paths"][path].is_object(), "{path}");
    }
    let (code, _, sdxl) = s.proxy_json(Method::GET, "https://fal.ai/api/openapi/queue/openapi.json?endpoint_id=fal-ai/fast-sdxl", None).await;
    assert_eq!(code, 200);
    assert!(sdxl["paths"]["/fal-ai/fast-sdxl"]["post"].is_object());
    let (code, _, _) = s.proxy_json(Method::GET, "https://fal.ai/api/openapi/queue/openapi.json?endpoint_id=fal-ai/unknown", None).await;
    assert_eq!(code, 404);
}

#[tokio::test]
async fn config_and_log_endpoints() {
    let s = common::start().await;
    let config = s.sim_get("/__sim/config").await;
    assert_eq!(config, json!({ "latency_ms": 200, "queue_depth": 2, "queue_step_ms": 100, "keepalive_ms": 100 }));
    assert_eq!(s.sim_post("/__sim/config", json!({ "queue_depth": 5 })).await, 200);
    assert_eq!(s.sim_get("/__sim/config").await["queue_depth"], 5);
    assert_eq!(s.sim_post("/__sim/config", json!({ "queue_dept": 5 })).await, 400);
    let sub = s.submit("fal-ai/flux/dev", json!({ "prompt": "configured" })).await;
    assert_eq!(sub["queue_position"], 5);

    s.status(&sub, false).await;
    let all = s.sim_get("/__sim/log").await;
    assert_eq!(all["next"], 2);
    let entries = all["entries"].as_array().expect("entries");
    assert_eq!(entries[0]["method"], "POST");
    assert_eq!(entries[0]["status"], 200);
    assert_eq!(entries[1]["method"], "GET");
    assert!(entries[1]["url"].as_str().is_some_and(|u| u.ends_with("/status?logs=0")));
    let later = s.sim_log(1).await;
    assert_eq!(later.len(), 1);
    assert_eq!(later[0]["seq"], 1);
}
