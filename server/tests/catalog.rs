//! The error catalog and the step faults that serve it, driven through the proxy.

mod common;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{unique_prompt, Server, QUEUE};
use reqwest::Method;
use serde_json::{json, Value};

const SUBMIT: &str = "https://queue.fal.run/fal-ai/flux/dev";
const RUN: &str = "https://fal.run/fal-ai/flux/dev";

/// Every name, in catalog order.
const NAMES: [&str; 57] = [
    "seed001/internal_server_error",
    "seed001/internal_server_error:not_retryable",
    "seed001/generation_timeout",
    "seed001/generation_timeout:not_retryable",
    "seed001/downstream_service_error",
    "seed001/downstream_service_error:not_retryable",
    "seed001/content_policy_violation",
    "seed001/image_too_small",
    "seed001/image_too_large",
    "seed001/image_load_error",
    "seed001/file_download_error",
    "seed001/face_detection_error",
    "seed001/file_too_large",
    "seed001/greater_than",
    "seed001/greater_than_equal",
    "seed001/less_than",
    "seed001/less_than_equal",
    "seed001/multiple_of",
    "seed001/sequence_too_short",
    "seed001/sequence_too_long",
    "seed001/one_of",
    "seed001/feature_not_supported",
    "seed001/invalid_archive",
    "seed001/archive_file_count_below_minimum",
    "seed001/archive_file_count_exceeds_maximum",
    "seed002/request_timeout",
    "seed002/startup_timeout",
    "seed002/runner_scheduling_failure",
    "seed002/runner_connection_timeout",
    "seed002/runner_disconnected",
    "seed002/runner_connection_refused",
    "seed002/runner_connection_error",
    "seed002/runner_incomplete_response",
    "seed002/runner_server_error",
    "seed002/client_disconnected",
    "seed002/client_cancelled",
    "seed002/bad_request",
    "seed002/internal_error",
    "seed004/invalid_input",
    "seed004/unauthorized",
    "seed004/forbidden",
    "seed004/model_not_found",
    "seed004/rate_limited",
    "seed004/generation_failed",
    "gateway/html_502",
    "gateway/html_504",
    "gateway/empty_503",
    "gateway/cloudflare_524",
    "gateway/truncated_json",
    "gateway/huge_500",
    "gateway/json_wrong_types",
    "gateway/detail_string_422",
    "ratelimit/retry_after_seconds",
    "ratelimit/retry_after_date",
    "ratelimit/retry_after_ms",
    "ratelimit/x_ratelimit_reset",
    "ratelimit/503_retry_after",
];

fn is_uuid_v4(id: &str) -> bool {
    uuid::Uuid::parse_str(id).is_ok_and(|u| u.get_version_num() == 4)
}

fn now_secs() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_secs_f64()
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `2025-10-23T10:30:00.000Z` (exactly this shape) to epoch seconds.
fn parse_iso_ms(s: &str) -> f64 {
    assert_eq!(s.len(), 24, "{s}");
    assert!(s.ends_with('Z') && &s[19..20] == ".", "{s}");
    let n = |r: std::ops::Range<usize>| s[r].parse::<i64>().expect("digits");
    let days = days_from_civil(n(0..4), n(5..7), n(8..10));
    (days * 86_400 + n(11..13) * 3600 + n(14..16) * 60 + n(17..19)) as f64 + n(20..23) as f64 / 1000.0
}

/// An IMF-fixdate, `Sun, 06 Nov 1994 08:49:37 GMT`, to epoch seconds.
fn parse_http_date(s: &str) -> f64 {
    let parts: Vec<&str> = s.split(' ').collect();
    assert_eq!((parts.len(), parts[5]), (6, "GMT"), "{s}");
    let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let month = months.iter().position(|m| *m == parts[2]).expect("month") as i64 + 1;
    let days = days_from_civil(parts[3].parse().expect("year"), month, parts[1].parse().expect("day"));
    let days_of_week = ["Thu,", "Fri,", "Sat,", "Sun,", "Mon,", "Tue,", "Wed,"];
    assert_eq!(parts[0], days_of_week[days.rem_euclid(7) as usize], "{s}");
    let hms: Vec<i64> = parts[4].split(':').map(|x| x.parse().expect("time")).collect();
    (days * 86_400 + hms[0] * 3600 + hms[1] * 60 + hms[2]) as f64
}

