//! Drives the subscribe machine with fetch, the status stream and one timer. Every I/O task reports into
//! one inbox; this loop is the only place that touches the machine, so updates reach
//! `onQueueUpdate` in the machine's order.

use std::rc::Rc;

use js_sys::{Array, Function, Object};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::spawn_local;
use web_sys::{AbortController, AbortSignal};

use super::conv;
use super::http;
use super::js;
use super::js::{get, now, set, signal_of};
use super::queue;
use super::shared::Shared;
use super::tasks::{Inbox, Listener, Sender};
use crate::proto::endpoint::{EndpointId, RequestId};
use crate::proto::options::SubmitExtras;
use crate::proto::shapes;
use crate::proto::sse::Parser;
use crate::proto::status::Phase;
use crate::proto::subscribe::{Action, Config, End, Input, Machine};

type In = Input<JsValue, JsValue>;

/// `client.subscribe(endpoint, options)`.
pub async fn subscribe(shared: Rc<Shared>, endpoint: JsValue, opts: JsValue) -> Result<JsValue, JsValue> {
    let ep = Rc::new(conv::endpoint(&endpoint)?);
    let plain = conv::options(&opts, &conv::SKIP)?;
    shared.warn_unknown("subscribe", &opts, &plain);
    let o = crate::proto::options::subscribe(&plain).map_err(conv::option)?;
    let hooks = Hooks { update: conv::opt_fn(&opts, "onQueueUpdate")?, enqueue: conv::opt_fn(&opts, "onEnqueue")? };
    let signal = conv::signal(&opts)?;
    conv::check(signal.as_ref())?;
    let body = queue::prepare(&shared, &ep, &opts, &plain, signal.as_ref()).await?;
    drive(shared, ep, o.machine, o.logs, Start::Submit(body.into(), o.submit), hooks, signal).await
}

/// `client.queue.subscribeToStatus` (`fetch_result`: resolves with the result) and the core of
/// `client.queue.streamStatus` (resolves with the COMPLETED status): a job followed by its id.
pub async fn follow_status(shared: Rc<Shared>, endpoint: JsValue, opts: JsValue, fetch_result: bool) -> Result<JsValue, JsValue> {
    let ep = Rc::new(conv::endpoint(&endpoint)?);
    // `input` is read here too: the core refuses it (a followed job was submitted already).
    let plain = conv::options(&opts, &["signal", "abortSignal"])?;
    shared.warn_unknown("subscribeToStatus", &opts, &plain);
    let f = crate::proto::options::follow(&plain, fetch_result).map_err(conv::option)?;
    let hooks = Hooks { update: conv::opt_fn(&opts, "onQueueUpdate")?, enqueue: None };
    let signal = conv::signal(&opts)?;
    conv::check(signal.as_ref())?;
    drive(shared, ep, f.machine, f.logs, Start::Follow(f.request_id, f.headers), hooks, signal).await
}

/// Where a call starts: a submit of this body, or a job already submitted.
enum Start {
    Submit(Rc<str>, SubmitExtras),
    /// With the call's own `headers`, for its status, result and cancel requests.
    Follow(RequestId, Vec<(String, String)>),
}

/// The caller's callbacks: every status that is news, and the id once the submit is accepted.
#[derive(Default)]
struct Hooks {
    update: Option<Function>,
    enqueue: Option<Function>,
}

/// Runs `f` in the background; its outcome goes to the machine.
fn spawn(tx: &Sender<In>, f: impl core::future::Future<Output = In> + 'static) {
    let tx = tx.clone();
    spawn_local(async move {
        tx.send(f.await);
    });
}

/// The job of `body`, submitted and followed to its result (the realtime fallback's way).
#[cfg(feature = "realtime")]
pub async fn follow(
    shared: Rc<Shared>,
    ep: Rc<EndpointId>,
    o: crate::proto::options::Subscribe,
    body: Rc<str>,
    signal: Option<AbortSignal>,
) -> Result<JsValue, JsValue> {
    drive(shared, ep, o.machine, o.logs, Start::Submit(body, o.submit), Hooks::default(), signal).await
}

