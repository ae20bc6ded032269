//! `/__sim/upstream`: the simulator reached directly, as fal's hosts would be by another proxy
//! (the caller brings the key itself), never through genwire's own proxy.

mod common;

use std::time::Duration;

use common::{unique_prompt, Server};
use reqwest::Method;
use serde_json::{json, Value};

const HOST: &str = "x-genwire-upstream-host";

fn direct(s: &Server, method: Method, host: &str, path: &str) -> reqwest::RequestBuilder {
    s.client.request(method, s.url(&format!("/__sim/upstream{path}"))).header(HOST, host)
}

async fn json_of(resp: reqwest::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

fn key() -> String {
    format!("Key {}", genwire_server::sim_key())
}

#[tokio::test]
async fn a_job_through_the_direct_upstream_as_fal_receives_it() {
    let s = common::start().await;
    let prompt = unique_prompt("direct");
    let since = s.sim_get("/__sim/log?since=0").await["next"].as_u64().expect("next");
    let resp = direct(&s, Method::POST, "queue.fal.run", "/fal-ai/flux/dev?fal_webhook=https%3A%2F%2Fexample.com%2Fh")
        .header("authorization", key())
        .header("x-fal-client-proxy", "@fal-ai/server-proxy/express")
        .json(&json!({ "prompt": prompt }))
        .send()
        .await
        .expect("send");
    let (status, submitted) = json_of(resp).await;
    assert!(status == 200 || status == 202, "{status} {submitted}");
    assert_eq!(submitted["status"], "IN_QUEUE");
    let id = submitted["request_id"].as_str().expect("id").to_string();

    let log = s.sim_log(since).await;
    let entry = &log[0];
    assert_eq!(entry["url"], "https://queue.fal.run/fal-ai/flux/dev?fal_webhook=https%3A%2F%2Fexample.com%2Fh");
    assert_eq!(entry["method"], "POST");
    assert_eq!(entry["step"], "submit");
    assert_eq!(entry["headers"]["authorization"], "<redacted:present>");
    assert_eq!(entry["headers"]["x-fal-client-proxy"], "@fal-ai/server-proxy/express");
    assert_eq!(entry["headers"]["host"], "queue.fal.run");
    assert!(entry["headers"].get(HOST).is_none(), "{entry}");
    let job = s.sim_get(&format!("/__sim/jobs/{id}")).await;
    assert_eq!(job["webhook"], "https://example.com/h");

    // Status and result by the URLs the submit answer named, on the same route.
    for _ in 0..200 {
        let path = format!("/fal-ai/flux/requests/{id}/status");
        let (code, st) = json_of(direct(&s, Method::GET, "queue.fal.run", &path).header("authorization", key()).send().await.expect("send")).await;
        assert!(code == 200 || code == 202, "{code} {st}");
        if st["status"] == "COMPLETED" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let path = format!("/fal-ai/flux/requests/{id}");
    let (code, out) = json_of(direct(&s, Method::GET, "queue.fal.run", &path).header("authorization", key()).send().await.expect("send")).await;
    assert_eq!(code, 200, "{out}");
    // Files are served by this server, on the address the caller used.
    let image = out["images"][0]["url"].as_str().expect("url");
    assert!(image.starts_with(&format!("{}/sim/files/", s.base)), "{image}");
}

#[tokio::test]
async fn the_key_is_checked_and_the_host_must_be_fals() {
    let s = common::start().await;
    let (code, body) = json_of(direct(&s, Method::POST, "fal.run", "/fal-ai/flux/dev").json(&json!({ "prompt": "x" })).send().await.expect("send")).await;
    assert_eq!(code, 401, "{body}");
    let wrong = direct(&s, Method::POST, "fal.run", "/fal-ai/flux/dev").header("authorization", "Key nope").json(&json!({ "prompt": "x" }));
    assert_eq!(json_of(wrong.send().await.expect("send")).await.0, 401);
    for host in ["evil.com", "fal.run.evil.com", ""] {
        let (code, body) = json_of(direct(&s, Method::GET, host, "/x").header("authorization", key()).send().await.expect("send")).await;
        assert_eq!(code, 400, "{host}: {body}");
    }
    let missing = s.client.get(s.url("/__sim/upstream/fal-ai/flux/dev")).header("authorization", key()).send().await.expect("send");
    assert_eq!(missing.status().as_u16(), 400);
}

#[tokio::test]
async fn uploads_initiated_directly_point_at_this_server() {
    let s = common::start().await;
    let resp = direct(&s, Method::POST, "rest.fal.ai", "/storage/upload/initiate?storage_type=fal-cdn-v3")
        .header("authorization", key())
        .json(&json!({ "content_type": "text/plain", "file_name": "a.txt" }))
        .send()
        .await
        .expect("send");
    let (code, body) = json_of(resp).await;
    assert_eq!(code, 200, "{body}");
    let upload = body["upload_url"].as_str().expect("upload_url");
    assert!(upload.starts_with(&format!("{}/sim/upload/", s.base)), "{upload}");
    let put = s.client.put(upload).header("content-type", "text/plain").body("hello").send().await.expect("put");
    assert_eq!(put.status().as_u16(), 200);
    let file = s.client.get(body["file_url"].as_str().expect("file_url")).send().await.expect("get");
    assert_eq!(file.text().await.expect("text"), "hello");
}

#[tokio::test]
async fn not_served_against_real_fal() {
    let config = genwire_server::Config { fal_key: Some("k:secret-for-test".into()), ..common::fast_config() };
    let s = common::start_with(config).await;
    let resp = direct(&s, Method::GET, "queue.fal.run", "/fal-ai/flux/requests/x/status").send().await.expect("send");
    assert_eq!(resp.status().as_u16(), 404, "the static files answer, not the simulator");
}

#[tokio::test]
async fn answers_as_fal_not_as_the_dev_servers_cors() {
    let config = genwire_server::Config { cors_any: true, ..common::fast_config() };
    let s = common::start_with(config).await;
    let resp = direct(&s, Method::GET, "queue.fal.run", "/fal-ai/flux/requests/x/status")
        .header("authorization", key())
        .header("origin", "http://page.test")
        .send()
        .await
        .expect("send");
    assert!(resp.headers().get("access-control-allow-origin").is_none(), "{:?}", resp.headers());
    let page = s.client.get(s.url("/__sim/config")).header("origin", "http://page.test").send().await.expect("send");
    assert!(page.headers().get("access-control-allow-origin").is_some(), "the pages' routes keep CORS");
}
