//! The queue calls one by one (submit, status, result, cancel, the synchronous run), each a
//! request of its kind under the policy (`proto::call::Spec`), and the one pre-send pipeline of
//! submit, subscribe and run: validate, upload files, stringify.

use wasm_bindgen::JsValue;
use web_sys::AbortSignal;

use super::call::{json, Req};
use super::conv;
use super::js::{get, set};
use super::shared::Shared;
use crate::proto::call::Spec;
use crate::proto::endpoint::{EndpointId, RequestId};
use crate::proto::error::flattened::Expected;
use crate::proto::options::SubmitExtras;
use crate::proto::status::Status;
use crate::proto::value::Value;

/// The input, checked (`validate`), its files uploaded, as the JSON text to send. `plain` is the
/// call's options read by `conv::options`. Anything JSON can't carry is said before anything else.
pub async fn prepare(shared: &std::rc::Rc<Shared>, ep: &EndpointId, opts: &JsValue, plain: &Value, signal: Option<&AbortSignal>) -> Result<String, JsValue> {
    let mut input = get(opts, "input");
    if input.is_undefined() {
        input = js_sys::Object::new().into();
    }
    if !input.is_object() || js_sys::Array::is_array(&input) {
        return Err(conv::config("option 'input' must be an object"));
    }
    stringify(&input)?;
    conv::check(signal)?;
    let validate = crate::proto::options::validate(plain).map_err(conv::option)?;
    if validate.unwrap_or(shared.cfg().validation) {
        super::validate::check_input(shared, ep, &input).await?;
    }
    let input = super::storage::upload_files(shared, &input, signal).await?;
    conv::check(signal)?;
    stringify(&input)
}

fn stringify(input: &JsValue) -> Result<String, JsValue> {
    js_sys::JSON::stringify(input).ok().and_then(|s| s.as_string()).ok_or_else(|| conv::config("option 'input' can't be sent as JSON (a cycle, or a BigInt?)"))
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
    let req = Req { headers: &headers, expect: Some((Expected::Submit, false)), ..Req::new(Some(&shared.cfg().proxy_url), "POST", &url, Some(body)) };
    let raw = json(shared, Spec::submit(ep), req, signal).await?.body;
    let bad = |why: &str| conv::protocol(&format!("The submit answer {why}."), &raw);
    let status = crate::proto::host::status(&raw, true).map_err(|e| bad(&e.0))?;
    let id = status.request_id.as_deref().and_then(RequestId::parse).ok_or_else(|| bad("has no valid request_id"))?;
    Ok((id, status, raw))
}

pub async fn status(shared: &Shared, ep: &EndpointId, id: &RequestId, logs: bool, signal: Option<&AbortSignal>) -> Result<(Status, JsValue), JsValue> {
    let raw = get_json(shared, Spec::status(ep), "GET", &ep.status_url(id, logs), Some((Expected::Status, false)), signal).await?;
    let status = crate::proto::host::status(&raw, false).map_err(|e| conv::protocol(&format!("The status answer is not a queue status: {}.", e.0), &raw))?;
    Ok((status, raw))
}

async fn get_json(
    shared: &Shared,
    spec: Spec,
    method: &str,
    url: &str,
    expect: Option<(Expected, bool)>,
    signal: Option<&AbortSignal>,
) -> Result<JsValue, JsValue> {
    Ok(json(shared, spec, Req { expect, ..Req::new(Some(&shared.cfg().proxy_url), method, url, None) }, signal).await?.body)
}

/// `{ data, requestId }`, the shape @fal-ai/client resolves with. `failed`: the job's COMPLETED
/// status said it failed, so whatever the answer is, it is the job's error.
pub async fn result(shared: &Shared, ep: &EndpointId, id: &RequestId, failed: bool, signal: Option<&AbortSignal>) -> Result<JsValue, JsValue> {
    let data = get_json(shared, Spec::result(ep), "GET", &ep.result_url(id), Some((Expected::Result, failed)), signal).await?;
    Ok(wrap(data, id.as_str()))
}

pub async fn cancel(shared: &Shared, ep: &EndpointId, id: &RequestId) -> Result<JsValue, JsValue> {
    get_json(shared, Spec::cancel(ep), "PUT", &ep.cancel_url(id), None, None).await
}

/// A billed run: never repeated after an answer that may hide one (`Spec::run`).
pub async fn run(shared: &Shared, ep: &EndpointId, body: &str, extras: &[(&'static str, String)], signal: Option<&AbortSignal>) -> Result<JsValue, JsValue> {
    let url = ep.run_url();
    let headers: Vec<(&str, &str)> = extras.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let req = Req { headers: &headers, want: Some("x-fal-request-id"), ..Req::new(Some(&shared.cfg().proxy_url), "POST", &url, Some(body)) };
    let a = json(shared, Spec::run(ep), req, signal).await?;
    Ok(wrap(a.body, &a.header.unwrap_or_default()))
}

fn wrap(data: JsValue, request_id: &str) -> JsValue {
    let out: JsValue = js_sys::Object::new().into();
    set(&out, "data", &data);
    set(&out, "requestId", &JsValue::from_str(request_id));
    out
}
