//! The web edge in real headless Chromium (wasm-bindgen-test), against the dev
//! server started by scripts/wasm-browser-tests.sh. Whole-app behaviour through
//! the JS API is covered by the Playwright suites in tests/*.test.mjs.
#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;
use std::rc::Rc;

use genwire::web_api::GenwireClient;
use js_sys::{Reflect, JSON};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn server() -> &'static str {
    option_env!("GENWIRE_TEST_SERVER").unwrap_or("http://127.0.0.1:8787")
}

fn client() -> GenwireClient {
    let opts = JSON::parse(&format!(r#"{{"proxyUrl":"{}/api/fal/proxy"}}"#, server())).unwrap();
    GenwireClient::new(opts, None).unwrap()
}

async fn post_json(path: &str, body: &str) {
    let resp =
        gloo_net::http::Request::post(&format!("{}{path}", server())).header("content-type", "application/json").body(body).unwrap().send().await.unwrap();
    assert!(resp.ok(), "{path}: {}", resp.status());
}

fn unique(tag: &str) -> String {
    format!("{tag} {}", js_sys::Math::random())
}

/// Subscribes and returns (result, statuses seen by onQueueUpdate).
async fn subscribe(prompt: &str, extra: &str) -> (Result<JsValue, JsValue>, Vec<String>) {
    let seen = Rc::new(RefCell::new(Vec::new()));
    let sink = seen.clone();
    let on_update = Closure::<dyn FnMut(JsValue)>::new(move |u: JsValue| {
        sink.borrow_mut().push(Reflect::get(&u, &"status".into()).unwrap().as_string().unwrap());
    });
    let opts = JSON::parse(&format!(
        r#"{{"input":{{"prompt":{},"seed":7,"image_size":"square"}},"logs":true,"pollInterval":100{extra}}}"#,
        JSON::stringify(&prompt.into()).unwrap()
    ))
    .unwrap();
    Reflect::set(&opts, &"onQueueUpdate".into(), on_update.as_ref()).unwrap();
    let r = JsFuture::from(client().subscribe("fal-ai/flux/dev".into(), opts)).await;
    let statuses = seen.borrow().clone();
    (r, statuses)
}

fn assert_ordered(statuses: &[String]) {
    let rank = |s: &str| ["IN_QUEUE", "IN_PROGRESS", "COMPLETED"].iter().position(|x| *x == s).unwrap();
    assert!(statuses.windows(2).all(|w| rank(&w[0]) <= rank(&w[1])), "{statuses:?}");
    assert_eq!(statuses.first().map(String::as_str), Some("IN_QUEUE"), "{statuses:?}");
    assert!(statuses.iter().any(|s| s == "IN_PROGRESS"), "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| *s == "COMPLETED").count(), 1, "{statuses:?}");
}

fn image_url(result: &JsValue) -> String {
    let data = Reflect::get(result, &"data".into()).unwrap();
    let images = Reflect::get(&data, &"images".into()).unwrap();
    Reflect::get(&Reflect::get_u32(&images, 0).unwrap(), &"url".into()).unwrap().as_string().unwrap()
}

#[wasm_bindgen_test]
async fn subscribe_streams_to_a_result() {
    let (r, statuses) = subscribe(&unique("stream ok"), "").await;
    let result = r.expect("subscribe resolves");
    assert!(image_url(&result).ends_with(".png"));
    assert_ordered(&statuses);
}

#[wasm_bindgen_test]
async fn a_cut_stream_falls_back_to_polling() {
    let prompt = unique("cut");
    post_json("/__sim/faults", &format!(r#"{{"prompt":"{prompt}","faults":{{"stream_cut_after":2}}}}"#)).await;
    let (r, statuses) = subscribe(&prompt, "").await;
    assert!(image_url(&r.expect("result through polling")).ends_with(".png"));
    assert_ordered(&statuses);
}

#[wasm_bindgen_test]
async fn a_stalled_stream_falls_back_to_polling() {
    let prompt = unique("stall");
    post_json("/__sim/faults", &format!(r#"{{"prompt":"{prompt}","faults":{{"stream_stall_after":1}}}}"#)).await;
    let (r, statuses) = subscribe(&prompt, r#","streamStallTimeout":400"#).await;
    assert!(image_url(&r.expect("result through polling")).ends_with(".png"));
    assert_ordered(&statuses);
}

#[wasm_bindgen_test]
async fn a_key_in_the_options_is_refused() {
    let opts = JSON::parse(r#"{"proxyUrl":"/api/fal/proxy","credentials":"fal-secret"}"#).unwrap();
    let err = GenwireClient::new(opts, None).err().expect("refused");
    assert_eq!(Reflect::get(&err, &"kind".into()).unwrap().as_string().as_deref(), Some("config"));
}

#[wasm_bindgen_test]
async fn timeout_rejects_and_cancels_upstream() {
    let prompt = unique("slow");
    post_json("/__sim/faults", &format!(r#"{{"prompt":"{prompt}","faults":{{"latency_ms":20000}}}}"#)).await;
    let (r, _) = subscribe(&prompt, r#","timeout":500"#).await;
    let err = r.expect_err("times out");
    assert_eq!(Reflect::get(&err, &"kind".into()).unwrap().as_string().as_deref(), Some("timeout"));
}
