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
        // fal answers 202 while the job is queued or running, 200 once it is completed.
        assert_eq!(code, if st["status"] == "COMPLETED" { 200 } else { 202 }, "{st}");
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
    let unknown = format!("{QUEUE}/fal-ai/flux/requests/00000000-0000-4000-8000-000000000000/cancel");
    let (code, _, body) = s.proxy_json(Method::PUT, &unknown, None).await;
    assert_eq!((code, body["status"].as_str()), (404, Some("NOT_FOUND")));

    // The codes are unconfirmed by the sources: each can be set.
    let codes = json!({ "requested": 200, "already_completed": 200, "not_found": 200 });
    assert_eq!(s.sim_post("/__sim/config", json!({ "cancel_codes": codes })).await, 200);
    let (code, _, body) = s.proxy_json(Method::PUT, cancel_url, None).await;
    assert_eq!((code, body["status"].as_str()), (200, Some("ALREADY_COMPLETED")));
    let (code, _, body) = s.proxy_json(Method::PUT, &unknown, None).await;
    assert_eq!((code, body["status"].as_str()), (200, Some("NOT_FOUND")));
    let sub = s.submit("fal-ai/flux/dev", json!({ "prompt": unique_prompt("cancel 200") })).await;
    let (code, _, body) = s.proxy_json(Method::PUT, sub["cancel_url"].as_str().expect("url"), None).await;
    assert_eq!((code, body["status"].as_str()), (200, Some("CANCELLATION_REQUESTED")));
}

/// The variants of the queue answers: always 200 for status, a submit answer without `status`.
#[tokio::test]
async fn status_code_and_submit_answer_variants() {
    let s = common::start().await;
    assert_eq!(s.sim_post("/__sim/config", json!({ "status_202": false, "submit_status": false })).await, 200);
    let sub = s.submit("fal-ai/flux/dev", json!({ "prompt": unique_prompt("variants") })).await;
    assert!(sub.get("status").is_none(), "{sub}");
    assert!(sub["request_id"].is_string() && sub["status_url"].is_string() && sub["queue_position"] == 2);
    let (code, st) = s.status(&sub, false).await;
    assert_eq!((code, st["status"].as_str()), (200, Some("IN_QUEUE")));
}

/// The SSE events of an output stream, and the response head.
async fn output_stream(s: &Server, endpoint: &str, input: Value) -> (u16, reqwest::header::HeaderMap, reqwest::Response) {
    let resp =
        s.proxy(Method::POST, &format!("https://fal.run/{endpoint}/stream")).header("accept", "text/event-stream").json(&input).send().await.expect("send");
    (resp.status().as_u16(), resp.headers().clone(), resp)
}