/// One call: the machine started as `start` says, carried out to its end.
async fn drive(
    shared: Rc<Shared>,
    ep: Rc<EndpointId>,
    cfg: Config,
    logs: bool,
    start: Start,
    hooks: Hooks,
    signal: Option<AbortSignal>,
) -> Result<JsValue, JsValue> {
    let (tx, mut inbox) = Inbox::new();
    let (timeout_ms, fetch_result) = (cfg.timeout.map_or(0.0, |d| d.as_ms()), cfg.fetch_result);
    // Every request of this call (submit, polls, result) stops when it ends.
    let jobs = AbortController::new()?;
    let t = tx.clone();
    let _abort = Listener::on_abort(signal.as_ref(), move || {
        t.send(Input::Abort);
    });
    let mut stream: Option<AbortController> = None;
    let (mut machine, body, extras): (Machine<JsValue, JsValue>, _, _) = match start {
        Start::Submit(body, extras) => (Machine::new(cfg, now()), body, Rc::new(extras)),
        Start::Follow(id, app) => (Machine::follow(cfg, id, now()), Rc::from(""), Rc::new(SubmitExtras { app, ..SubmitExtras::default() })),
    };
    // Every log line told so far, in order: each update carries them all (a copy).
    let told = Array::new();
    let outcome = loop {
        let mut finished = None;
        while let Some(action) = machine.poll_action() {
            let (s, e, sig) = (shared.clone(), ep.clone(), signal_of(&jobs));
            match action {
                Action::Submit => {
                    let (body, extras) = (body.clone(), extras.clone());
                    spawn(&tx, async move {
                        match queue::submit(&s, &e, &body, &extras, Some(&sig)).await {
                            Ok((request_id, status, raw)) => Input::Submitted { request_id, status, raw },
                            Err(err) => Input::SubmitFailed(err),
                        }
                    });
                }
                Action::OpenStream(id) => {
                    let ctl = AbortController::new()?;
                    let t = tx.clone();
                    let url = ep.status_stream_url(&id, logs);
                    spawn_local(follow_stream(shared.clone(), extras.clone(), url, signal_of(&ctl), Box::new(move |i| t.send(i))));
                    stream = Some(ctl);
                }
                Action::CloseStream => stream.take().iter().for_each(js::abort),
                Action::Poll(id) => {
                    let x = extras.clone();
                    spawn(&tx, async move {
                        queue::status(&s, &e, &id, logs, &x.app, Some(&sig)).await.map_or_else(Input::PollFailed, |(st, raw)| Input::PollStatus(st, raw))
                    });
                }
                Action::FetchResult(id) => {
                    let (failed, x) = (machine.job_failed(), extras.clone());
                    spawn(
                        &tx,
                        async move { queue::result(&s, &e, &id, failed, &x.app, Some(&sig)).await.map_or_else(Input::ResultFailed, Input::ResultFetched) },
                    )
                }
                // Best effort and deliberately not tied to `jobs`: it must go out after an abort.
                Action::Cancel(id) => {
                    let x = extras.clone();
                    spawn_local(async move { drop(queue::cancel(&s, &e, &id, &x.app, None).await) })
                }
                // Once a callback threw, the call is over: no more callbacks.
                Action::Enqueued(_) | Action::Emit { .. } if finished.is_some() => {}
                Action::Enqueued(id) => {
                    if let Some(Err(thrown)) = hooks.enqueue.as_ref().map(|f| f.call1(&JsValue::NULL, &JsValue::from_str(id.as_str()))) {
                        machine.handle(now(), Input::Abort);
                        finished = Some(Err(thrown));
                    }
                }
                Action::Emit { phase, raw, new_logs } => {
                    let lines = get(&raw, "logs");
                    if let Some(lines) = lines.dyn_ref::<Array>() {
                        new_logs.iter().for_each(|i| {
                            told.push(&lines.get(*i as u32));
                        });
                    }
                    if let Some(Err(thrown)) = hooks.update.as_ref().map(|f| f.call1(&JsValue::NULL, &update(phase, raw, &told))) {
                        machine.handle(now(), Input::Abort);
                        finished = Some(Err(thrown));
                    }
                }
                Action::Done(r) => {
                    // A stream of statuses ends with the COMPLETED status, as its last update.
                    let r = if fetch_result { r } else { r.map(|raw| update(Phase::Completed, raw, &told)) };
                    finished.get_or_insert(r.map_err(|end| match end {
                        End::Failed(e) => e,
                        End::TimedOut => {
                            let (info, extra) = shapes::timed_out(timeout_ms);
                            conv::with(&info, &extra)
                        }
                        End::Aborted => conv::aborted(js::reason(signal.as_ref())),
                    }));
                }
            }
        }
        if let Some(r) = finished {
            break r;
        }
        match inbox.next(machine.poll_timeout()).await {
            Some(input) => machine.handle(now(), input),
            None => machine.handle_timeout(now()),
        }
    };
    js::abort(&jobs);
    stream.iter().for_each(js::abort);
    outcome
}

