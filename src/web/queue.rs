//! The queue calls one by one: submit, status, result, cancel, and the synchronous run.

use js_sys::Object;
use wasm_bindgen::JsValue;
use web_sys::AbortSignal;

use super::client::Shared;
use super::error;
use super::js::{get, opt_bool, opt_f64, opt_str, set};
use super::request::{call, Req};
use crate::proto::endpoint::{EndpointId, RequestId};
use crate::proto::retry::Call;
use crate::proto::status::Status;

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
        // Seconds the job may wait before it starts; fal wants more than 1 and takes the value as given.
        if let Some(t) = opt_f64(opts, "startTimeout", 0.0)? {
            if t <= 1.0 {
                return Err(error::config("option 'startTimeout' must be a number of seconds greater than 1"));
            }
            headers.push(("x-fal-request-timeout", crate::proto::num::fmt(t)));
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
    if !super::js::is_plain_object(&input) {
        return Err(error::config("option 'input' must be an object"));
    }
    stringify(&input)
}

pub fn stringify(input: &JsValue) -> Result<String, JsValue> {
    let input = if input.is_undefined() { Object::new().into() } else { input.clone() };
    js_sys::JSON::stringify(&input)
        .ok()
        .and_then(|s| s.as_string())
        .ok_or_else(|| error::config("option 'input' can't be sent as JSON (a cycle, or a BigInt?)"))
}

pub async fn submit(
    shared: &Shared,
    ep: &EndpointId,
    body: &str,
    extras: &SubmitExtras,
    signal: Option<&AbortSignal>,
) -> Result<(RequestId, Status, JsValue), JsValue> {
    let url = ep.submit_url(extras.webhook.as_deref());
    let headers: Vec<(&str, &str)> = extras.headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let app = ep.app();
    let req = Req { call: Call::Submit, endpoint: &app, method: "POST", url: &url, body: Some(body), headers: &headers };
    let (raw, _) = call(shared, &req, signal).await?;
    let bad = |why: &str| error::protocol(&format!("The submit answer {why}."), &raw);
    let status = super::conv::submit_status(&raw).map_err(|e| bad(&e.0))?;
    let id = status.request_id.as_deref().and_then(RequestId::parse).ok_or_else(|| bad("has no valid request_id"))?;
    Ok((id, status, raw))
}

pub async fn status(
    shared: &Shared,
    ep: &EndpointId,
    id: &RequestId,
    logs: bool,
    signal: Option<&AbortSignal>,
) -> Result<(Status, JsValue), JsValue> {
    let url = ep.status_url(id, logs);
    let (raw, _) = call(shared, &read(Call::Status, &ep.app(), "GET", &url), signal).await?;
    let status = super::conv::status(&raw)
        .map_err(|e| error::protocol(&format!("The status answer is not a queue status: {}.", e.0), &raw))?;
    Ok((status, raw))
}

fn read<'a>(call: Call, app: &'a str, method: &'static str, url: &'a str) -> Req<'a> {
    Req { call, endpoint: app, method, url, body: None, headers: &[] }
}

/// `{ data, requestId }`, the shape @fal-ai/client resolves with.
pub async fn result(shared: &Shared, ep: &EndpointId, id: &RequestId, signal: Option<&AbortSignal>) -> Result<JsValue, JsValue> {
    let url = ep.result_url(id);
    let (data, _) = call(shared, &read(Call::Result, &ep.app(), "GET", &url), signal).await?;
    Ok(wrap(data, id.as_str()))
}

pub async fn cancel(shared: &Shared, ep: &EndpointId, id: &RequestId) -> Result<JsValue, JsValue> {
    let url = ep.cancel_url(id);
    call(shared, &read(Call::Cancel, &ep.app(), "PUT", &url), None).await.map(|(v, _)| v)
}

pub async fn run(shared: &Shared, ep: &EndpointId, body: &str, signal: Option<&AbortSignal>) -> Result<JsValue, JsValue> {
    let url = ep.run_url();
    let app = ep.app();
    let req = Req { call: Call::Run, endpoint: &app, method: "POST", url: &url, body: Some(body), headers: &[] };
    let (data, resp) = call(shared, &req, signal).await?;
    let id = super::http::header(&resp, "x-fal-request-id").unwrap_or_default();
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