#[tokio::test]
async fn output_streaming_sends_partials_then_the_final_event() {
    let s = common::start().await;
    let prompt = unique_prompt("llm");
    let (code, h, resp) = output_stream(&s, "fal-ai/any-llm", json!({ "prompt": prompt })).await;
    assert_eq!(code, 200);
    assert_eq!(h["content-type"], "text/event-stream");
    assert!(h["x-fal-request-id"].to_str().is_ok_and(|id| id.len() == 36));
    let mut sse = SseReader::new(resp);
    let mut events = Vec::new();
    loop {
        match sse.next(Duration::from_secs(3)).await {
            SseItem::Data(v) => events.push(v),
            SseItem::End => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    let (last, partials) = events.split_last().expect("events");
    assert!(partials.len() >= 4, "{events:?}");
    assert!(partials.iter().all(|e| e["partial"] == true && e["error"].is_null()));
    assert_eq!(last["partial"], false);
    let text = last["output"].as_str().expect("output");
    assert!(text.contains(&prompt), "{text}");
    // The same answer through the queue and a sync run.
    let sub = s.submit("fal-ai/any-llm", json!({ "prompt": prompt })).await;
    s.wait_completed(&sub).await;
    let (code, _, out) = s.result(&sub).await;
    assert_eq!((code, out), (200, last.clone()));
    let (code, _, out) = s.proxy_json(Method::POST, "https://fal.run/fal-ai/any-llm", Some(json!({ "prompt": prompt }))).await;
    assert_eq!((code, out), (200, last.clone()));

    // Invalid input: 422 at once; other endpoints and a doubled suffix have no stream.
    let (code, _, resp) = output_stream(&s, "fal-ai/any-llm", json!({ "model": "x" })).await;
    assert_eq!(code, 422);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["detail"][0]["type"], "missing");
    for endpoint in ["fal-ai/flux/dev", "fal-ai/any-llm/stream"] {
        assert_eq!(output_stream(&s, endpoint, json!({ "prompt": "x" })).await.0, 404, "{endpoint}");
    }
    let log = s.sim_log(0).await;
    assert!(log
        .iter()
        .filter(|e| e["url"].as_str().is_some_and(|u| u.ends_with("/stream") && u.starts_with("https://fal.run/")))
        .all(|e| e["step"] == "output"));
}

#[tokio::test]
async fn output_streaming_of_raw_bytes() {
    let s = common::start().await;
    let (code, h, resp) = output_stream(&s, "genwire/audio-stream", json!({ "prompt": "say something nice" })).await;
    assert_eq!((code, h["content-type"].to_str().ok()), (200, Some("audio/wav")));
    let mut resp = resp;
    let (mut bytes, mut chunks) = (Vec::new(), 0);
    while let Some(chunk) = resp.chunk().await.expect("chunk") {
        bytes.extend_from_slice(&chunk);
        chunks += 1;
    }
    assert!(chunks >= 2, "{chunks} chunks");
    assert_eq!(&bytes[..4], b"RIFF");
    assert_eq!(u32::from_le_bytes(bytes[40..44].try_into().expect("4")) as usize, bytes.len() - 44);
}

#[tokio::test]
async fn output_streaming_faults() {
    let s = common::start().await;
    // An error status instead of the stream, as the seeds' bodies.
    let prompt = unique_prompt("out-error");
    s.add_faults(&prompt, json!({ "output_error": { "example": "seed002/runner_disconnected" } })).await;
    let (code, h, _) = output_stream(&s, "fal-ai/any-llm", json!({ "prompt": prompt })).await;
    assert_eq!((code, h["x-fal-error-type"].to_str().ok()), (503, Some("runner_disconnected")));
    // Cut after two events: the connection breaks.
    let prompt = unique_prompt("out-cut");
    s.add_faults(&prompt, json!({ "output_cut_after": 2 })).await;
    let mut sse = SseReader::new(output_stream(&s, "fal-ai/any-llm", json!({ "prompt": prompt })).await.2);
    for _ in 0..2 {
        let item = sse.next(Duration::from_secs(2)).await;
        assert!(matches!(&item, SseItem::Data(v) if v["partial"] == true), "{item:?}");
    }
    let item = sse.next(Duration::from_secs(2)).await;
    assert!(matches!(item, SseItem::Broken(_)), "{item:?}");
    // Stall after one: nothing more.
    let prompt = unique_prompt("out-stall");
    s.add_faults(&prompt, json!({ "output_stall_after": 1 })).await;
    let mut sse = SseReader::new(output_stream(&s, "fal-ai/any-llm", json!({ "prompt": prompt })).await.2);
    assert!(matches!(sse.next(Duration::from_secs(2)).await, SseItem::Data(_)));
    assert!(matches!(sse.next(Duration::from_millis(600)).await, SseItem::Silent));
    // A cut before any answer.
    let prompt = unique_prompt("out-cut-head");
    s.add_faults(&prompt, json!({ "cut": "output" })).await;
    let sent = s.proxy(Method::POST, "https://fal.run/fal-ai/any-llm/stream").json(&json!({ "prompt": prompt })).send().await;
    assert!(sent.is_err());
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
    assert_eq!(code, 202);
}

#[tokio::test]
async fn submit_validates_body_and_headers() {
    let s = common::start().await;
    // The older variant: invalid input refused at submit.
    assert_eq!(s.sim_post("/__sim/config", json!({ "validation": "submit" })).await, 200);
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

/// fal's invalid input: accepted at submit, run, COMPLETED with `error`/`error_type`, and the
/// 422 answered by `result` (TanStack/ai PR 396 saw this live).
#[tokio::test]
async fn invalid_input_is_accepted_and_answered_422_by_result() {
    let s = common::start().await;
    let prompt = unique_prompt("invalid");
    let input = json!({ "prompt": prompt, "num_images": 9 });
    let sub = s.submit("fal-ai/flux/dev", input.clone()).await;
    assert_eq!(sub["status"], "IN_QUEUE");
    let done = s.wait_completed(&sub).await;
    assert_eq!(done["error"], "Input should be less than or equal to 4");
    assert_eq!(done["error_type"], "less_than_equal");
    assert_eq!(done["logs"].as_array().map(Vec::len), Some(4), "the job ran");
    let (code, h, body) = s.result(&sub).await;
    assert_eq!((code, h["x-fal-retryable"].to_str().ok()), (422, Some("false")));
    assert_eq!(h["x-fal-request-id"], sub["request_id"].as_str().expect("id"));
    let issue = &body["detail"][0];
    assert_eq!((issue["loc"].clone(), issue["type"].as_str()), (json!(["body", "num_images"]), Some("less_than_equal")));
    let job = s.sim_get(&format!("/__sim/jobs/{}", sub["request_id"].as_str().expect("id"))).await;
    assert_eq!(job["outcome"], "invalid");
    // A body that is not an object: accepted too, then `dict_type`.
    let (code, _, sub) = s.proxy_json(Method::POST, &format!("{QUEUE}/fal-ai/flux/dev"), Some(json!([1, 2]))).await;
    assert_eq!(code, 200);
    s.wait_completed(&sub).await;
    let (code, _, body) = s.result(&sub).await;
    assert_eq!((code, body["detail"][0]["type"].as_str()), (422, Some("dict_type")));
    // A synchronous run still answers the 422 directly, and makes no job.
    let (code, _, body) = s.proxy_json(Method::POST, "https://fal.run/fal-ai/flux/dev", Some(input)).await;
    assert_eq!((code, body["detail"][0]["type"].as_str()), (422, Some("less_than_equal")));
    let jobs = s.sim_get(&format!("/__sim/jobs?prompt={}", url::form_urlencoded::byte_serialize(prompt.as_bytes()).collect::<String>())).await;
    assert_eq!(jobs.as_array().map(Vec::len), Some(1));
}

/// `x-fal-request-timeout` bounds the wait before processing starts: a job still queued then
/// ends with a 504 marked `x-fal-request-timeout-type: user`; a running job is never cut.
#[tokio::test]
async fn request_timeout_bounds_only_the_wait_in_the_queue() {
    let s = common::start().await;
    let submit = |prompt: &str| {
        s.proxy(Method::POST, &format!("{QUEUE}/fal-ai/flux/dev")).header("x-fal-request-timeout", "1.1").json(&json!({ "prompt": prompt })).send()
    };
    let queued = unique_prompt("timeout-queued");
    s.add_faults(&queued, json!({ "queue_depth": 30, "latency_ms": 100 })).await;
    let sub: Value = submit(&queued).await.expect("send").json().await.expect("json");
    let running = unique_prompt("timeout-running");
    s.add_faults(&running, json!({ "queue_depth": 0, "latency_ms": 1500 })).await;
    let long: Value = submit(&running).await.expect("send").json().await.expect("json");

    let done = s.wait_completed(&sub).await;
    assert_eq!((done["error_type"].as_str(), done["error"].as_str()), (Some("request_timeout"), Some("Request timed out before processing started")));
    assert!(done["logs"].as_array().is_some_and(Vec::is_empty), "never processed: {done}");
    let (code, h, body) = s.result(&sub).await;
    assert_eq!(code, 504);
    assert_eq!((h["x-fal-error-type"].to_str().ok(), h["x-fal-request-timeout-type"].to_str().ok()), (Some("request_timeout"), Some("user")));
    assert_eq!(body, json!({ "detail": "Request timed out before processing started", "error_type": "request_timeout" }));

    let done = s.wait_completed(&long).await;
    assert!(done.get("error").is_none(), "processing started in time, so it ran to the end: {done}");
    assert_eq!(s.result(&long).await.0, 200);
}

async fn open_stream(s: &Server, sub: &Value) -> SseReader {
    let url = format!("{}/stream?logs=1", sub["status_url"].as_str().expect("url"));
    let resp = s.proxy(Method::GET, &url).header("accept", "text/event-stream").send().await.expect("send");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-cache");
    SseReader::new(resp)
}

/// Every event and keep-alive of a status stream until its end.
async fn read_stream(sse: &mut SseReader) -> (Vec<Value>, usize) {
    let (mut events, mut comments) = (Vec::new(), 0);
    loop {
        match sse.next(Duration::from_secs(3)).await {
            SseItem::Data(v) => events.push(v),
            SseItem::Comment(c) => {
                assert_eq!(c, ": keep-alive");
                comments += 1;
            }
            SseItem::End => return (events, comments),
            other => panic!("unexpected {other:?}"),
        }
    }
}

fn messages(logs: &Value) -> Vec<String> {
    logs.as_array().expect("logs").iter().map(|l| l["message"].as_str().expect("message").to_string()).collect()
}

#[tokio::test]
async fn status_stream_sends_every_change_and_keepalives() {
    let s = common::start().await;
    let prompt = unique_prompt("stream");
    s.add_faults(&prompt, json!({ "latency_ms": 600 })).await;
    let sub = s.submit("fal-ai/flux/dev", json!({ "prompt": prompt })).await;
    let mut sse = open_stream(&s, &sub).await;
    let (events, comments) = read_stream(&mut sse).await;
    let kinds: Vec<String> = events
        .iter()
        .map(|e| format!("{}{}", e["status"].as_str().unwrap_or("?"), e["queue_position"].as_u64().map(|p| format!(":{p}")).unwrap_or_default()))
        .collect();
    assert_eq!(kinds.first().map(String::as_str), Some("IN_QUEUE:2"), "{kinds:?}");
    assert!(kinds.contains(&"IN_QUEUE:1".to_string()), "{kinds:?}");
    assert_eq!(kinds.last().map(String::as_str), Some("COMPLETED"), "{kinds:?}");
    let progress = events.iter().filter(|e| e["status"] == "IN_PROGRESS").count();
    assert_eq!(progress, 4, "an event per new log line: {kinds:?}");
    // fal's stream sends only the new lines of each event: each line once, in order.
    let lines: Vec<String> = events.iter().filter(|e| e["logs"].is_array()).flat_map(|e| messages(&e["logs"])).collect();
    assert_eq!(lines, ["step 1/4", "step 2/4", "step 3/4", "step 4/4"]);
    assert!(events.iter().filter(|e| e["status"] == "IN_PROGRESS").all(|e| e["logs"].as_array().map(Vec::len) == Some(1)));
    assert_eq!(events.last().map(|e| e["logs"].clone()), Some(json!([])));
    assert!(comments >= 1, "keep-alive comments between changes");
}

/// The snapshot variant: every event carries all lines so far.
#[tokio::test]
async fn status_stream_snapshot_variant_and_many_lines() {
    let s = common::start().await;
    assert_eq!(s.sim_post("/__sim/config", json!({ "stream_logs": "snapshot" })).await, 200);
    let prompt = unique_prompt("snapshot");
    s.add_faults(&prompt, json!({ "latency_ms": 600, "queue_depth": 0, "log_lines": 30 })).await;
    let sub = s.submit("fal-ai/flux/dev", json!({ "prompt": prompt })).await;
    let mut sse = open_stream(&s, &sub).await;
    let (events, _) = read_stream(&mut sse).await;
    let expected: Vec<String> = (1..=30).map(|k| format!("step {k}/30")).collect();
    let last = events.last().expect("events");
    assert_eq!(last["status"], "COMPLETED");
    assert_eq!(messages(&last["logs"]), expected);
    let counts: Vec<usize> = events.iter().filter(|e| e["status"] == "IN_PROGRESS").map(|e| e["logs"].as_array().map_or(0, Vec::len)).collect();
    assert!(counts.windows(2).all(|w| w[0] < w[1]) && counts.last() == Some(&30), "{counts:?}");
    // Timestamps are ISO instants in order, distinct per line.
    let stamps: Vec<&str> = last["logs"].as_array().expect("logs").iter().map(|l| l["timestamp"].as_str().expect("timestamp")).collect();
    assert!(stamps.windows(2).all(|w| w[0] < w[1]) && stamps.iter().all(|t| t.len() == 24 && t.ends_with('Z')), "{stamps:?}");
    // With logs=0 events carry `logs: null` and come only when the status changes.
    let sub = s.submit("fal-ai/flux/dev", json!({ "prompt": unique_prompt("no logs") })).await;
    let url = format!("{}/stream?logs=0", sub["status_url"].as_str().expect("url"));
    let resp = s.proxy(Method::GET, &url).header("accept", "text/event-stream").send().await.expect("send");
    let (events, _) = read_stream(&mut SseReader::new(resp)).await;
    let kinds: Vec<&str> = events.iter().map(|e| e["status"].as_str().expect("status")).collect();
    assert_eq!(kinds, ["IN_QUEUE", "IN_QUEUE", "IN_PROGRESS", "COMPLETED"]);
    assert!(events.iter().skip(2).all(|e| e["logs"].is_null()));
}

/// Lines at chosen times (a quiet gap), and the polling window: `logs=1` answers only the
/// lines written within the last `log_window_ms`.
#[tokio::test]
async fn log_times_and_the_polling_window() {
    let s = common::start().await;
    assert_eq!(s.sim_post("/__sim/config", json!({ "log_window_ms": 800 })).await, 200);
    let prompt = unique_prompt("window");
    s.add_faults(&prompt, json!({ "latency_ms": 1800, "queue_depth": 0, "log_at_ms": [0, 100, 1400] })).await;
    let sub = s.submit("fal-ai/flux/dev", json!({ "prompt": prompt })).await;
    let (_, early) = s.status(&sub, true).await;
    assert_eq!(messages(&early["logs"]), ["step 1/3"]);
    tokio::time::sleep(Duration::from_millis(1150)).await;
    let (code, st) = s.status(&sub, true).await;
    assert_eq!((code, st["status"].as_str()), (202, Some("IN_PROGRESS")));
    assert_eq!(messages(&st["logs"]), Vec::<String>::new(), "both early lines slid out of the 800 ms window");
    let done = s.wait_completed(&sub).await;
    assert_eq!(messages(&done["logs"]), ["step 3/3"]);
    let job = s.sim_get(&format!("/__sim/jobs/{}", sub["request_id"].as_str().expect("id"))).await;
    assert_eq!(job["log_lines"], 3);
    // The stream is not windowed: every line once.
    assert_eq!(s.sim_post("/__sim/config", json!({ "log_window_ms": 300_000 })).await, 200);
    let prompt = unique_prompt("gaps");
    s.add_faults(&prompt, json!({ "latency_ms": 700, "queue_depth": 0, "log_at_ms": [0, 650] })).await;
    let sub = s.submit("fal-ai/flux/dev", json!({ "prompt": prompt })).await;
    let (events, comments) = read_stream(&mut open_stream(&s, &sub).await).await;
    let lines: Vec<String> = events.iter().filter(|e| e["logs"].is_array()).flat_map(|e| messages(&e["logs"])).collect();
    assert_eq!(lines, ["step 1/2", "step 2/2"]);
    assert!(comments >= 3, "keep-alives (every 100 ms) fill the quiet gap: {comments}");
}

/// A cancel reaches an open stream at once (it wakes the stream; no polling tick).
#[tokio::test]
async fn a_cancel_is_pushed_to_open_streams() {
    let s = common::start().await;
    assert_eq!(s.sim_post("/__sim/config", json!({ "keepalive_ms": 60_000 })).await, 200);
    let prompt = unique_prompt("cancel-push");
    s.add_faults(&prompt, json!({ "latency_ms": 30_000, "queue_depth": 0, "log_lines": 1 })).await;
    let sub = s.submit("fal-ai/flux/dev", json!({ "prompt": prompt })).await;
    let mut sse = open_stream(&s, &sub).await;
    assert!(matches!(sse.next(Duration::from_secs(2)).await, SseItem::Data(v) if v["status"] == "IN_PROGRESS"));
    let (code, _, _) = s.proxy_json(Method::PUT, sub["cancel_url"].as_str().expect("url"), None).await;
    assert_eq!(code, 202);
    match sse.next(Duration::from_secs(5)).await {
        SseItem::Data(v) => assert_eq!((v["status"].as_str(), v["error_type"].as_str()), (Some("COMPLETED"), Some("client_cancelled"))),
        other => panic!("expected the COMPLETED event, got {other:?}"),
    }
    assert!(matches!(sse.next(Duration::from_secs(2)).await, SseItem::End));
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
    assert_eq!(code, if st["status"] == "COMPLETED" { 200 } else { 202 }, "{st}");
}

#[tokio::test]
async fn fault_result_error_is_answered_verbatim() {
    let s = common::start().await;
    let prompt = unique_prompt("result-error");
    let body = json!({ "detail": [{ "loc": ["body", "prompt"], "msg": "flagged", "type": "content_policy_violation", "url": "https://docs.fal.ai/errors/#content_policy_violation" }] });
    s.add_faults(
        &prompt,
        json!({ "queue_depth": 0, "latency_ms": 50, "result_error": { "status": 422, "headers": { "x-fal-retryable": "false" }, "body": body } }),
    )
    .await;
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
    assert_eq!(
        (p["num_inference_steps"]["minimum"].as_u64(), p["num_inference_steps"]["maximum"].as_u64(), p["num_inference_steps"]["default"].as_u64()),
        (Some(1), Some(50), Some(28))
    );
    assert_eq!(p["seed"]["nullable"], true);
    assert_eq!(
        (p["guidance_scale"]["minimum"].as_f64(), p["guidance_scale"]["maximum"].as_f64(), p["guidance_scale"]["default"].as_f64()),
        (Some(1.0), Some(20.0), Some(3.5))
    );
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
    assert_eq!(
        config,
        json!({
            "latency_ms": 200, "queue_depth": 2, "queue_step_ms": 100, "keepalive_ms": 100,
            "stream_logs": "delta", "log_window_ms": 300_000, "log_lines": 4, "status_202": true, "validation": "result",
            "submit_status": true, "cancel_codes": { "requested": 202, "already_completed": 400, "not_found": 404 },
        })
    );
    for bad in [
        json!({ "stream_logs": "both" }),
        json!({ "cancel_codes": { "requested": 99, "already_completed": 400, "not_found": 404 } }),
        json!({ "log_lines": 10_001 }),
    ] {
        assert_eq!(s.sim_post("/__sim/config", bad.clone()).await, 400, "{bad}");
    }
    // DELETE restores the start: the timeline of the flags and fal's protocol.
    assert_eq!(s.sim_post("/__sim/config", json!({ "stream_logs": "snapshot", "keepalive_ms": 5 })).await, 200);
    let reset = s.client.delete(s.url("/__sim/config")).send().await.expect("send");
    assert_eq!(reset.status(), 200);
    assert_eq!(s.sim_get("/__sim/config").await, config);
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
