//! Every example of seeds 001, 002 and 004 decodes to its documented type,
//! status, retryability and ctx. Bodies are the seeds' own; expected values are
//! written from the seeds' tables, not computed by the code under test.

use super::*;
use crate::proto::retry::Call;
use crate::proto::value::Value;

const NOW: f64 = 1_761_215_400_000.0; // 2025-10-23T10:30:00Z

fn json(s: &str) -> Body {
    Body::Json(Value::from_deserializer(&mut serde_json::Deserializer::from_str(s)).expect(s))
}

fn decode(status: u16, headers: &[(&str, &str)], body: Body) -> ErrorInfo {
    let get = |n: &str| headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(n)).map(|(_, v)| v.to_string());
    decode_http(status, &get, &body, false, None, NOW)
}

fn num(v: f64) -> Value {
    Value::Num(v)
}

/// Seed 001: (type, status, the seed's example item verbatim, expected field, expected ctx).
fn seed001() -> Vec<(&'static str, u16, &'static str, &'static str, Option<Ctx>)> {
    vec![
        (
            "internal_server_error",
            500,
            r#"{ "loc": ["body"], "msg": "Internal server error", "type": "internal_server_error", "url": "https://docs.fal.ai/errors/#internal_server_error", "input": { "prompt": "a cat" } }"#,
            "",
            None,
        ),
        (
            "generation_timeout",
            504,
            r#"{ "loc": ["body"], "msg": "Generation timeout", "type": "generation_timeout", "url": "https://docs.fal.ai/errors/#generation_timeout", "input": { "prompt": "a very complex scene taking too long" } }"#,
            "",
            None,
        ),
        (
            "downstream_service_error",
            400,
            r#"{ "loc": ["body"], "msg": "Downstream service error", "type": "downstream_service_error", "url": "https://docs.fal.ai/errors/#downstream_service_error", "input": { "some_input": "value" } }"#,
            "",
            None,
        ),
        (
            "content_policy_violation",
            422,
            r#"{ "loc": ["body", "prompt"], "msg": "The content could not be processed because it contained material flagged by a content checker.", "type": "content_policy_violation", "url": "https://docs.fal.ai/errors/#content_policy_violation", "input": "a prompt containing forbidden content" }"#,
            "prompt",
            None,
        ),
        (
            "image_too_small",
            422,
            r#"{ "loc": ["body", "image_url"], "msg": "Image too small", "type": "image_too_small", "url": "https://docs.fal.ai/errors/#image_too_small", "ctx": { "min_height": 512, "min_width": 512 }, "input": "https://example.com/image_100x100.jpg" }"#,
            "image_url",
            Some(Ctx::ImageTooSmall { min_height: 512.0, min_width: 512.0 }),
        ),
        (
            "image_too_large",
            422,
            r#"{ "loc": ["body", "input_image"], "msg": "Image too large", "type": "image_too_large", "url": "https://docs.fal.ai/errors/#image_too_large", "ctx": { "max_height": 1024, "max_width": 1024 }, "input": "https://example.com/image_2000x2000.jpg" }"#,
            "input_image",
            Some(Ctx::ImageTooLarge { max_height: 1024.0, max_width: 1024.0 }),
        ),
        (
            "image_load_error",
            422,
            r#"{ "loc": ["body", "control_image"], "msg": "Image load error", "type": "image_load_error", "url": "https://docs.fal.ai/errors/#image_load_error", "input": "https://example.com/corrupted_image.webp" }"#,
            "control_image",
            None,
        ),
        (
            "file_download_error",
            422,
            r#"{ "loc": ["body", "video_url"], "msg": "File download error", "type": "file_download_error", "url": "https://docs.fal.ai/errors/#file_download_error", "input": "https://private-server.com/file.mp4" }"#,
            "video_url",
            None,
        ),
        (
            "face_detection_error",
            422,
            r#"{ "loc": ["body", "face_image"], "msg": "Could not detect face in the image", "type": "face_detection_error", "url": "https://docs.fal.ai/errors/#face_detection_error", "input": "https://example.com/landscape_no_face.jpg" }"#,
            "face_image",
            None,
        ),
        (
            "file_too_large",
            422,
            r#"{ "loc": ["body", "upload_file"], "msg": "File too large", "type": "file_too_large", "url": "https://docs.fal.ai/errors/#file_too_large", "ctx": { "max_size": 10485760 }, "input": "https://example.com/large_video.mp4" }"#,
            "upload_file",
            Some(Ctx::FileTooLarge { max_size: 10_485_760.0 }),
        ),
        (
            "greater_than",
            422,
            r#"{ "loc": ["body", "num_inference_steps"], "msg": "Input should be greater than 0", "type": "greater_than", "url": "https://docs.fal.ai/errors/#greater_than", "ctx": { "gt": 0 }, "input": 0 }"#,
            "num_inference_steps",
            Some(Ctx::GreaterThan { gt: 0.0 }),
        ),
        (
            "greater_than_equal",
            422,
            r#"{ "loc": ["body", "strength"], "msg": "Input should be greater than or equal to 0", "type": "greater_than_equal", "url": "https://docs.fal.ai/errors/#greater_than_equal", "ctx": { "ge": 0 }, "input": -0.5 }"#,
            "strength",
            Some(Ctx::GreaterThanEqual { ge: 0.0 }),
        ),
        (
            "less_than",
            422,
            r#"{ "loc": ["body", "negative_prompt_weight"], "msg": "Input should be less than 1", "type": "less_than", "url": "https://docs.fal.ai/errors/#less_than", "ctx": { "lt": 1.0 }, "input": 1.0 }"#,
            "negative_prompt_weight",
            Some(Ctx::LessThan { lt: 1.0 }),
        ),
        (
            "less_than_equal",
            422,
            r#"{ "loc": ["body", "guidance_scale"], "msg": "Input should be less than or equal to 20", "type": "less_than_equal", "url": "https://docs.fal.ai/errors/#less_than_equal", "ctx": { "le": 20 }, "input": 21 }"#,
            "guidance_scale",
            Some(Ctx::LessThanEqual { le: 20.0 }),
        ),
        (
            "multiple_of",
            422,
            r#"{ "loc": ["body", "width"], "msg": "Input should be a multiple of 8", "type": "multiple_of", "url": "https://docs.fal.ai/errors/#multiple_of", "ctx": { "multiple_of": 8 }, "input": 513 }"#,
            "width",
            Some(Ctx::MultipleOf { multiple_of: 8.0 }),
        ),
        (
            "sequence_too_short",
            422,
            r#"{ "loc": ["body", "prompts"], "msg": "Sequence should have at least 1 items", "type": "sequence_too_short", "url": "https://docs.fal.ai/errors/#sequence_too_short", "ctx": { "min_length": 1 }, "input": [] }"#,
            "prompts",
            Some(Ctx::MinLength { min_length: 1.0 }),
        ),
        (
            "sequence_too_long",
            422,
            r#"{ "loc": ["body", "controlnet_images"], "msg": "Sequence should have at most 4 items", "type": "sequence_too_long", "url": "https://docs.fal.ai/errors/#sequence_too_long", "ctx": { "max_length": 4 }, "input": ["img1.jpg", "img2.jpg", "img3.jpg", "img4.jpg", "img5.jpg"] }"#,
            "controlnet_images",
            Some(Ctx::MaxLength { max_length: 4.0 }),
        ),
        (
            "one_of",
            422,
            r#"{ "loc": ["body", "scheduler"], "msg": "Input should be 'EulerA' or 'DPM++'", "type": "one_of", "url": "https://docs.fal.ai/errors/#one_of", "ctx": { "expected": ["EulerA", "DPM++"] }, "input": "InvalidScheduler" }"#,
            "scheduler",
            Some(Ctx::OneOf { expected: vec![Value::Str("EulerA".into()), Value::Str("DPM++".into())] }),
        ),
        (
            "feature_not_supported",
            422,
            r#"{ "loc": ["body", "advanced_feature"], "msg": "Feature not supported", "type": "feature_not_supported", "url": "https://docs.fal.ai/errors/#feature_not_supported", "input": true }"#,
            "advanced_feature",
            None,
        ),
        (
            "invalid_archive",
            422,
            r#"{ "loc": ["body", "training_data"], "msg": "Could not read or process the provided archive. Ensure it's a valid, non-corrupted archive.", "type": "invalid_archive", "url": "https://docs.fal.ai/errors/#invalid_archive", "ctx": { "supported_extensions": [".zip", ".tar.gz"] }, "input": "https://example.com/corrupted_archive.rar" }"#,
            "training_data",
            Some(Ctx::InvalidArchive { supported_extensions: vec![".zip".into(), ".tar.gz".into()] }),
        ),
        (
            "archive_file_count_below_minimum",
            422,
            r#"{ "loc": ["body", "image_archive"], "msg": "Too few files in the archive. Expected at least 10 files with extensions .jpg, .png, found 8. Add more matching files to the archive.", "type": "archive_file_count_below_minimum", "url": "https://docs.fal.ai/errors/#archive_file_count_below_minimum", "ctx": { "min_count": 10, "provided_count": 8, "supported_extensions": [".jpg", ".png"] }, "input": "https://example.com/images_few.zip" }"#,
            "image_archive",
            Some(Ctx::ArchiveBelowMinimum { min_count: 10.0, provided_count: 8.0, supported_extensions: vec![".jpg".into(), ".png".into()] }),
        ),
        (
            "archive_file_count_exceeds_maximum",
            422,
            r#"{ "loc": ["body", "image_archive"], "msg": "Too many files in the archive. Maximum is 100 files with extensions .jpg, .png, found 150. Remove 50 matching files from the archive.", "type": "archive_file_count_exceeds_maximum", "url": "https://docs.fal.ai/errors/#archive_file_count_exceeds_maximum", "ctx": { "max_count": 100, "provided_count": 150, "supported_extensions": [".jpg", ".png"] }, "input": "https://example.com/images_many.zip" }"#,
            "image_archive",
            Some(Ctx::ArchiveAboveMaximum { max_count: 100.0, provided_count: 150.0, supported_extensions: vec![".jpg".into(), ".png".into()] }),
        ),
    ]
}

