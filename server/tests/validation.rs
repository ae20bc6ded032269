//! Input validation by the simulator (docs/validation-rules.md, by genwire's core): 422s on submit
//! and sync run, the new endpoints, and the shared corpus (tests/validation/corpus.json).

mod common;

use common::{unique_prompt, Server, QUEUE};
use genwire_server::sim::{openapi, validate};
use reqwest::Method;
use serde_json::{json, Value};

const RUN: &str = "https://fal.run";

/// Deep JSON equality where numbers compare by value (`20 == 20.0`).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(i), Some(j)) => i == j,
            _ => x.as_f64() == y.as_f64(),
        },
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q)),
        (Value::Object(x), Value::Object(y)) => x.len() == y.len() && x.iter().all(|(k, p)| y.get(k).is_some_and(|q| same(p, q))),
        _ => a == b,
    }
}

fn simulated_issues(endpoint: &str, input: &Value) -> Value {
    let doc = openapi::parsed(endpoint).expect("endpoint has a document");
    json!(validate::validate(doc, input).expect("usable schema"))
}

/// POSTs `input` through the proxy and checks the 422 shape; returns its `detail`.
async fn rejected(s: &Server, target: &str, input: &Value) -> Value {
    let resp = s.proxy(Method::POST, target).json(input).send().await.expect("send");
    assert_eq!(resp.status(), 422, "{target}: {input}");
    let h = resp.headers().clone();
    assert_eq!(h["x-fal-retryable"], "false");
    assert_eq!(h["content-type"], "application/json");
    let id = h["x-fal-request-id"].to_str().expect("ascii");
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body.as_object().map(|o| o.len()), Some(1), "{body}");
    body["detail"].clone()
}

async fn jobs_with_prompt(s: &Server, prompt: &str) -> usize {
    let url = format!("/__sim/jobs?prompt={}", url::form_urlencoded::byte_serialize(prompt.as_bytes()).collect::<String>());
    s.sim_get(&url).await.as_array().map_or(0, Vec::len)
}

#[tokio::test]
async fn invalid_submit_and_run_answer_422_and_make_no_job() {
    let s = common::start().await;
    // Refused at submit: the variant (fal accepts and answers the 422 from `result`, tests/simulator.rs).
    assert_eq!(s.sim_post("/__sim/config", json!({ "validation": "submit" })).await, 200);
    let prompt = unique_prompt("invalid");
    let input = json!({ "num_images": 9, "prompt": prompt, "image_size": "1920x1080", "seed": 1.5 });
    // A union: every member reports, under its label (pydantic's smart mode).
    let expected = json!([
        { "loc": ["body", "image_size", "ImageSize"], "msg": "Input should be a valid dictionary or object to extract fields from", "type": "dict_type", "input": "1920x1080" },
        {
            "loc": ["body", "image_size", "literal['square_hd','square','portrait_4_3','portrait_16_9','landscape_4_3','landscape_16_9']"],
            "msg": "Input should be 'square_hd', 'square', 'portrait_4_3', 'portrait_16_9', 'landscape_4_3' or 'landscape_16_9'",
            "type": "one_of",
            "ctx": { "expected": ["square_hd", "square", "portrait_4_3", "portrait_16_9", "landscape_4_3", "landscape_16_9"] },
            "input": "1920x1080",
        },
        { "loc": ["body", "seed"], "msg": "Input should be a valid integer, got a number with a fractional part", "type": "int_from_float", "input": 1.5 },
        { "loc": ["body", "num_images"], "msg": "Input should be less than or equal to 4", "type": "less_than_equal", "ctx": { "le": 4 }, "input": 9 },
    ]);
    for target in [format!("{QUEUE}/fal-ai/flux/dev"), format!("{RUN}/fal-ai/flux/dev")] {
        assert_eq!(rejected(&s, &target, &input).await, expected, "{target}");
    }
    assert_eq!(jobs_with_prompt(&s, &prompt).await, 0);
    // The log shows the attempts, answered 422 without a fault.
    let log = s.sim_log(0).await;
    let answered: Vec<(&str, u64)> = log.iter().filter_map(|e| Some((e["step"].as_str()?, e["status"].as_u64()?))).collect();
    assert_eq!(answered, [("submit", 422), ("run", 422)]);
}