async fn examples(s: &Server) -> Vec<Value> {
    s.sim_get("/__sim/examples").await.as_array().cloned().expect("array")
}

async fn register(s: &Server, prompt: &str, faults: Value, times: u32) {
    let code = s.sim_post("/__sim/faults", json!({ "prompt": prompt, "faults": faults, "times": times })).await;
    assert_eq!(code, 200, "{faults}");
}

async fn post(s: &Server, target: &str, prompt: &str) -> Result<reqwest::Response, reqwest::Error> {
    s.proxy(Method::POST, target).json(&json!({ "prompt": prompt })).send().await
}

async fn submit_ok(s: &Server, prompt: &str) -> Value {
    let resp = post(s, SUBMIT, prompt).await.expect("send");
    assert_eq!(resp.status(), 200);
    resp.json().await.expect("json")
}

/// The URL of a job-bound step and its method.
fn step_call(sub: &Value, step: &str) -> (Method, String) {
    let base = sub["response_url"].as_str().expect("response_url");
    match step {
        "status" => (Method::GET, format!("{base}/status")),
        "stream" => (Method::GET, format!("{base}/status/stream")),
        "result" => (Method::GET, base.to_string()),
        "cancel" => (Method::PUT, format!("{base}/cancel")),
        other => panic!("not a job step: {other}"),
    }
}

/// Registers `{<step>_error: {example, count: 1}}` for a fresh prompt and makes the call
/// that gets it, through the proxy. Returns the response and the job id if one was made.
async fn serve(s: &Server, name: &str, step: &str) -> (reqwest::Response, Option<String>) {
    let prompt = unique_prompt(name);
    register(s, &prompt, json!({ format!("{step}_error"): { "example": name, "count": 1 } }), 1).await;
    match step {
        "submit" => (post(s, SUBMIT, &prompt).await.expect("send"), None),
        "run" => (post(s, RUN, &prompt).await.expect("send"), None),
        _ => {
            let sub = submit_ok(s, &prompt).await;
            let (method, url) = step_call(&sub, step);
            let resp =
                s.proxy(method, &url).header("accept", if step == "stream" { "text/event-stream" } else { "application/json" }).send().await.expect("send");
            (resp, sub["request_id"].as_str().map(str::to_owned))
        }
    }
}

