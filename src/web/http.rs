//! Every request genwire makes: to the app's proxy, with the real target in
//! `x-fal-target-url`. Never an `authorization` header: the proxy adds the key.

use gloo_net::http::{Method, RequestBuilder, Response};
use wasm_bindgen::JsValue;
use web_sys::AbortSignal;

use super::error;
use crate::proto::retry::{should_retry, Call};

pub struct Target<'a> {
    pub method: Method,
    pub url: &'a str,
    pub call: Call,
}

/// Sends one request through the proxy. `Err` is a rejected fetch (network or abort).
pub async fn send(
    proxy: &str,
    target: &Target<'_>,
    body: Option<&str>,
    headers: &[(&str, &str)],
    accept: &str,
    signal: Option<&AbortSignal>,
) -> Result<Response, JsValue> {
    let mut rb = RequestBuilder::new(proxy)
        .method(target.method.clone())
        .header("x-fal-target-url", target.url)
        .header("accept", accept)
        .abort_signal(signal);
    for (k, v) in headers {
        rb = rb.header(k, v);
    }
    let sent = match body {
        Some(b) => rb.header("content-type", "application/json").body(b).map_err(gloo_err)?.send().await,
        None => rb.send().await,
    };
    sent.map_err(|e| match signal {
        Some(s) if s.aborted() => error::aborted(s.reason()),
        _ => error::network(gloo_err(e)),
    })
}

/// Sends and reads a JSON answer: `Ok(json)` for 2xx, else a typed error.
/// The bool says whether repeating the request may succeed.
pub async fn json(
    proxy: &str,
    target: &Target<'_>,
    body: Option<&str>,
    headers: &[(&str, &str)],
    signal: Option<&AbortSignal>,
) -> Result<(JsValue, Response), (JsValue, bool)> {
    let resp = send(proxy, target, body, headers, "application/json", signal).await.map_err(retry_if_network)?;
    let text = resp.text().await.map_err(|e| (error::network(gloo_err(e)), true))?;
    let parsed = js_sys::JSON::parse(&text).ok();
    if resp.ok() {
        return match parsed {
            Some(v) => Ok((v, resp)),
            None => Err((error::protocol("the answer was not JSON", &JsValue::from_str(&text)), false)),
        };
    }
    let headers = resp.headers();
    let retry = should_retry(target.call, resp.status(), headers.get("x-fal-retryable").as_deref());
    let body = parsed.unwrap_or_else(|| JsValue::from_str(&text));
    Err((error::api(resp.status(), &headers, body, retry), retry))
}

fn retry_if_network(e: JsValue) -> (JsValue, bool) {
    let retry = super::js::get(&e, "kind").as_string().as_deref() == Some("network");
    (e, retry)
}

pub fn gloo_err(e: gloo_net::Error) -> JsValue {
    match e {
        gloo_net::Error::JsError(j) => js_sys::Error::new(&j.message).into(),
        other => js_sys::Error::new(&other.to_string()).into(),
    }
}
