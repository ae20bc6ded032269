//! The queue calls one by one: submit, status, result, cancel, and the synchronous run.

use gloo_net::http::Method;
use js_sys::Object;
use wasm_bindgen::JsValue;
use web_sys::AbortSignal;

use super::error;
use super::http::{self, Target};
use super::js::{get, opt_bool, opt_f64, opt_str, set};
use crate::proto::endpoint::{EndpointId, RequestId};
use crate::proto::retry::Call;
use crate::proto::status::Status;

pub type Failed = (JsValue, bool);

pub fn endpoint(id: &str) -> Result<EndpointId, JsValue> {
    EndpointId::parse(id).map_err(|e| error::config(&e.to_string()))
}

pub fn request_id(opts: &JsValue) -> Result<RequestId, JsValue> {
    let raw = opt_str(opts, "requestId")?.ok_or_else(|| error::config("option 'requestId' is required"))?;
    RequestId::parse(&raw).ok_or_else(|| error::config(&format!("'{raw}' is not a valid request id")))
}

/// What a submit sends besides the input: webhook, priority, request timeout, runner hint.
pub struct SubmitExtras {
    webhook: Option<String>,
    headers: Vec<(&'static str, String)>,
}

impl SubmitExtras {
    pub fn from_options(opts: &JsValue) -> Result<Self, JsValue> {
        let mut headers = Vec::new();
        if let Some(p) = opt_str(opts, "priority")? {
            if p != "normal" && p != "low" {
                return Err(error::config("option 'priority' must be 'normal' or 'low'"));
            }
            headers.push(("x-fal-queue-priority", p));
        }
        if let Some(t) = opt_f64(opts, "startTimeout", 1.0)? {
            headers.push(("x-fal-request-timeout", format!("{}", t.floor())));
        }
        if let Some(h) = opt_str(opts, "hint")? {
            headers.push(("x-fal-runner-hint", h));
        }
        Ok(Self { webhook: opt_str(opts, "webhookUrl")?, headers })
    }
}

/// The input as JSON text. Anything JSON can't carry is a caller error, said before sending.
pub fn input_json(opts: &JsValue) -> Result<String, JsValue> {
    let input = get(opts, "input");
    let input = if input.is_undefined() { Object::new().into() } else { input };
    if !error::is_object(&input) {
        return Err(error::config("option 'input' must be an object"));
    }
    js_sys::JSON::stringify(&input)
        .ok()
        .and_then(|s| s.as_string())
        .ok_or_else(|| error::config("option 'input' can't be sent as JSON (a cycle, or a BigInt?)"))
}

pub async fn submit(
    proxy: &str,
    ep: &EndpointId,
    body: &str,
    extras: &SubmitExtras,
    signal: Option<&AbortSignal>,
) -> Result<(RequestId, Status, JsValue), Failed> {
    let url = ep.submit_url(extras.webhook.as_deref());
    let headers: Vec<(&str, &str)> = extras.headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let target = Target { method: Method::POST, url: &url, call: Call::Submit };
    let (raw, _) = http::json(proxy, &target, Some(body), &headers, signal).await?;
    let bad = |why: &str| (error::protocol(&format!("the submit answer {why}"), &raw), false);
    let status = Status::from_deserializer(serde_wasm_bindgen::Deserializer::from(raw.clone())).map_err(|e| bad(&e.0))?;
    let id = status.request_id.as_deref().and_then(RequestId::parse).ok_or_else(|| bad("has no valid request_id"))?;
    Ok((id, status, raw))
}

pub async fn status(
    proxy: &str,
    ep: &EndpointId,
    id: &RequestId,
    logs: bool,
    signal: Option<&AbortSignal>,
) -> Result<(Status, JsValue), Failed> {
    let url = ep.status_url(id, logs);
    let target = Target { method: Method::GET, url: &url, call: Call::Status };
    let (raw, _) = http::json(proxy, &target, None, &[], signal).await?;
    let status = Status::from_deserializer(serde_wasm_bindgen::Deserializer::from(raw.clone()))
        .map_err(|e| (error::protocol(&format!("the status answer is not a queue status: {}", e.0), &raw), true))?;
    Ok((status, raw))
}

/// `{ data, requestId }`, the shape @fal-ai/client resolves with.
pub async fn result(proxy: &str, ep: &EndpointId, id: &RequestId, signal: Option<&AbortSignal>) -> Result<JsValue, Failed> {
    let url = ep.result_url(id);
    let target = Target { method: Method::GET, url: &url, call: Call::Result };
    let (data, _) = http::json(proxy, &target, None, &[], signal).await?;
    Ok(wrap(data, id.as_str()))
}

pub async fn cancel(proxy: &str, ep: &EndpointId, id: &RequestId) -> Result<JsValue, Failed> {
    let url = ep.cancel_url(id);
    let target = Target { method: Method::PUT, url: &url, call: Call::Cancel };
    http::json(proxy, &target, None, &[], None).await.map(|(v, _)| v)
}

pub async fn run(proxy: &str, ep: &EndpointId, body: &str, signal: Option<&AbortSignal>) -> Result<JsValue, Failed> {
    let url = ep.run_url();
    let target = Target { method: Method::POST, url: &url, call: Call::Run };
    let (data, resp) = http::json(proxy, &target, Some(body), &[], signal).await?;
    let id = resp.headers().get("x-fal-request-id").unwrap_or_default();
    Ok(wrap(data, &id))
}

fn wrap(data: JsValue, request_id: &str) -> JsValue {
    let out = Object::new();
    set(&out, "data", &data);
    set(&out, "requestId", &JsValue::from_str(request_id));
    out.into()
}

pub fn logs_flag(opts: &JsValue) -> Result<bool, JsValue> {
    Ok(opt_bool(opts, "logs")?.unwrap_or(false))
}