#[tokio::test]
async fn catalog_lists_every_example() {
    let s = common::start().await;
    let list = examples(&s).await;
    let names: Vec<&str> = list.iter().map(|e| e["name"].as_str().expect("name")).collect();
    assert_eq!(names, NAMES);
    for e in &list {
        let name = e["name"].as_str().expect("name");
        let source = e["source"].as_str().expect("source");
        assert_eq!(name.split('/').next(), Some(source), "{name}");
        assert!(e["status"].as_u64().is_some_and(|c| (400..=599).contains(&c)), "{name}");
        assert!(["json", "text", "html", "empty", "truncated"].contains(&e["body_kind"].as_str().expect("kind")), "{name}");
        assert!(e["headers"].is_object() && e["body_bytes"].is_u64(), "{name}");
    }
    let by = |n: &str| list.iter().find(|e| e["name"] == n).cloned().expect(n);
    // The seed-002 table, status and sentence for each error_type.
    let table = [
        ("request_timeout", 504, "The request exceeded the allowed processing time."),
        ("startup_timeout", 504, "The runner did not start within the allowed time."),
        ("runner_scheduling_failure", 503, "No runner could be allocated to handle the request."),
        ("runner_connection_timeout", 503, "The connection to the runner timed out."),
        ("runner_disconnected", 503, "The runner disconnected unexpectedly during processing."),
        ("runner_connection_refused", 503, "The runner refused the connection."),
        ("runner_connection_error", 503, "A general connection error occurred with the runner."),
        ("runner_incomplete_response", 502, "The runner sent an incomplete response payload."),
        ("runner_server_error", 500, "The runner encountered an internal server error."),
        ("client_disconnected", 499, "The client closed the connection before the response was sent."),
        ("client_cancelled", 499, "The request was cancelled by the client."),
        ("bad_request", 400, "The request was malformed (e.g., invalid timeout header)."),
        ("internal_error", 500, "An unexpected internal error occurred."),
    ];
    for (kind, status, detail) in table {
        let e = by(&format!("seed002/{kind}"));
        assert_eq!(e["status"], status, "{kind}");
        assert_eq!(e["headers"], json!({ "content-type": "application/json", "x-fal-error-type": kind }));
        assert_eq!(e["body"], json!({ "detail": detail, "error_type": kind }));
    }
    // Retryability of the seed-001 types: the three "can be either" ones have both variants.
    for e in list.iter().filter(|e| e["source"] == "seed001") {
        let name = e["name"].as_str().expect("name");
        let either = ["internal_server_error", "generation_timeout", "downstream_service_error"].iter().any(|t| name == format!("seed001/{t}"));
        assert_eq!(e["headers"]["x-fal-retryable"], if either { "true" } else { "false" }, "{name}");
        assert_eq!(e["body"]["detail"].as_array().map(Vec::len), Some(1), "{name}");
        let kind = name.trim_start_matches("seed001/").trim_end_matches(":not_retryable");
        assert_eq!(e["body"]["detail"][0]["type"], kind);
        assert_eq!(e["body"]["detail"][0]["url"], format!("https://docs.fal.ai/errors/#{kind}"));
    }
    let huge = by("gateway/huge_500");
    assert_eq!((huge["body_bytes"].as_u64(), huge["body"].is_null()), (Some(3 * 1024 * 1024), true));
    assert_eq!(by("gateway/empty_503")["headers"], json!({}));
    let rate = by("seed004/rate_limited");
    let reset = parse_iso_ms(rate["body"]["resetAt"].as_str().expect("resetAt")) - now_secs();
    assert!((2.0..=3.1).contains(&reset), "resetAt is 3 s ahead: {reset}");
}

