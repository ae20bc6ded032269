//! One call with the client's policy: breaker check, attempt, decode the failure,
//! retry per the policy (honouring server-named waits), events and stats.

use web_sys::Response;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::AbortSignal;

use super::abort::sleep;
use super::client::Shared;
use super::error;
use super::http::{read_bounded, send};
use super::js::{now, set};
use crate::proto::breaker::counts_against;
use crate::proto::error::{decode_http, Body, ErrorInfo, Kind};
use crate::proto::retry::{decide, Call, Decision, GiveUp};

/// Error bodies are read up to this size; past it they are cut (`truncated: true`).
const MAX_ERROR_BODY: usize = 64 * 1024;

pub struct Req<'a> {
    pub call: Call,
    /// The breaker's key: the endpoint's `owner/alias`.
    pub endpoint: &'a str,
    pub method: &'static str,
    pub url: &'a str,
    pub body: Option<&'a str>,
    pub headers: &'a [(&'a str, &'a str)],
}

fn fields(req: &Req<'_>, attempt: u32) -> Vec<(&'static str, JsValue)> {
    vec![("call", JsValue::from_str(req.call.as_str())), ("endpoint", JsValue::from_str(req.endpoint)), ("attempt", JsValue::from(attempt))]
}

/// The JSON answer of a 2xx, with the response for its headers; else the typed error.
pub async fn call(shared: &Shared, req: &Req<'_>, signal: Option<&AbortSignal>) -> Result<(JsValue, Response), JsValue> {
    let started = now();
    let mut retries = 0u32;
    loop {
        if let Some(s) = signal.filter(|s| super::js::aborted(s)) {
            return Err(error::aborted(super::js::reason(s)));
        }
        if let Err(reopens_at) = admit(shared, req.endpoint) {
            let e = error::circuit_open(req.endpoint, reopens_at, now());
            shared.record(started, Some("circuit_open".into()), retries);
            shared.emit("error", &[fields(req, retries + 1), vec![("error", e.clone())]].concat());
            return Err(e);
        }
        shared.emit("attempt", &[fields(req, retries + 1), vec![("url", JsValue::from_str(req.url))]].concat());
        let (info, err) = match attempt(shared, req, signal).await {
            Ok(ok) => {
                settle(shared, req.endpoint, None);
                shared.budget.borrow_mut().on_success();
                shared.record(started, None, retries);
                shared.emit("success", &[fields(req, retries + 1), vec![("latencyMs", JsValue::from_f64(now() - started))]].concat());
                return Ok(ok);
            }
            Err(failed) => failed,
        };
        if info.kind == Kind::Aborted {
            settle(shared, req.endpoint, Some(false));
            return Err(err);
        }
        settle(shared, req.endpoint, Some(counts_against(&info)));
        let decision = decide(&shared.retry, req.call, retries, &info, &mut shared.budget.borrow_mut(), js_sys::Math::random());
        match decision {
            Decision::Retry { delay_ms, server_named } => {
                shared.emit(
                    "retry",
                    &[fields(req, retries + 1), vec![("delayMs", JsValue::from_f64(delay_ms)), ("serverNamed", JsValue::from_bool(server_named)), ("error", err)]].concat(),
                );
                sleep(delay_ms, signal).await;
                retries += 1;
            }
            Decision::GiveUp(why) => {
                set(err.unchecked_ref(), "attempts", &JsValue::from(retries + 1));
                let key = info.error_type.clone().unwrap_or_else(|| category_name(&info));
                shared.record(started, Some(key), retries);
                shared.emit("error", &[fields(req, retries + 1), vec![("error", err.clone()), ("reason", JsValue::from_str(give_up_name(why)))]].concat());
                return Err(err);
            }
        }
    }
}

fn category_name(info: &ErrorInfo) -> String {
    info.category.as_str().into()
}

fn give_up_name(g: GiveUp) -> &'static str {
    match g {
        GiveUp::NotRetryable => "not_retryable",
        GiveUp::MayHaveEnqueued => "may_have_enqueued",
        GiveUp::Attempts => "attempts",
        GiveUp::Budget => "budget",
        GiveUp::WaitTooLong => "wait_too_long",
    }
}

