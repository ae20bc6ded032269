//! Carries out one [`CallMachine`]: sends each attempt it asks for (a fetch through the proxy,
//! a direct fetch, or an upload's XMLHttpRequest), sleeps until its deadline, emits its events
//! and records its sample. Every decision is the machine's.

use core::future::Future;
use core::pin::Pin;

use wasm_bindgen::JsValue;
use web_sys::{AbortSignal, Response};

use super::conv;
use super::http::{read_bounded, send, Fail, Net};
use super::js;
use super::js::{clock, now, set};
use super::shared::Shared;
use super::tasks::sleep_until;
use crate::proto::call::{Action, CallMachine, Event, Failure, Input, Spec};
use crate::proto::error::flattened::{error_in_success, Expected};
use crate::proto::error::{decode_http, Body, ErrorInfo, Kind};
use crate::proto::retry::Call;
use crate::proto::shapes;

/// Error bodies are read up to this size; past it they are cut (`truncated: true`).
const MAX_ERROR_BODY: usize = 64 * 1024;

/// A 2xx answer: its body (parsed JSON, or text) and the one header the caller asked for.
pub struct Answer {
    pub body: JsValue,
    pub header: Option<String>,
}

/// One attempt's outcome: the answer, or the decoded error with its JS form.
pub type Outcome = Result<Answer, (ErrorInfo, JsValue)>;
pub type Attempt<'a> = Pin<Box<dyn Future<Output = Outcome> + 'a>>;

/// Runs the call to its end. `url` is for the `attempt` events.
pub async fn run<'a>(
    shared: &Shared,
    spec: Spec,
    url: &str,
    signal: Option<&AbortSignal>,
    attempt: &mut dyn FnMut() -> Attempt<'a>,
) -> Result<Answer, JsValue> {
    let mut m = shared.with_policy(|p| CallMachine::new(spec, now(), p));
    let mut answer = None;
    let mut last = JsValue::UNDEFINED;
    while let Some(action) = m.poll_action() {
        match action {
            Action::Send { .. } => {
                let input = match signal.filter(|s| js::aborted(s)) {
                    Some(_) => Input::Aborted,
                    None => match attempt().await {
                        Ok(a) => {
                            answer = Some(a);
                            Input::Succeeded
                        }
                        Err((info, js)) => {
                            last = js;
                            Input::Failed(info)
                        }
                    },
                };
                shared.with_policy(|p| m.handle(now(), input, p));
            }
            Action::Sleep { until } => {
                sleep_until(until, signal).await;
                let aborted = signal.is_some_and(js::aborted);
                shared.with_policy(|p| if aborted { m.handle(now(), Input::Aborted, p) } else { m.handle_timeout(now(), p) });
            }
            Action::Emit(ev) => {
                if let Event::Rejected { reopens_at, .. } = &ev {
                    let (info, extra) = shapes::circuit_open(&m.spec().key, *reopens_at, clock());
                    last = conv::with(&info, &extra);
                }
                let with_error = matches!(ev, Event::Retry { .. } | Event::Error { .. } | Event::Rejected { .. });
                if shared.has_listeners() {
                    shared.emit(&shapes::event(&ev, m.spec(), url, clock()), with_error.then_some(&last));
                }
            }
            Action::Record(sample) => shared.with_policy(|p| p.record(sample)),
            Action::Done(Ok(())) => return answer.ok_or(JsValue::UNDEFINED),
            Action::Done(Err(Failure::Aborted)) => return Err(conv::aborted(js::reason(signal))),
            Action::Done(Err(Failure::CircuitOpen { .. })) => return Err(last),
            Action::Done(Err(Failure::GaveUp { attempts, .. })) => {
                set(&last, "attempts", &JsValue::from(attempts));
                return Err(last);
            }
        }
    }
    Err(conv::protocol("internal: the call ended without an outcome", &JsValue::UNDEFINED))
}

/// A request with a JSON answer: through the proxy (`proxy`), or straight to `url` (a presigned
/// upload's completion). `want` names the answer's header the caller reads.
#[derive(Clone, Copy)]
pub struct Req<'a> {
    pub proxy: Option<&'a str>,
    pub method: &'a str,
    pub url: &'a str,
    pub body: Option<&'a str>,
    /// The call's headers (the app's, then those its options imply); the client's come first.
    pub headers: &'a [(String, String)],
    pub want: Option<&'a str>,
    /// What a 2xx answer must be (and whether the job is known to have failed): one that is an
    /// error document instead is that error (a proxy that answers everything 200).
    pub expect: Option<(Expected, bool)>,
}