/// Each example through the proxy, at a rotating step, byte for byte.
#[tokio::test]
async fn every_example_is_served_through_the_proxy() {
    let s = common::start().await;
    let steps = ["submit", "status", "stream", "result", "cancel", "run"];
    for (i, e) in examples(&s).await.iter().enumerate() {
        let name = e["name"].as_str().expect("name");
        let step = steps[i % steps.len()];
        let (resp, job) = serve(&s, name, step).await;
        let ctx = format!("{name} at {step}");
        assert_eq!(resp.status().as_u16() as u64, e["status"].as_u64().expect("status"), "{ctx}");
        let headers = resp.headers().clone();
        let id = headers.get("x-fal-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        assert!(is_uuid_v4(&id), "{ctx}: request id {id:?}");
        if let Some(job) = job {
            assert_eq!(id, job, "{ctx}: a job's step answers with the job's id");
        }
        let mut names: Vec<&str> = headers.keys().map(|k| k.as_str()).filter(|k| !["x-fal-request-id", "transfer-encoding", "date"].contains(k)).collect();
        names.sort_unstable();
        let listed = e["headers"].as_object().expect("headers");
        let mut expected: Vec<&str> = listed.keys().map(String::as_str).collect();
        expected.sort_unstable();
        assert_eq!(names, expected, "{ctx}: exactly the listed headers");
        let body = resp.bytes().await.expect("body");
        for (k, v) in listed {
            let got = headers[k.as_str()].to_str().expect("ascii");
            match (name, k.as_str()) {
                ("ratelimit/retry_after_date", "retry-after") => {
                    let ahead = parse_http_date(got) - now_secs();
                    assert!((2.0..=4.0).contains(&ahead), "{ctx}: {got} is {ahead} s ahead");
                }
                ("ratelimit/x_ratelimit_reset", "x-ratelimit-reset") => {
                    let ahead = got.parse::<f64>().expect("epoch") - now_secs();
                    assert!((1.0..=3.0).contains(&ahead), "{ctx}: {got} is {ahead} s ahead");
                }
                _ => assert_eq!(got, v.as_str().expect("string"), "{ctx}: {k}"),
            }
        }
        match name {
            "gateway/huge_500" => {
                assert_eq!(body.len(), 3 * 1024 * 1024, "{ctx}");
                let line = e["body_preview"].as_str().expect("preview").as_bytes();
                assert!(body.chunks(line.len()).all(|c| c == line), "{ctx}: the line repeated");
            }
            "seed004/rate_limited" => {
                let v: Value = serde_json::from_slice(&body).expect("json");
                let reset = parse_iso_ms(v["resetAt"].as_str().expect("resetAt")) - now_secs();
                assert!((2.0..=3.1).contains(&reset), "{ctx}: resetAt {reset} s ahead");
                let mut listed_body = e["body"].clone();
                listed_body["resetAt"] = v["resetAt"].clone();
                assert_eq!(v, listed_body, "{ctx}");
            }
            _ => assert_eq!(String::from_utf8_lossy(&body), e["body_text"].as_str().expect("text"), "{ctx}"),
        }
        match e["body_kind"].as_str() {
            Some("empty") => assert!(body.is_empty() && !headers.contains_key("content-type"), "{ctx}"),
            Some("json") if name != "seed004/rate_limited" => assert_eq!(serde_json::from_slice::<Value>(&body).ok().as_ref(), Some(&e["body"]), "{ctx}"),
            Some("truncated") => assert!(serde_json::from_slice::<Value>(&body).is_err() && headers["content-type"] == "application/json", "{ctx}"),
            _ => {}
        }
    }
}

/// The seed-001 examples are the seed's objects, in the seed's key order, inside `detail`.
#[tokio::test]
async fn seed001_bodies_are_the_seed_examples() {
    let s = common::start().await;
    let expected = [
        (
            "seed001/image_too_small",
            r#"{"detail":[{"loc":["body","image_url"],"msg":"Image too small","type":"image_too_small","url":"https://docs.fal.ai/errors/#image_too_small","ctx":{"min_height":512,"min_width":512},"input":"https://example.com/image_100x100.jpg"}]}"#,
        ),
        (
            "seed001/one_of",
            r#"{"detail":[{"loc":["body","scheduler"],"msg":"Input should be 'EulerA' or 'DPM++'","type":"one_of","url":"https://docs.fal.ai/errors/#one_of","ctx":{"expected":["EulerA","DPM++"]},"input":"InvalidScheduler"}]}"#,
        ),
        (
            "seed001/archive_file_count_below_minimum",
            r#"{"detail":[{"loc":["body","image_archive"],"msg":"Too few files in the archive. Expected at least 10 files with extensions .jpg, .png, found 8. Add more matching files to the archive.","type":"archive_file_count_below_minimum","url":"https://docs.fal.ai/errors/#archive_file_count_below_minimum","ctx":{"min_count":10,"provided_count":8,"supported_extensions":[".jpg",".png"]},"input":"https://example.com/images_few.zip"}]}"#,
        ),
        (
            "seed001/file_too_large",
            r#"{"detail":[{"loc":["body","upload_file"],"msg":"File too large","type":"file_too_large","url":"https://docs.fal.ai/errors/#file_too_large","ctx":{"max_size":10485760},"input":"https://example.com/large_video.mp4"}]}"#,
        ),
        (
            "seed001/less_than",
            r#"{"detail":[{"loc":["body","negative_prompt_weight"],"msg":"Input should be less than 1","type":"less_than","url":"https://docs.fal.ai/errors/#less_than","ctx":{"lt":1.0},"input":1.0}]}"#,
        ),
        (
            "seed001/internal_server_error:not_retryable",
            r#"{"detail":[{"loc":["body"],"msg":"Internal server error","type":"internal_server_error","url":"https://docs.fal.ai/errors/#internal_server_error","input":{"prompt":"a cat"}}]}"#,
        ),
    ];
    for (name, body) in expected {
        let (resp, _) = serve(&s, name, "submit").await;
        let status = if name.starts_with("seed001/internal") { 500 } else { 422 };
        assert_eq!(resp.status(), status, "{name}");
        assert_eq!(resp.headers()["x-fal-retryable"], "false", "{name}");
        assert_eq!(resp.headers()["content-type"], "application/json", "{name}");
        assert_eq!(resp.text().await.expect("text"), body, "{name}");
    }
    let (resp, _) = serve(&s, "seed001/generation_timeout", "result").await;
    assert_eq!((resp.status().as_u16(), resp.headers()["x-fal-retryable"].to_str().ok()), (504, Some("true")));
}

/// A counted submit fault fails that many attempts without using up the registration,
/// which then applies to the one job that is made.
#[tokio::test]
async fn counted_submit_failures_then_one_job() {
    let s = common::start().await;
    let prompt = unique_prompt("count");
    let faults = json!({
        "submit_error": { "example": "seed002/runner_scheduling_failure", "count": 2 },
        "status_error": { "example": "ratelimit/retry_after_seconds", "count": 1 },
        "latency_ms": 50,
        "queue_depth": 0,
    });
    register(&s, &prompt, faults, 1).await;
    let since = s.sim_get("/__sim/log").await["next"].as_u64().expect("next");
    let mut failed_ids = Vec::new();
    for _ in 0..2 {
        let resp = post(&s, SUBMIT, &prompt).await.expect("send");
        assert_eq!(resp.status(), 503);
        assert_eq!(resp.headers()["x-fal-error-type"], "runner_scheduling_failure");
        failed_ids.push(resp.headers()["x-fal-request-id"].to_str().expect("id").to_string());
    }
    let sub = submit_ok(&s, &prompt).await;
    let id = sub["request_id"].as_str().expect("id");
    let jobs = s.sim_get(&format!("/__sim/jobs?prompt={}", urlencode(&prompt))).await;
    assert_eq!(jobs.as_array().map(Vec::len), Some(1), "exactly one job: {jobs}");
    assert_eq!(jobs[0]["id"], id);
    for failed in &failed_ids {
        assert_eq!(s.client.get(s.url(&format!("/__sim/jobs/{failed}"))).send().await.expect("send").status(), 404);
    }
    // The registration reached the job: its first status poll fails, the next does not.
    let (code, first) = s.status(&sub, false).await;
    assert_eq!((code, first), (429, json!({ "detail": "Rate limit exceeded" })));
    assert_eq!(s.status(&sub, false).await.0, 202, "queued or running: 202");
    let done = s.wait_completed(&sub).await;
    assert!(done.get("error").is_none());
    assert_eq!(s.result(&sub).await.0, 200);
    // times: 1 is now used up.
    let again = submit_ok(&s, &prompt).await;
    assert_eq!(s.status(&again, false).await.0, 202);

    let log = s.sim_log(since).await;
    let submits: Vec<Value> = log.iter().filter(|e| e["step"] == "submit").map(|e| e["status"].clone()).collect();
    assert_eq!(submits, [json!(503), json!(503), json!(200), json!(200)]);
    let faults: Vec<Value> = log.iter().map(|e| e["fault"].clone()).collect();
    assert_eq!(faults[..2], [json!("example:seed002/runner_scheduling_failure"), json!("example:seed002/runner_scheduling_failure")]);
    assert_eq!(faults[2], Value::Null);
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A count on the faults object applies to `cut`, `slow_ms` and `*_error` without their own.
#[tokio::test]
async fn result_errors_counted_or_final() {
    let s = common::start().await;
    // Counted: the job succeeds, the first result fetch fails, the second gets the output.
    let prompt = unique_prompt("result-count");
    register(&s, &prompt, json!({ "result_error": { "example": "gateway/html_502" }, "count": 1, "queue_depth": 0, "latency_ms": 20 }), 1).await;
    let sub = submit_ok(&s, &prompt).await;
    let done = s.wait_completed(&sub).await;
    assert!(done.get("error").is_none(), "{done}");
    let (code, h, _) = s.result(&sub).await;
    assert_eq!((code, h["content-type"].to_str().ok()), (502, Some("text/html")));
    let (code, _, out) = s.result(&sub).await;
    assert_eq!(code, 200);
    assert!(out["images"].is_array());

    // Uncounted: the job itself fails with the example's error, every fetch answers it.
    let prompt = unique_prompt("result-final");
    register(&s, &prompt, json!({ "result_error": { "example": "seed001/content_policy_violation" }, "queue_depth": 0, "latency_ms": 20 }), 1).await;
    let sub = submit_ok(&s, &prompt).await;
    let done = s.wait_completed(&sub).await;
    assert_eq!(done["error"], "The content could not be processed because it contained material flagged by a content checker.");
    for _ in 0..2 {
        let (code, h, body) = s.result(&sub).await;
        assert_eq!((code, h["x-fal-retryable"].to_str().ok()), (422, Some("false")));
        assert_eq!(h["x-fal-request-id"], sub["request_id"].as_str().expect("id"));
        assert_eq!(body["detail"][0]["type"], "content_policy_violation");
    }

    // A sync run: run_error fails attempts without making a job, then the run succeeds.
    let prompt = unique_prompt("run-count");
    register(&s, &prompt, json!({ "run_error": { "example": "seed002/runner_disconnected", "count": 1 } }), 1).await;
    assert_eq!(post(&s, RUN, &prompt).await.expect("send").status(), 503);
    assert_eq!(post(&s, RUN, &prompt).await.expect("send").status(), 200);
}

/// A cut drops the connection before any answer: reqwest (like fetch) gets an error.
#[tokio::test]
async fn cut_is_a_network_error() {
    let s = common::start().await;
    let prompt = unique_prompt("cut");
    register(&s, &prompt, json!({ "cut": "submit", "count": 2, "latency_ms": 20, "queue_depth": 0 }), 1).await;
    let since = s.sim_get("/__sim/log").await["next"].as_u64().expect("next");
    for _ in 0..2 {
        let err = post(&s, SUBMIT, &prompt).await.expect_err("cut submit");
        assert!(!err.is_status() && !err.is_timeout(), "{err:?}");
    }
    let sub = submit_ok(&s, &prompt).await;
    let jobs = s.sim_get(&format!("/__sim/jobs?prompt={}", urlencode(&prompt))).await;
    assert_eq!(jobs.as_array().map(Vec::len), Some(1));
    let log = s.sim_log(since).await;
    let seen: Vec<(Value, Value)> = log.iter().map(|e| (e["status"].clone(), e["fault"].clone())).collect();
    assert_eq!(seen, [(Value::Null, json!("cut")), (Value::Null, json!("cut")), (json!(200), Value::Null)]);

    // Status and result, every attempt (no count).
    for step in ["status", "result"] {
        let prompt = unique_prompt(step);
        register(&s, &prompt, json!({ "cut": step, "queue_depth": 0, "latency_ms": 0 }), 1).await;
        let sub = submit_ok(&s, &prompt).await;
        let (method, url) = step_call(&sub, step);
        for _ in 0..2 {
            assert!(s.proxy(method.clone(), &url).send().await.is_err(), "{step} is cut");
        }
    }
    // The server is fine afterwards.
    assert_eq!(s.status(&sub, false).await.0, 202);
}

#[tokio::test]
async fn slow_delays_the_answer() {
    let s = common::start().await;
    let prompt = unique_prompt("slow");
    register(&s, &prompt, json!({ "slow_ms": 300, "slow_step": "status", "count": 1 }), 1).await;
    let sub = submit_ok(&s, &prompt).await;
    let started = Instant::now();
    assert_eq!(s.status(&sub, false).await.0, 202);
    assert!(started.elapsed() >= Duration::from_millis(290), "first poll is slow");
    let started = Instant::now();
    assert!([200, 202].contains(&s.status(&sub, false).await.0));
    assert!(started.elapsed() < Duration::from_millis(250), "second poll is not");

    // A slow submit makes the job at once and answers late; slow + error delays the error.
    let prompt = unique_prompt("slow-submit");
    register(&s, &prompt, json!({ "slow_ms": 250, "slow_step": "submit", "submit_error": { "example": "gateway/html_504" }, "count": 1 }), 1).await;
    let started = Instant::now();
    assert_eq!(post(&s, SUBMIT, &prompt).await.expect("send").status(), 504);
    assert!(started.elapsed() >= Duration::from_millis(240));
    let started = Instant::now();
    submit_ok(&s, &prompt).await;
    assert!(started.elapsed() < Duration::from_millis(200), "count 1: the second submit is neither slow nor failing");
}

#[tokio::test]
async fn log_has_time_and_step() {
    let s = common::start().await;
    let prompt = unique_prompt("log");
    register(&s, &prompt, json!({ "queue_depth": 0, "latency_ms": 0, "slow_ms": 50, "slow_step": "result" }), 1).await;
    let since = s.sim_get("/__sim/log").await["next"].as_u64().expect("next");
    let sub = submit_ok(&s, &prompt).await;
    s.wait_completed(&sub).await;
    let stream = s.proxy(Method::GET, &format!("{}/stream", sub["status_url"].as_str().expect("url"))).send().await.expect("send");
    assert_eq!(stream.status(), 200);
    stream.bytes().await.expect("stream ends");
    s.result(&sub).await;
    s.proxy_json(Method::PUT, sub["cancel_url"].as_str().expect("url"), None).await;
    post(&s, RUN, "log run").await.expect("send");
    s.proxy_json(Method::GET, "https://fal.ai/api/openapi/queue/openapi.json?endpoint_id=fal-ai/flux/dev", None).await;
    let log = s.sim_log(since).await;
    let steps: Vec<&str> = log.iter().map(|e| e["step"].as_str().expect("step")).collect();
    let last_status = steps.iter().rposition(|s| *s == "status").expect("status polls");
    assert_eq!(steps[0], "submit");
    assert!(steps[1..=last_status].iter().all(|s| *s == "status"), "{steps:?}");
    assert_eq!(steps[last_status + 1..], ["stream", "result", "cancel", "run", "other"]);
    let times: Vec<f64> = log.iter().map(|e| e["t_ms"].as_f64().expect("t_ms")).collect();
    assert!(times.windows(2).all(|w| w[0] < w[1]), "t_ms increases: {times:?}");
    assert!(times.iter().any(|t| t.fract() != 0.0), "sub-millisecond precision: {times:?}");
    for e in &log {
        assert!(e["answer_ms"].as_f64().expect("answered") >= e["t_ms"].as_f64().expect("t_ms"));
    }
    let result = &log[last_status + 2];
    assert!(result["answer_ms"].as_f64().expect("a") - result["t_ms"].as_f64().expect("t") >= 49.0, "slow result: {result}");
    let elapsed = times[times.len() - 1] - times[0];
    assert!(elapsed > 0.0 && elapsed < 10_000.0, "milliseconds since start: {elapsed}");
}

#[tokio::test]
async fn bad_fault_registrations_are_refused() {
    let s = common::start().await;
    let bad = [
        json!({ "submit_error": { "example": "seed001/nope" } }),
        json!({ "submit_error": { "example": "seed001/one_of", "status": 500 } }),
        json!({ "submit_error": { "example": "seed001/one_of", "body": {} } }),
        json!({ "submit_error": { "count": 1 } }),
        json!({ "submit_error": { "status": 500, "extra": 1 } }),
        json!({ "cut": "other" }),
        json!({ "slow_ms": 10 }),
        json!({ "slow_step": "status" }),
    ];
    for faults in bad {
        let resp = s.client.post(s.url("/__sim/faults")).json(&json!({ "prompt": "x", "faults": faults })).send().await.expect("send");
        assert_eq!(resp.status(), 400, "{faults}");
        let body: Value = resp.json().await.expect("json");
        assert!(body["detail"].as_str().is_some_and(|d| d.starts_with("Invalid")), "{body}");
    }
    // The explicit form keeps working, with a count too.
    let prompt = unique_prompt("explicit");
    register(&s, &prompt, json!({ "submit_error": { "status": 500, "body": { "detail": "boom" }, "count": 1 } }), 1).await;
    let (code, _, body) = s.proxy_json(Method::POST, &format!("{QUEUE}/fal-ai/flux/dev"), Some(json!({ "prompt": prompt }))).await;
    assert_eq!((code, body), (500, json!({ "detail": "boom" })));
    submit_ok(&s, &prompt).await;
}