#[tokio::test]
async fn missing_prompt_and_non_object_bodies() {
    let s = common::start().await;
    // Refused at submit: the variant (fal accepts and answers the 422 from `result`, tests/simulator.rs).
    assert_eq!(s.sim_post("/__sim/config", json!({ "validation": "submit" })).await, 200);
    for endpoint in ["fal-ai/flux/dev", "fal-ai/fast-sdxl", "fal-ai/flux/dev/image-to-image", "genwire/schema-zoo"] {
        let detail = rejected(&s, &format!("{QUEUE}/{endpoint}"), &json!({})).await;
        assert!(
            detail.as_array().is_some_and(|d| d.contains(&json!({ "loc": ["body", "prompt"], "msg": "Field required", "type": "missing", "input": {} }))),
            "{endpoint}: {detail}"
        );
        // As FastAPI validates a body model (from_attributes), and a null body is a missing one.
        for body in [json!([1]), json!("text"), json!(7)] {
            let detail = rejected(&s, &format!("{RUN}/{endpoint}"), &body).await;
            assert_eq!(
                detail,
                json!([{ "loc": ["body"], "msg": "Input should be a valid dictionary or object to extract fields from", "type": "dict_type", "input": body }]),
                "{endpoint}"
            );
        }
        let detail = rejected(&s, &format!("{RUN}/{endpoint}"), &json!(null)).await;
        assert_eq!(detail, json!([{ "loc": ["body"], "msg": "Field required", "type": "missing", "input": null }]), "{endpoint}");
    }
    // Not JSON at all: json_invalid, also not retryable.
    let resp = s.proxy(Method::POST, &format!("{QUEUE}/fal-ai/flux/dev")).body("{nope").send().await.expect("send");
    assert_eq!((resp.status().as_u16(), resp.headers()["x-fal-retryable"].to_str().ok()), (422, Some("false")));
    let body: Value = resp.json().await.expect("json");
    assert_eq!((body["detail"][0]["type"].as_str(), body["detail"][0]["loc"].clone()), (Some("json_invalid"), json!(["body"])));
}

#[tokio::test]
async fn schema_zoo_echoes_valid_input() {
    let s = common::start().await;
    // Refused at submit: the variant (fal accepts and answers the 422 from `result`, tests/simulator.rs).
    assert_eq!(s.sim_post("/__sim/config", json!({ "validation": "submit" })).await, 200);
    let prompt = unique_prompt("zoo");
    let input = json!({ "prompt": prompt, "steps": 5, "tags": ["x"], "size": { "width": 8 }, "note": null, "seed": null });
    let sub = s.submit("genwire/schema-zoo", input.clone()).await;
    let id = sub["request_id"].as_str().expect("id");
    assert_eq!(sub["status_url"], format!("{QUEUE}/genwire/schema-zoo/requests/{id}/status"));
    s.wait_completed(&sub).await;
    let (code, _, out) = s.result(&sub).await;
    assert_eq!((code, out), (200, json!({ "ok": true, "echo": input })));
    let (code, _, out) = s.proxy_json(Method::POST, &format!("{RUN}/genwire/schema-zoo"), Some(json!({ "prompt": "abc", "steps": 10 }))).await;
    assert_eq!((code, out), (200, json!({ "ok": true, "echo": { "prompt": "abc", "steps": 10 } })));
    // Extra keys are forbidden on the zoo.
    let detail = rejected(&s, &format!("{QUEUE}/genwire/schema-zoo"), &json!({ "prompt": "abc", "steps": 5, "zz": 1 })).await;
    assert_eq!(detail, json!([{ "loc": ["body", "zz"], "msg": "Extra inputs are not permitted", "type": "extra_forbidden", "input": 1 }]));
}