#[test]
fn every_seed001_example_decodes_to_its_type_status_and_ctx() {
    let rows = seed001();
    assert_eq!(rows.len(), 22, "every error type of seed 001");
    for (ty, status, item, field, ctx) in rows {
        // The seed says Retryable: false for all but the first three, which "can be" either:
        // the header decides, and without it genwire assumes the job's failure would repeat.
        let seed_retryable = match ty {
            "internal_server_error" | "generation_timeout" | "downstream_service_error" => None,
            _ => Some(false),
        };
        for header in [None, Some("true"), Some("false")] {
            let headers: Vec<(&str, &str)> = header.map(|h| vec![("X-Fal-Retryable", h)]).unwrap_or_default();
            let e = decode(status, &headers, json(&format!(r#"{{"detail":[{item}]}}"#)));
            assert_eq!(e.status, Some(status), "{ty}");
            assert_eq!(e.error_type.as_deref(), Some(ty), "{ty}");
            assert_eq!(e.issues.len(), 1, "{ty}");
            let issue = &e.issues[0];
            assert_eq!(issue.kind, ty);
            assert_eq!(issue.field, field, "{ty}");
            assert_eq!(issue.ctx, ctx, "{ty}");
            assert_eq!(issue.url.as_deref(), Some(format!("https://docs.fal.ai/errors/#{ty}").as_str()));
            assert!(issue.input.is_some(), "{ty}: input kept");
            assert_eq!(e.docs_url, issue.url, "{ty}");
            assert_eq!(e.message, issue.msg, "{ty}: the seed's msg is for people");
            let expected_retry = header.map(|h| h == "true").unwrap_or(seed_retryable.unwrap_or(false));
            assert_eq!(e.retryable, expected_retry, "{ty} with header {header:?}");
            let (kind, category) = match ty {
                "internal_server_error" => (Kind::Api, Category::Server),
                "generation_timeout" => (Kind::Api, Category::Timeout),
                "downstream_service_error" => (Kind::Api, Category::Unavailable),
                "content_policy_violation" => (Kind::Validation, Category::ContentPolicy),
                _ => (Kind::Validation, Category::Validation),
            };
            assert_eq!((e.kind, e.category), (kind, category), "{ty}");
        }
    }
}

#[test]
fn every_seed002_request_error_decodes() {
    // (error_type, the table's typical status, retryable per the seed's guidance, category)
    let rows = [
        ("request_timeout", 504, true, Category::Timeout),
        ("startup_timeout", 504, true, Category::Timeout),
        ("runner_scheduling_failure", 503, true, Category::Unavailable),
        ("runner_connection_timeout", 503, true, Category::Timeout),
        ("runner_disconnected", 503, true, Category::Unavailable),
        ("runner_connection_refused", 503, true, Category::Unavailable),
        ("runner_connection_error", 503, true, Category::Unavailable),
        ("runner_incomplete_response", 502, true, Category::Unavailable),
        ("runner_server_error", 500, false, Category::Server),
        ("client_disconnected", 499, false, Category::Cancelled),
        ("client_cancelled", 499, false, Category::Cancelled),
        ("bad_request", 400, false, Category::BadRequest),
        ("internal_error", 500, true, Category::Server),
    ];
    for (ty, status, retryable, category) in rows {
        let body = format!(r#"{{"detail": "Request failed: {ty}", "error_type": "{ty}"}}"#);
        // The type in the header alone, in the body alone, and in both.
        for headers in [vec![("X-Fal-Error-Type", ty), ("x-fal-request-id", "req-9")], vec![("x-fal-request-id", "req-9")]] {
            let e = decode(status, &headers, json(&body));
            assert_eq!((e.kind, e.category, e.retryable, e.status), (Kind::Api, category, retryable, Some(status)), "{ty}");
            assert_eq!(e.error_type.as_deref(), Some(ty));
            assert_eq!(e.message, format!("Request failed: {ty}"));
            assert_eq!(e.request_id.as_deref(), Some("req-9"));
            assert!(e.issues.is_empty());
        }
        let e = decode(status, &[("X-Fal-Error-Type", ty)], Body::Empty);
        assert_eq!((e.category, e.retryable), (category, retryable), "{ty} from the header only");
    }
    // The seed's own example.
    let e = decode(504, &[], json(r#"{ "detail": "Request timed out", "error_type": "request_timeout" }"#));
    assert_eq!((e.category, e.retryable, e.message.as_str()), (Category::Timeout, true, "Request timed out"));
}

#[test]
fn the_servers_retryable_header_wins_over_the_tables() {
    let e = decode(503, &[("X-Fal-Retryable", "false"), ("X-Fal-Error-Type", "runner_disconnected")], Body::Empty);
    assert!(!e.retryable);
    let e = decode(400, &[("X-Fal-Retryable", "TRUE")], json(r#"{"detail":"bad","error_type":"bad_request"}"#));
    assert!(e.retryable);
    // A user-set request timeout expiring would expire again.
    let e = decode(504, &[("x-fal-request-timeout-type", "user")], Body::Empty);
    assert_eq!((e.retryable, e.timeout_type.as_deref()), (false, Some("user")));
}

#[test]
fn every_seed004_example_decodes() {
    let e = decode(
        400,
        &[],
        json(
            r#"{ "error": "Invalid input", "message": "Input validation failed", "errors": [ "Missing required field: prompt", "Invalid value for image_size: must be one of [square_hd, ...]" ] }"#,
        ),
    );
    assert_eq!((e.kind, e.category, e.retryable), (Kind::Validation, Category::Validation, false));
    assert_eq!(e.issues.iter().map(|i| (i.field.as_str(), i.kind.as_str())).collect::<Vec<_>>(), [("prompt", "missing"), ("image_size", "invalid_value")]);
    assert_eq!(e.issues[0].msg, "Missing required field: prompt");
    assert_eq!(e.message, "Missing required field: prompt (and 1 more)");

    let rows: [(u16, &str, Category, bool, &str); 5] = [
        (
            401,
            r#"{ "error": "Invalid API key", "message": "Please provide a valid API key in the Authorization header" }"#,
            Category::Auth,
            false,
            "Please provide a valid API key in the Authorization header",
        ),
        (
            403,
            r#"{ "error": "Access denied", "message": "Your API key does not have access to provider: kling" }"#,
            Category::Forbidden,
            false,
            "Your API key does not have access to provider: kling",
        ),
        (
            404,
            r#"{ "error": "Model not found", "message": "Model configuration not found for flux/invalid-model" }"#,
            Category::NotFound,
            false,
            "Model configuration not found for flux/invalid-model",
        ),
        (
            429,
            r#"{ "error": "Rate limit exceeded", "message": "Rate limit exceeded. Try again in 45 seconds.", "resetAt": "2025-10-23T10:30:45.000Z" }"#,
            Category::RateLimited,
            true,
            "Rate limit exceeded. Try again in 45 seconds.",
        ),
        (
            500,
            r#"{ "error": "Generation failed", "message": "Failed to generate image: timeout" }"#,
            Category::Server,
            true,
            "Failed to generate image: timeout",
        ),
    ];
    for (status, body, category, retryable, message) in rows {
        let e = decode(status, &[], json(body));
        assert_eq!((e.kind, e.category, e.retryable, e.message.as_str()), (Kind::Api, category, retryable, message), "{status}");
    }
    let e = decode(429, &[], json(rows[3].1));
    assert_eq!(e.retry_after_ms, Some(45_000.0), "resetAt is 45 s after NOW");
}

#[test]
fn a_500_from_the_result_endpoint_is_the_jobs_failure() {
    let get = |_: &str| None;
    assert!(!decode_http(500, &get, &Body::Empty, false, Some(Call::Result), NOW).retryable);
    assert!(decode_http(500, &get, &Body::Empty, false, Some(Call::Status), NOW).retryable);
}

#[test]
fn gateways_answer_with_html_or_nothing() {
    let html = "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>";
    let e = decode(502, &[], Body::Text(html.into()));
    assert_eq!((e.kind, e.category, e.retryable), (Kind::Api, Category::Unavailable, true));
    assert!(!e.message.contains('<'), "{}", e.message);
    let e = decode(503, &[], Body::Empty);
    assert_eq!((e.category, e.retryable), (Category::Unavailable, true));
    assert_eq!(e.message, "The service is temporarily unavailable. Please try again shortly. (HTTP 503)");
    let e = decode(524, &[], Body::Text("<!DOCTYPE html>...".into()));
    assert_eq!((e.category, e.retryable), (Category::Timeout, true));
    let e = decode(500, &[], Body::Text("upstream connect error".into()));
    assert_eq!(e.message, "upstream connect error");
}

#[test]
fn detail_as_a_plain_string_and_wrong_types() {
    let e = decode(422, &[], json(r#"{"detail":"Unprocessable"}"#));
    assert_eq!((e.kind, e.category, e.message.as_str()), (Kind::Api, Category::Validation, "Unprocessable"));
    // Wrong types in known fields: kept, never fatal.
    let e = decode(422, &[], json(r#"{"detail":[{"loc":"body","msg":5,"type":["x"],"ctx":"nope"}]}"#));
    assert_eq!(e.issues.len(), 1);
    assert_eq!(e.issues[0].kind, "unknown");
    assert_eq!(e.issues[0].msg, "Invalid input");
    assert_eq!(e.issues[0].ctx, Some(Ctx::Other(Value::Str("nope".into()))));
    let e = decode(422, &[], json(r#"{"detail":[{"loc":["body","steps"],"type":"greater_than","msg":"x","ctx":{"gt":"zero"}}]}"#));
    assert!(matches!(e.issues[0].ctx, Some(Ctx::Other(_))), "mistyped ctx kept as is");
    let e = decode(422, &[], json(r#"{"detail":[{"loc":["body"],"msg":"Input should be a valid dictionary","type":"dict_type","input":[]}]}"#));
    assert_eq!((e.kind, e.category, e.issues[0].field.as_str()), (Kind::Validation, Category::Validation, ""), "the whole body is an input issue");
    let e = decode(400, &[], json(r#"[1,2,3]"#));
    assert_eq!(e.category, Category::BadRequest);
    let e = decode(422, &[], json(r#"{"detail":[{"loc":["body","a",0,"b"],"msg":"m","type":"new_type_from_the_future","ctx":{"k":1}}]}"#));
    assert_eq!((e.kind, e.issues[0].field.as_str()), (Kind::Validation, "a[0].b"));
    assert_eq!(e.issues[0].ctx, Some(Ctx::Other(Value::Obj(vec![("k".into(), num(1.0))]))), "unknown types keep ctx");
}

#[test]
fn several_issues_are_all_kept() {
    let e = decode(
        422,
        &[],
        json(
            r#"{"detail":[
        {"loc":["body","prompt"],"msg":"Field required","type":"missing"},
        {"loc":["body","image_size","width"],"msg":"Input should be less than or equal to 14142","type":"less_than_equal","ctx":{"le":14142}},
        {"loc":["body","num_images"],"msg":"Input should be less than or equal to 4","type":"less_than_equal","ctx":{"le":4}}]}"#,
        ),
    );
    assert_eq!(e.issues.iter().map(|i| i.field.as_str()).collect::<Vec<_>>(), ["prompt", "image_size.width", "num_images"]);
    assert_eq!(e.message, "Field required (and 2 more)");
}

#[test]
fn thrown_fetch_errors_of_each_browser() {
    for (name, msg) in [("TypeError", "Failed to fetch"), ("TypeError", "Load failed"), ("TypeError", "NetworkError when attempting to fetch resource.")] {
        let e = decode_thrown(name, msg);
        assert_eq!((e.kind, e.category, e.retryable), (Kind::Network, Category::Network, true), "{msg}");
    }
    assert_eq!(decode_thrown("AbortError", "The user aborted a request.").kind, Kind::Aborted);
    assert!(!decode_thrown("AbortError", "x").retryable);
    let t = decode_thrown("TimeoutError", "signal timed out");
    assert_eq!((t.kind, t.retryable), (Kind::Timeout, true));
    let odd = decode_thrown("TypeError", "Failed to execute 'fetch' on 'Window': Invalid name");
    assert_eq!((odd.category, odd.retryable), (Category::Unknown, false));
}

#[test]
fn serializes_to_the_js_shape() {
    let e = decode(
        422,
        &[("x-fal-request-id", "r1")],
        json(
            r#"{"detail":[{"loc":["body","guidance_scale"],"msg":"Input should be less than or equal to 20","type":"less_than_equal","ctx":{"le":20},"input":21}]}"#,
        ),
    );
    let js = serde_json::to_value(&e).unwrap();
    assert_eq!(js["kind"], "validation");
    assert_eq!(js["category"], "validation");
    assert_eq!(js["requestId"], "r1");
    assert_eq!(js["errorType"], "less_than_equal");
    assert_eq!(js["issues"][0]["type"], "less_than_equal");
    assert_eq!(js["issues"][0]["ctx"]["le"], 20.0);
    assert_eq!(js["issues"][0]["loc"], serde_json::json!(["body", "guidance_scale"]));
    assert_eq!(js["docsUrl"], "https://docs.fal.ai/errors/#less_than_equal");
    assert!(js.get("retryAfterMs").is_none());
}

#[test]
fn names_are_the_serialized_ones() {
    for k in [Kind::Validation, Kind::Api, Kind::Network, Kind::Timeout, Kind::Aborted, Kind::CircuitOpen, Kind::Config, Kind::Protocol] {
        assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
    }
    for c in crate::proto::facts::categories() {
        assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
    }
    for s in [Source::Server, Source::Client] {
        assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
    }
}

/// The body as the web edge hands it over: JSON if it parses, else text, empty as Empty.
fn body_of(text: &str) -> Body {
    if text.trim().is_empty() {
        return Body::Empty;
    }
    match Value::from_deserializer(&mut serde_json::Deserializer::from_str(text)) {
        Ok(v) => Body::Json(v),
        Err(_) => Body::Text(text.into()),
    }
}

fn corpus() -> Vec<serde_json::Value> {
    let corpus: serde_json::Value = serde_json::from_str(include_str!("../../../tests/errors/corpus.json")).expect("corpus.json");
    corpus.as_array().expect("an array").clone()
}

#[test]
fn every_corpus_answer_decodes_to_its_expected_meaning() {
    let cases = corpus();
    assert!(cases.len() >= 30, "at least 30 real answers, got {}", cases.len());
    let mut names = std::collections::HashSet::new();
    for case in &cases {
        let name = case["name"].as_str().expect("name");
        assert!(names.insert(name), "{name}: duplicate name");
        assert!(case["source"].as_str().is_some_and(|s| s.starts_with("https://")), "{name}: a source URL");
        let status = case["status"].as_u64().expect("status") as u16;
        let headers: Vec<(String, String)> =
            case["headers"].as_object().expect("headers").iter().map(|(k, v)| (k.clone(), v.as_str().expect("header value").to_string())).collect();
        let get = |n: &str| headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(n)).map(|(_, v)| v.clone());
        let e = decode_http(status, &get, &body_of(case["body"].as_str().expect("body text")), false, None, NOW);
        let x = &case["expect"];
        assert_eq!(e.kind.as_str(), x["kind"], "{name}: kind");
        assert_eq!(e.category.as_str(), x["category"], "{name}: category ({})", e.message);
        assert_eq!(e.retryable, x["retryable"], "{name}: retryable");
        assert_eq!(e.status, Some(status));
        if let Some(m) = x["message"].as_str() {
            assert_eq!(e.message, m, "{name}: message");
        }
        if let Some(m) = x["message_contains"].as_str() {
            assert!(e.message.contains(m), "{name}: message {:?} should contain {m:?}", e.message);
        }
        if let Some(t) = x.get("error_type") {
            assert_eq!(e.error_type.as_deref(), t.as_str(), "{name}: error_type");
        }
        match x.get("retry_after_ms").and_then(serde_json::Value::as_f64) {
            Some(ms) => assert_eq!(e.retry_after_ms, Some(ms), "{name}: retryAfterMs"),
            None => assert_eq!(e.retry_after_ms, None, "{name}: no server-named wait"),
        }
        if let Some(fields) = x["fields"].as_array() {
            let got: Vec<&str> = e.issues.iter().filter(|i| !i.field.is_empty()).map(|i| i.field.as_str()).collect();
            assert_eq!(got, fields.iter().map(|f| f.as_str().expect("field")).collect::<Vec<_>>(), "{name}: fields");
        }
        // Readable: a sentence, never markup or a JSON fragment.
        let m = &e.message;
        assert!(!m.is_empty() && m.trim() == m, "{name}: {m:?}");
        assert!(!m.starts_with('{') && !m.starts_with('[') && !m.to_ascii_lowercase().contains("<html"), "{name}: {m:?}");
    }
}

#[test]
fn every_corpus_answer_is_a_fuzz_seed() {
    // The decode_error target's input: status, call byte, 9 header values each ended by 0xFF, body.
    const HEADERS: [&str; 9] = [
        "x-fal-retryable",
        "x-fal-error-type",
        "x-fal-request-id",
        "retry-after",
        "retry-after-ms",
        "x-ratelimit-reset",
        "ratelimit-reset",
        "x-fal-request-timeout-type",
        "content-type",
    ];
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/decode_error");
    for case in corpus() {
        let name = case["name"].as_str().expect("name");
        let status = case["status"].as_u64().expect("status") as u16;
        let mut bytes = vec![(status >> 8) as u8, status as u8, 0];
        for h in HEADERS {
            let v = case["headers"].as_object().expect("headers").iter().find(|(k, _)| k.eq_ignore_ascii_case(h)).and_then(|(_, v)| v.as_str()).unwrap_or("");
            bytes.extend_from_slice(v.as_bytes());
            bytes.push(0xFF);
        }
        bytes.extend_from_slice(case["body"].as_str().expect("body").as_bytes());
        let file: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' }).collect();
        let seed = std::fs::read(dir.join(format!("corpus_{file}"))).unwrap_or_else(|_| panic!("{name}: no seed; run node tests/errors/write-fuzz-seeds.mjs"));
        assert_eq!(seed, bytes, "{name}: the seed differs from the corpus; run node tests/errors/write-fuzz-seeds.mjs");
    }
}

#[test]
fn a_body_that_cannot_be_parsed_is_never_the_message() {
    for text in [r#"{"detail":[{"loc":["bo"#, r#"{"detail":"The runner sent an incomplete response p"#, "[{\"error\": {\"code\": 4", "{}", "[]", "[1, 2"] {
        let e = decode(500, &[], Body::Text(text.into()));
        assert_eq!(e.message, "The server failed to process the request. (HTTP 500)", "{text}");
        assert_eq!((e.category, e.retryable), (Category::Server, true));
    }
    // Declared JSON that failed to parse is broken, whatever it looks like.
    let e = decode(502, &[("content-type", "application/json")], Body::Text("upstream connect error".into()));
    assert_eq!(e.message, "The service is temporarily unavailable. Please try again shortly. (HTTP 502)");
    // Text that merely starts with a bracket is still text.
    let e = decode(500, &[], Body::Text("[Errno 111] Connection refused".into()));
    assert_eq!(e.message, "[Errno 111] Connection refused");
    // A dump is not a sentence: too long, or cut by the reader.
    let e = decode(500, &[], Body::Text("x".repeat(3000)));
    assert_eq!(e.message, "The server failed to process the request. (HTTP 500)");
    let get = |_: &str| None;
    let e = decode_http(500, &get, &Body::Text("partial text".into()), true, None, NOW);
    assert_eq!(e.message, "The server failed to process the request. (HTTP 500)");
    // A JSON document inside a message field is not shown either; the next candidate is.
    let e = decode(400, &[], json(r#"{"error":{"message":"{\"error\":\"x\"}"},"errors":["The prompt is empty."]}"#));
    assert_eq!(e.message, "The prompt is empty.");
}

#[test]
fn text_is_text() {
    let key = "Invalid Key Authorization header format. Expected '<key_id>:<key_secret>'.";
    let e = decode(401, &[], json(&format!(r#"{{"detail": "{key}"}}"#)));
    assert_eq!(e.message, key);
    let e = decode(401, &[("content-type", "text/plain")], Body::Text(format!("  {key}\n")));
    assert_eq!(e.message, key, "a text body, trimmed, otherwise verbatim");
    let lines = "Line one <b>not markup</b> & \"quotes\"\nline two";
    let e = decode(400, &[], json(&serde_json::json!({ "detail": lines }).to_string()));
    assert_eq!(e.message, lines, "escape nothing, drop nothing");
    let e = decode(422, &[], json(r#"{"detail":[{"loc":["body","prompt"],"msg":"Use <tags> only","type":"value_error"}]}"#));
    assert_eq!(e.message, "Use <tags> only");
    // Only an HTML document is replaced, also when a JSON field carries one.
    let e = decode(502, &[], json(r#"{"detail":"<!DOCTYPE html><html><body>Bad gateway</body></html>"}"#));
    assert_eq!(e.message, "The service is temporarily unavailable. Please try again shortly. (HTTP 502)");
    let e = decode(502, &[("content-type", "text/html")], Body::Text("Bad gateway".into()));
    assert!(e.message.ends_with("(HTTP 502)"), "a body declared as HTML is a page");
    // A very long sentence is cut at a character boundary, with an ellipsis.
    let long = "é".repeat(2500);
    let e = decode(400, &[], json(&serde_json::json!({ "detail": long }).to_string()));
    assert_eq!(e.message.chars().count(), 2001);
    assert!(e.message.ends_with('…'));
}

#[test]
fn nested_envelopes_are_read() {
    let rows: [(u16, &str, &str, Category); 8] = [
        (400, r#"{"error":{"message":"Bad size","code":"invalid_size","status":"INVALID_ARGUMENT"}}"#, "Bad size", Category::BadRequest),
        (400, r#"{"errors":[{"message":"Width must be even","code":"bad_width"}]}"#, "Width must be even", Category::BadRequest),
        (400, r#"{"errors":["Prompt is required."]}"#, "Prompt is required.", Category::BadRequest),
        (500, r#"{"success":false,"error":{"message":"Upstream failed","code":"UPSTREAM"}}"#, "Upstream failed", Category::Server),
        (404, r#"{"detail":{"message":"No such voice"}}"#, "No such voice", Category::NotFound),
        (401, r#"{"detail":{"error":"Token expired"}}"#, "Token expired", Category::Auth),
        (422, r#"{"detail":"Invalid version","title":"Unprocessable","status":422}"#, "Invalid version", Category::Validation),
        (418, r#"{"title":"I'm a teapot","status":418}"#, "I'm a teapot", Category::BadRequest),
    ];
    for (status, body, message, category) in rows {
        let e = decode(status, &[], json(body));
        assert_eq!((e.message.as_str(), e.category), (message, category), "{body}");
    }
    let e = decode(500, &[], json(r#"{"error":{"message":"Upstream failed","code":"UPSTREAM"}}"#));
    assert_eq!(e.error_type.as_deref(), Some("UPSTREAM"), "an envelope's code is the error type");
    // A sentence in `error` is a title, not a code.
    let e = decode(401, &[], json(r#"{"error":"Invalid API key","message":"Please provide a valid key"}"#));
    assert_eq!((e.error_type, e.message.as_str()), (None, "Please provide a valid key"));
}

#[test]
fn moderation_signals_map_to_content_policy() {
    // Explicit codes in every position an API puts them.
    for body in [
        r#"{"error":{"code":"content_policy_violation","message":"m"}}"#,
        r#"{"error":{"code":"moderation_blocked","message":"m"}}"#,
        r#"{"error":{"code":"content_filter","message":"m"}}"#,
        r#"{"error":{"code":"invalid_request_error","message":"m","innererror":{"code":"ResponsibleAIPolicyViolation"}}}"#,
        r#"{"created":1703177289,"error":{"code":"contentFilter","message":"m"}}"#,
        r#"{"name":"content_moderation","errors":["m"]}"#,
        r#"{"success":false,"error":{"message":"m","code":"content_policy_violation"}}"#,
    ] {
        let e = decode(400, &[], json(body));
        assert_eq!((e.category, e.retryable, e.message.as_str()), (Category::ContentPolicy, false, "m"), "{body}");
    }
    // Wording, only on a 4xx no code explained.
    let e = decode(400, &[], json(r#"{"error":{"message":"NSFW content detected. Try again with a different prompt."}}"#));
    assert_eq!(e.category, Category::ContentPolicy);
    let e = decode(500, &[], json(r#"{"error":{"message":"The safety system crashed"}}"#));
    assert_eq!(e.category, Category::Server, "a 5xx is the server's failure, whatever it says");
    let e = decode(429, &[], json(r#"{"error":{"message":"Too many content policy checks","code":"rate_limit_exceeded"}}"#));
    assert_eq!(e.category, Category::RateLimited, "a specific code wins over wording");
    // An explicit X-Fal-Retryable still has the last word.
    let e = decode(400, &[("x-fal-retryable", "true")], json(r#"{"error":{"code":"moderation_blocked","message":"m"}}"#));
    assert!(e.retryable);
}

#[test]
fn a_user_timeout_is_never_retried_and_the_header_comes_first() {
    // fal's start timeout: 504 + `x-fal-request-timeout-type: user`, whatever the type says.
    for body in
        [Body::Empty, json(r#"{"detail":"Request timed out","error_type":"request_timeout"}"#), json(r#"{"detail":"x","error_type":"startup_timeout"}"#)]
    {
        let e = decode(504, &[("x-fal-request-timeout-type", "user")], body.clone());
        assert_eq!((e.category, e.retryable, e.timeout_type.as_deref()), (Category::Timeout, false, Some("user")));
        let e = decode(504, &[("x-fal-request-timeout-type", " User ")], body.clone());
        assert!(!e.retryable, "read leniently");
        let e = decode(504, &[("x-fal-request-timeout-type", "user"), ("x-fal-retryable", "true")], body.clone());
        assert!(e.retryable, "X-Fal-Retryable first in authority");
        let e = decode(504, &[], body);
        assert!(e.retryable, "a server-side timeout is worth another try");
    }
}

#[test]
fn statuses_other_apis_use() {
    assert_eq!(decode(402, &[], Body::Empty).category, Category::Forbidden);
    assert!(!decode(402, &[], Body::Empty).retryable);
    for s in [520, 521, 523, 529] {
        let e = decode(s, &[], Body::Empty);
        assert_eq!((e.category, e.retryable), (Category::Unavailable, true), "{s}");
    }
}
