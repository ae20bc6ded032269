//! Carries out one output stream (`proto::stream::Machine`): the request under the client's policy
//! (`Spec::stream`, through the proxy), then the body read chunk by chunk into the machine, one
//! timer at its deadline. Every decision (what a chunk or an event is, errors, stalls) is the core's.

use std::rc::Rc;

use js_sys::Function;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::spawn_local;
use web_sys::{AbortController, AbortSignal, Response};

use super::call::{self, Answer, Outcome};
use super::conv;
use super::http;
use super::js::{self, clock, now, signal_of};
use super::queue;
use super::shared::Shared;
use super::tasks::{Inbox, Listener, Sender};
use crate::proto::call::Spec;
use crate::proto::retry::Call;
use crate::proto::shapes;
use crate::proto::stream::{Action, Body, End, Input, Machine};

enum Msg {
    Opened(Body, Option<String>),
    Chunk(js_sys::Uint8Array),
    Ended,
    Failed(JsValue),
    Abort,
}

/// `client.stream(endpoint, options)`: `on_partial(output)` for each partial, `on_open(requestId)`
/// once the answer's head is in; resolves with the final output.
pub async fn stream(shared: Rc<Shared>, endpoint: JsValue, opts: JsValue, on_partial: Function, on_open: Function) -> Result<JsValue, JsValue> {
    let ep = conv::endpoint(&endpoint)?;
    let plain = conv::options(&opts, &conv::SKIP)?;
    shared.warn_unknown("stream", &opts, &plain);
    let cfg = crate::proto::options::stream(&plain).map_err(conv::option)?;
    let signal = conv::signal(&opts)?;
    conv::check(signal.as_ref())?;
    let body = queue::prepare(&shared, &ep, &opts, &plain, signal.as_ref()).await?;
    let (tx, mut inbox) = Inbox::new();
    let t = tx.clone();
    let _abort = Listener::on_abort(signal.as_ref(), move || {
        t.send(Msg::Abort);
    });
    // The request's own signal: the caller's abort, or the stream's end, stops it.
    let request = AbortController::new()?;
    let mut m: Machine<JsValue, JsValue> = Machine::new(cfg.machine, now());
    spawn_local(read(shared, Spec::stream(&ep), ep.stream_url(), body, cfg.headers, signal_of(&request), tx));
    let outcome = 'run: loop {
        while let Some(action) = m.poll_action() {
            match action {
                Action::Parse { name, data } => {
                    let value = js_sys::JSON::parse(&data).ok();
                    m.handle(now(), Input::Parsed { name, data, value, now_ms: clock().wall.0 });
                }
                Action::Partial(p) => {
                    if let Err(thrown) = on_partial.call1(&JsValue::NULL, &p) {
                        break 'run Err(thrown);
                    }
                }
                Action::Done(r) => break 'run r.map_err(|end| ended(end, signal.as_ref())),
            }
        }
        let input = match inbox.next(m.poll_timeout()).await {
            None => {
                m.handle_timeout(now());
                continue;
            }
            Some(Msg::Opened(body, id)) => {
                if let Err(thrown) = on_open.call1(&JsValue::NULL, &id.as_deref().map_or(JsValue::NULL, JsValue::from_str)) {
                    break 'run Err(thrown);
                }
                Input::Opened { body, request_id: id }
            }
            Some(Msg::Chunk(c)) if m.wants_bytes() => Input::Bytes(c.to_vec()),
            Some(Msg::Chunk(c)) => Input::Chunk(c.into()),
            Some(Msg::Ended) => Input::Ended,
            Some(Msg::Failed(e)) => Input::Failed(e),
            Some(Msg::Abort) => Input::Abort,
        };
        m.handle(now(), input);
    };
    js::abort(&request);
    outcome
}

/// A stream's end as the caller's error.
fn ended(end: End<JsValue, JsValue>, signal: Option<&AbortSignal>) -> JsValue {
    match end {
        End::Failed(e) => e,
        End::Error { info, body } => conv::to_js(&info, body.as_ref(), None),
        End::Stalled(d) => {
            let (info, extra) = shapes::stream_stalled(d.as_ms());
            conv::with(&info, &extra)
        }
        End::Aborted => conv::aborted(js::reason(signal)),
    }
}

/// The request (retried by the policy while its answers show nothing ran), then its body, chunk by
/// chunk, into the inbox; stops when `signal` aborts or nobody listens any more.
async fn read(shared: Rc<Shared>, spec: Spec, url: String, body: String, headers: Vec<(String, String)>, signal: AbortSignal, tx: Sender<Msg>) {
    let proxy = shared.cfg().proxy_url.clone();
    let opened = call::run(&shared, spec, &url, Some(&signal), &mut || Box::pin(open(shared.net(), &proxy, &url, &body, &headers, &signal))).await;
    let resp: Response = match opened {
        Ok(a) => a.body.unchecked_into(),
        Err(e) => {
            tx.send(Msg::Failed(e));
            return;
        }
    };
    let kind = Body::of(http::header(&resp, "content-type").as_deref());
    if !tx.send(Msg::Opened(kind, http::header(&resp, "x-fal-request-id"))) {
        return;
    }
    let Some(reader) = http::reader(&resp) else {
        tx.send(Msg::Ended);
        return;
    };
    loop {
        let sent = match http::chunk_js(&reader).await {
            Ok(Some(c)) if c.length() == 0 => true,
            Ok(Some(c)) => tx.send(Msg::Chunk(c)),
            Ok(None) => {
                tx.send(Msg::Ended);
                return;
            }
            Err(thrown) => {
                if !js::aborted(&signal) {
                    tx.send(Msg::Failed(conv::thrown(&thrown).1));
                }
                return;
            }
        };
        if !sent {
            let _ = js::call(&reader, "cancel", None);
            return;
        }
    }
}

/// One attempt: the request through the proxy; a 2xx answer's `Response` (its body still unread), else the decoded error.
/// `headers`: the call's own.
async fn open(net: &http::Net, proxy: &str, url: &str, body: &str, headers: &[(String, String)], signal: &AbortSignal) -> Outcome {
    let resp = http::send(net, proxy, "POST", url, Some(body), headers, "text/event-stream", Some(signal)).await.map_err(call::failed)?;
    if !http::ok(&resp) {
        return Err(call::error_from(&resp, Some(Call::Stream)).await);
    }
    Ok(Answer { body: resp.into(), header: None })
}