#[tokio::test]
async fn image_to_image_behaves_like_flux_dev() {
    let s = common::start().await;
    let prompt = unique_prompt("i2i");
    // The input must be fetchable: a generated 1024x768 picture on this server (flux/dev's default size).
    let image_url = s.url("/sim/files/1024x768-1-0000000000000abc.png");
    let input = json!({ "image_url": image_url, "prompt": prompt, "seed": 7, "num_images": 2 });
    let sub = s.submit("fal-ai/flux/dev/image-to-image", input.clone()).await;
    let id = sub["request_id"].as_str().expect("id");
    assert_eq!(sub["response_url"], format!("{QUEUE}/fal-ai/flux/requests/{id}"));
    s.wait_completed(&sub).await;
    let (code, _, out) = s.result(&sub).await;
    assert_eq!(code, 200);
    assert_eq!((out["seed"].as_u64(), out["prompt"].as_str(), out["images"].as_array().map(Vec::len)), (Some(7), Some(prompt.as_str()), Some(2)));
    // Same prompt, seed and size as flux/dev: the same picture.
    let dev = s.submit("fal-ai/flux/dev", json!({ "prompt": prompt, "seed": 7 })).await;
    s.wait_completed(&dev).await;
    let (_, _, dev_out) = s.result(&dev).await;
    assert_eq!(dev_out["images"][0]["url"], out["images"][0]["url"]);
    let job = s.sim_get(&format!("/__sim/jobs/{id}")).await;
    assert_eq!((job["endpoint"].as_str(), job["input"].clone()), (Some("fal-ai/flux/dev/image-to-image"), input));
    let detail = rejected(&s, &format!("{RUN}/fal-ai/flux/dev/image-to-image"), &json!({ "prompt": "p", "strength": 0 })).await;
    assert_eq!(
        detail,
        json!([
            { "loc": ["body", "image_url"], "msg": "Field required", "type": "missing", "input": { "prompt": "p", "strength": 0 } },
            { "loc": ["body", "strength"], "msg": "Input should be greater than or equal to 0.01", "type": "greater_than_equal", "ctx": { "ge": 0.01 }, "input": 0 },
        ])
    );
}

#[tokio::test]
async fn new_openapi_documents_are_served() {
    let s = common::start().await;
    for (id, input) in [("fal-ai/flux/dev/image-to-image", "ImageToImageInput"), ("genwire/schema-zoo", "SchemaZooInput")] {
        let (code, _, doc) = s.proxy_json(Method::GET, &format!("https://fal.ai/api/openapi/queue/openapi.json?endpoint_id={id}"), None).await;
        assert_eq!(code, 200, "{id}");
        let path = format!("/{id}");
        assert_eq!(
            doc["paths"][path.as_str()]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"],
            format!("#/components/schemas/{input}")
        );
        assert_eq!(&doc, openapi::parsed(id).expect("known"));
    }
}

/// Every corpus case (except client-only ones) gets exactly the expected issues, from
/// `validate` and as the 422 detail of a submit through the proxy (and of a sync run).
#[tokio::test]
async fn corpus_matches_the_simulator() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/validation/corpus.json");
    let text = std::fs::read_to_string(&path).expect("corpus.json");
    let corpus: Vec<Value> = serde_json::from_str(&text).expect("corpus is JSON");
    let s = common::start().await;
    // Refused at submit: the variant (fal accepts and answers the 422 from `result`, tests/simulator.rs).
    assert_eq!(s.sim_post("/__sim/config", json!({ "validation": "submit" })).await, 200);
    let mut checked = 0;
    let mut wrong = Vec::new();
    for case in &corpus {
        if case["client_only"] == json!(true) {
            continue;
        }
        let (name, endpoint, input, expected) = (&case["name"], case["endpoint"].as_str().expect("endpoint"), &case["input"], &case["issues"]);
        checked += 1;
        let ours = simulated_issues(endpoint, input);
        if !same(&ours, expected) {
            wrong.push(format!("{name}\n  expected: {expected}\n  validate: {ours}"));
            continue;
        }
        let is_valid = expected.as_array().is_some_and(Vec::is_empty);
        let mut targets = vec![format!("{QUEUE}/{endpoint}")];
        if !is_valid {
            targets.push(format!("{RUN}/{endpoint}"));
        }
        // A valid image-to-image input is also fetched at submit: give it a picture that loads.
        let mut sent = input.clone();
        if is_valid && endpoint == "fal-ai/flux/dev/image-to-image" {
            sent["image_url"] = json!(s.url("/sim/files/512x512-3-0000000000000abc.png"));
        }
        for target in targets {
            let resp = s.proxy(Method::POST, &target).json(&sent).send().await.expect("send");
            let code = resp.status().as_u16();
            let body: Value = resp.json().await.expect("json");
            let ok = if is_valid { code == 200 && body["status"] == "IN_QUEUE" } else { code == 422 && same(&body["detail"], expected) };
            if !ok {
                wrong.push(format!("{name} via {target}\n  expected: {expected}\n  answered {code}: {body}"));
            }
        }
    }
    assert!(checked >= 40, "only {checked} corpus cases");
    assert!(wrong.is_empty(), "{} of {checked} corpus cases disagree:\n{}", wrong.len(), wrong.join("\n"));
}