/// The update the caller sees: the upstream object, with its status set to the phase the
/// machine reports (they differ only for a filled-in IN_PROGRESS) and, when it has a `logs`
/// field, every line told so far in place of the ones it carried (fal's stream sends only new
/// lines, a poll a window: the caller always gets all).
fn update(phase: Phase, raw: JsValue, told: &Array) -> JsValue {
    let copy = Object::assign(&Object::new(), &raw.unchecked_into());
    if get(&copy, "status").as_string().as_deref() != Some(phase.as_str()) {
        set(&copy, "status", &JsValue::from_str(phase.as_str()));
        let _ = js_sys::Reflect::delete_property(&copy, &JsValue::from_str("metrics"));
    }
    if js_sys::Reflect::has(&copy, &JsValue::from_str("logs")).unwrap_or(false) || told.length() > 0 {
        set(&copy, "logs", &told.slice(0, told.length()));
    }
    copy.into()
}

/// The status stream (SSE over fetch: EventSource can't send the `x-fal-target-url` header) as
/// machine inputs.
type Sink = dyn Fn(Input<JsValue, JsValue>) -> bool;

/// Runs until the stream ends, breaks, or `signal` aborts it. Every way out other than an abort
/// reports `StreamBroken`; the machine ignores it once done. `sink` is false once nobody listens.
async fn follow_stream(shared: Rc<Shared>, extras: Rc<crate::proto::options::SubmitExtras>, url: String, signal: AbortSignal, sink: Box<Sink>) {
    let _ = read(&shared, &extras.app, &url, &signal, &*sink).await;
    if !js::aborted(&signal) {
        sink(Input::StreamBroken);
    }
}

async fn read(shared: &Shared, headers: &[(String, String)], url: &str, signal: &AbortSignal, sink: &Sink) -> Result<(), JsValue> {
    let resp =
        http::send(shared.net(), &shared.cfg().proxy_url, "GET", url, None, headers, "text/event-stream", Some(signal)).await.map_err(http::Fail::into_js)?;
    let reader = http::reader(&resp).filter(|_| http::ok(&resp)).ok_or(JsValue::NULL)?;
    let (mut parser, mut events) = (Parser::default(), Vec::new());
    let send = |i| sink(i).then_some(()).ok_or(JsValue::NULL);
    // A proxy that overwrote `accept` gets JSON, not a stream: the machine polls at once.
    let event_stream = http::header(&resp, "content-type").is_some_and(|t| crate::proto::sse::is_event_stream(&t));
    send(Input::StreamOpened { event_stream })?;
    while let Some(bytes) = http::chunk(&reader).await? {
        if bytes.is_empty() {
            continue;
        }
        send(Input::StreamActivity)?;
        parser.feed(&bytes, &mut events).map_err(|e| JsValue::from_str(&e.to_string()))?;
        for ev in events.drain(..) {
            let raw = js_sys::JSON::parse(&ev.data)?;
            let status = crate::proto::host::status(&raw, false).map_err(|e| JsValue::from_str(&e.0))?;
            send(Input::StreamStatus(status, raw))?;
        }
    }
    Ok(())
}