impl<'a> Req<'a> {
    pub fn new(proxy: Option<&'a str>, method: &'a str, url: &'a str, body: Option<&'a str>) -> Self {
        Self { proxy, method, url, body, headers: &[], want: None, expect: None }
    }
}

/// `req` under the policy of `spec`.
pub async fn json(shared: &Shared, spec: Spec, req: Req<'_>, signal: Option<&AbortSignal>) -> Result<Answer, JsValue> {
    let call = spec.call;
    run(shared, spec, req.url, signal, &mut || Box::pin(fetch_json(shared.net(), req, signal, call))).await
}

/// A request that did not get an answer, as the call's outcome: a network failure, or the app's
/// `onRequest` refused (a config error, not retried).
pub fn failed(f: Fail) -> (ErrorInfo, JsValue) {
    match f {
        Fail::Thrown(thrown) => conv::thrown(&thrown),
        Fail::Refused(m, cause) => {
            let info = ErrorInfo::local(Kind::Config, crate::proto::error::Category::Config, &m);
            let js = Fail::Refused(m, cause).into_js();
            (info, js)
        }
    }
}

async fn fetch_json(net: &Net, r: Req<'_>, signal: Option<&AbortSignal>, call: Call) -> Outcome {
    let sent = match r.proxy {
        Some(p) => send(net, p, r.method, r.url, r.body, r.headers, "application/json", signal).await,
        None => {
            let own = vec![("content-type".to_string(), "application/json".to_string())];
            super::http::fetch(net, r.url, None, r.method, own, r.body.map(JsValue::from_str), signal).await
        }
    };
    let resp = sent.map_err(failed)?;
    if !super::http::ok(&resp) {
        return Err(error_from(&resp, Some(call)).await);
    }
    let text = super::http::text(&resp).await.map_err(|e| conv::thrown(&e))?;
    match js_sys::JSON::parse(&text) {
        Ok(body) => {
            if let Some((expected, failed)) = r.expect {
                let header = |n: &str| super::http::header(&resp, n);
                let value = conv::lossy(&body);
                if let Some(info) = error_in_success(expected, &header, &value, failed, clock().wall.0) {
                    return Err((info.clone(), conv::to_js(&info, Some(&body), None)));
                }
            }
            Ok(Answer { body, header: r.want.and_then(|h| super::http::header(&resp, h)) })
        }
        Err(_) => {
            let info = ErrorInfo::local(Kind::Protocol, crate::proto::error::Category::Unknown, "The server's answer was not JSON.");
            Err((info.clone(), conv::to_js(&info, Some(&JsValue::from_str(&text)), None)))
        }
    }
}

/// A non-2xx answer as the typed error: its body read up to 64 KiB, then decoded.
pub async fn error_from(resp: &Response, call: Option<Call>) -> (ErrorInfo, JsValue) {
    let (text, truncated) = read_bounded(resp, MAX_ERROR_BODY).await.unwrap_or_default();
    decoded(super::http::status(resp), &|n: &str| super::http::header(resp, n), &text, truncated, call)
}

/// An error answer decoded by the core; `Retry-After` dates are read against the wall clock.
pub fn decoded(status: u16, header: &dyn Fn(&str) -> Option<String>, text: &str, truncated: bool, call: Option<Call>) -> (ErrorInfo, JsValue) {
    let (body, body_js) = parse_body(text);
    let info = decode_http(status, header, &body, truncated, call, clock().wall.0);
    let js = conv::to_js(&info, Some(&body_js), None);
    (info, js)
}

/// The body as the decoder wants it and as the caller will see it (parsed JSON, else the text).
pub fn parse_body(text: &str) -> (Body, JsValue) {
    if text.trim().is_empty() {
        return (Body::Empty, JsValue::from_str(text));
    }
    match js_sys::JSON::parse(text) {
        Ok(js) => match conv::to_value(&js) {
            Ok(v) => (Body::Json(v), js),
            Err(_) => (Body::Text(text.into()), js),
        },
        Err(_) => (Body::Text(text.into()), JsValue::from_str(text)),
    }
}
