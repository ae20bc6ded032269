//! Shared helpers: an in-process server on 127.0.0.1:0 with short simulated timings.
#![allow(dead_code)]

use std::time::Duration;

use genwire_server::{sim::SimConfig, Config};
use serde_json::{json, Value};

pub const TARGET: &str = "x-fal-target-url";
pub const QUEUE: &str = "https://queue.fal.run";

pub struct Server {
    pub base: String,
    pub client: reqwest::Client,
}

/// Fast timings so the whole suite stays within seconds.
pub fn fast_config() -> Config {
    Config { sim: SimConfig { latency_ms: 200, queue_depth: 2, queue_step_ms: 100, keepalive_ms: 100 }, ..Config::default() }
}

pub async fn start() -> Server {
    start_with(fast_config()).await
}

pub async fn start_with(config: Config) -> Server {
    let addr = genwire_server::spawn(config, "127.0.0.1:0".parse().expect("addr")).await.expect("bind");
    Server { base: format!("http://{addr}"), client: reqwest::Client::new() }
}

/// A prompt no other test uses, so faults registered for it cannot leak across tests.
pub fn unique_prompt(tag: &str) -> String {
    format!("{tag} {}", uuid::Uuid::new_v4())
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A call through the proxy, the way the browser library makes it.
    pub fn proxy(&self, method: reqwest::Method, target: &str) -> reqwest::RequestBuilder {
        self.client.request(method, self.url("/api/fal/proxy")).header(TARGET, target)
    }

    pub async fn proxy_json(&self, method: reqwest::Method, target: &str, body: Option<Value>) -> (u16, reqwest::header::HeaderMap, Value) {
        let mut req = self.proxy(method, target);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("send");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("body");
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, headers, value)
    }

    /// Submits to the queue through the proxy and returns the IN_QUEUE answer.
    pub async fn submit(&self, endpoint: &str, input: Value) -> Value {
        let (status, _, body) = self.proxy_json(reqwest::Method::POST, &format!("{QUEUE}/{endpoint}"), Some(input)).await;
        assert_eq!(status, 200, "submit failed: {body}");
        body
    }

    pub async fn status(&self, submitted: &Value, logs: bool) -> (u16, Value) {
        let url = format!("{}?logs={}", submitted["status_url"].as_str().expect("status_url"), u8::from(logs));
        let (s, _, b) = self.proxy_json(reqwest::Method::GET, &url, None).await;
        (s, b)
    }

    /// Polls status until COMPLETED (or panics after a few seconds).
    pub async fn wait_completed(&self, submitted: &Value) -> Value {
        for _ in 0..200 {
            let (s, b) = self.status(submitted, true).await;
            if s == 200 && b["status"] == "COMPLETED" {
                return b;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("job never completed: {submitted}");
    }

    pub async fn result(&self, submitted: &Value) -> (u16, reqwest::header::HeaderMap, Value) {
        self.proxy_json(reqwest::Method::GET, submitted["response_url"].as_str().expect("response_url"), None).await
    }

    pub async fn sim_get(&self, path: &str) -> Value {
        self.client.get(self.url(path)).send().await.expect("send").json().await.expect("json")
    }

    pub async fn sim_post(&self, path: &str, body: Value) -> u16 {
        self.client.post(self.url(path)).json(&body).send().await.expect("send").status().as_u16()
    }

    pub async fn add_faults(&self, prompt: &str, faults: Value) {
        assert_eq!(self.sim_post("/__sim/faults", json!({ "prompt": prompt, "faults": faults })).await, 200);
    }

    /// Entries the simulator logged from sequence number `since` on.
    pub async fn sim_log(&self, since: u64) -> Vec<Value> {
        let v = self.sim_get(&format!("/__sim/log?since={since}")).await;
        v["entries"].as_array().cloned().unwrap_or_default()
    }
}

/// Reads server-sent events from a streamed response, across arbitrary chunking.
pub struct SseReader {
    resp: reqwest::Response,
    buf: String,
}

#[derive(Debug)]
pub enum SseItem {
    Data(Value),
    Comment(String),
    /// The stream ended cleanly.
    End,
    /// The connection broke (not a clean end).
    Broken(String),
    /// Nothing arrived in time.
    Silent,
}

impl SseReader {
    pub fn new(resp: reqwest::Response) -> SseReader {
        SseReader { resp, buf: String::new() }
    }

    pub async fn next(&mut self, wait: Duration) -> SseItem {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(pos) = self.buf.find("\n\n") {
                let event: String = self.buf.drain(..pos + 2).collect();
                let event = event.trim_end();
                if let Some(data) = event.strip_prefix("data: ") {
                    return SseItem::Data(serde_json::from_str(data).expect("event data is JSON"));
                }
                return SseItem::Comment(event.to_string());
            }
            match tokio::time::timeout_at(deadline, self.resp.chunk()).await {
                Err(_) => return SseItem::Silent,
                Ok(Ok(Some(chunk))) => self.buf.push_str(&String::from_utf8_lossy(&chunk)),
                Ok(Ok(None)) => return SseItem::End,
                Ok(Err(e)) => return SseItem::Broken(e.to_string()),
            }
        }
    }
}