/// One request: the 2xx JSON, or the decoded error with its JS form.
async fn attempt(shared: &Shared, req: &Req<'_>, signal: Option<&AbortSignal>) -> Result<(JsValue, Response), (ErrorInfo, JsValue)> {
    let resp = send(&shared.proxy, req.method, req.url, req.body, req.headers, "application/json", signal).await.map_err(|thrown| {
        match error::kind_of(&thrown).as_deref() {
            Some("aborted") => (ErrorInfo::local(Kind::Aborted, crate::proto::error::Category::Aborted, "The request was cancelled."), thrown),
            _ => error::thrown(&thrown),
        }
    })?;
    if super::http::ok(&resp) {
        let text = super::http::text(&resp).await.map_err(|e| error::thrown(&e))?;
        return match js_sys::JSON::parse(&text) {
            Ok(v) => Ok((v, resp)),
            Err(_) => {
                let info = ErrorInfo::local(Kind::Protocol, crate::proto::error::Category::Unknown, "The server's answer was not JSON.");
                Err((info.clone(), error::to_js(&info, Some(&JsValue::from_str(&text)), None)))
            }
        };
    }
    Err(error_from(&resp, Some(req.call)).await)
}

/// A non-2xx answer as the typed error: its body read up to 64 KiB, then decoded.
pub async fn error_from(resp: &Response, call: Option<Call>) -> (ErrorInfo, JsValue) {
    let (text, truncated) = read_bounded(resp, MAX_ERROR_BODY).await.unwrap_or_default();
    let (body, body_js) = parse_body(&text);
    let info = decode_http(super::http::status(resp), &|n: &str| super::http::header(resp, n), &body, truncated, call, now());
    let js = error::to_js(&info, Some(&body_js), None);
    (info, js)
}

/// The body as the decoder wants it and as the caller will see it (parsed JSON, else the text).
pub fn parse_body(text: &str) -> (Body, JsValue) {
    if text.trim().is_empty() {
        return (Body::Empty, JsValue::from_str(text));
    }
    match js_sys::JSON::parse(text) {
        Ok(js) => match super::conv::to_value(&js) {
            Ok(v) => (Body::Json(v), js),
            Err(_) => (Body::Text(text.into()), js),
        },
        Err(_) => (Body::Text(text.into()), JsValue::from_str(text)),
    }
}

fn admit(shared: &Shared, endpoint: &str) -> Result<(), f64> {
    let Some(cfg) = &shared.breaker_cfg else { return Ok(()) };
    let mut map = shared.breakers.borrow_mut();
    let Some(b) = map.get_mut(endpoint) else { return Ok(()) };
    let before = b.state().name();
    let r = b.admit(now(), cfg);
    let after = b.state().name();
    drop(map);
    if before != after {
        breaker_event(shared, endpoint, before, after, None);
    }
    r
}

/// Feeds the outcome to the endpoint's breaker: None success, Some(true) a failure
/// that counts, Some(false) one that doesn't.
fn settle(shared: &Shared, endpoint: &str, failure: Option<bool>) {
    let Some(cfg) = &shared.breaker_cfg else { return };
    let mut map = shared.breakers.borrow_mut();
    if failure.is_none() && !map.contains_key(endpoint) {
        return;
    }
    let b = map.get_or_insert_with(endpoint, Default::default);
    let before = b.state().name();
    match failure {
        None => b.on_success(),
        Some(true) => b.on_failure(now(), cfg),
        Some(false) => b.on_neutral(),
    }
    let after = b.state();
    if b.is_idle() {
        map.remove(endpoint);
    }
    drop(map);
    if before != after.name() {
        let until = match after {
            crate::proto::breaker::State::Open { until } => Some(until),
            _ => None,
        };
        breaker_event(shared, endpoint, before, after.name(), until);
    }
}

fn breaker_event(shared: &Shared, endpoint: &str, from: &str, to: &str, reopens_at: Option<f64>) {
    let mut f = vec![("endpoint", JsValue::from_str(endpoint)), ("from", JsValue::from_str(from)), ("to", JsValue::from_str(to))];
    if let Some(t) = reopens_at {
        f.push(("reopensAt", JsValue::from_f64(t)));
    }
    shared.emit("breaker", &f);
}
