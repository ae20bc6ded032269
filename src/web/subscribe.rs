//! Drives the subscribe machine with fetch, streams and one timer.
//!
//! Every I/O task reports into one channel; this loop is the only place that
//! touches the machine, so updates reach `onQueueUpdate` in the machine's order.

use std::rc::Rc;

use js_sys::{Array, Function, Object};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::spawn_local;
use web_sys::{AbortController, AbortSignal};

use super::abort::OnAbort;
use super::chan::{unbounded, Sender};
use super::error;
use super::js::{get, now, set, signal_of};
use super::listen::Alarm;
use super::queue;
use super::shared::Shared;
use crate::proto::endpoint::{EndpointId, RequestId};
use crate::proto::options::{SubmitExtras, Subscribe};
use crate::proto::shapes;
use crate::proto::status::Phase;
use crate::proto::subscribe::{Action, End, Input, Machine};

enum Msg {
    Input(Input<JsValue, JsValue>),
    Tick,
}

/// `client.subscribe(endpoint, options)`.
pub async fn subscribe(shared: Rc<Shared>, endpoint: String, opts: JsValue) -> Result<JsValue, JsValue> {
    let ep = Rc::new(error::endpoint(&endpoint)?);
    let plain = error::options(&opts, &["input", "signal"])?;
    let o = crate::proto::options::subscribe(&plain).map_err(error::option)?;
    let on_update = error::opt_fn(&opts, "onQueueUpdate")?;
    let signal = error::opt_signal(&opts, "signal")?;
    error::check(signal.as_ref())?;
    let body = queue::prepare(&shared, &ep, &opts, &plain, signal.as_ref()).await?;
    follow(shared, ep, o, body.into(), on_update, signal).await
}

/// The job of `body`, submitted and followed to its result (also the realtime fallback's way).
pub async fn follow(
    shared: Rc<Shared>,
    ep: Rc<EndpointId>,
    o: Subscribe,
    body: Rc<str>,
    on_update: Option<Function>,
    signal: Option<AbortSignal>,
) -> Result<JsValue, JsValue> {
    let (tx, mut rx) = unbounded::<Msg>();
    let timeout_ms = o.machine.timeout.map_or(0.0, |d| d.as_ms());
    let call = Job { shared, ep, logs: o.logs, tx, jobs: AbortController::new()? };
    let extras = Rc::new(o.submit);
    let _abort = signal.as_ref().map(|s| {
        let tx = call.tx.clone();
        OnAbort::new(s, move || drop(tx.unbounded_send(Msg::Input(Input::Abort))))
    });
    let mut stream: Option<AbortController> = None;
    let mut alarm = Alarm::default();
    let mut machine: Machine<JsValue, JsValue> = Machine::new(o.machine, now());
    // Every log line told so far, in order: each update carries them all (a copy).
    let told_logs = Array::new();

    let outcome = loop {
        let mut finished = None;
        while let Some(action) = machine.poll_action() {
            match action {
                Action::Submit => call.submit(body.clone(), extras.clone()),
                Action::OpenStream(id) => {
                    let ctl = AbortController::new()?;
                    let url = call.ep.status_stream_url(&id, call.logs);
                    let tx = call.tx.clone();
                    let sink = Box::new(move |i| tx.unbounded_send(Msg::Input(i)).is_ok());
                    spawn_local(super::stream::follow(call.shared.cfg().proxy_url.clone(), url, signal_of(&ctl), sink));
                    stream = Some(ctl);
                }
                Action::CloseStream => stream.take().iter().for_each(super::js::abort),
                Action::Poll(id) => call.poll(id),
                Action::FetchResult(id) => call.result(id),
                // Best effort and deliberately not tied to `jobs`: it must go out after an abort.
                Action::Cancel(id) => {
                    let (p, e) = (call.shared.clone(), call.ep.clone());
                    spawn_local(async move {
                        let _ = queue::cancel(&p, &e, &id).await;
                    });
                }
                Action::Emit { phase, raw, new_logs } => {
                    let lines = get(&raw, "logs");
                    if Array::is_array(&lines) {
                        let lines: &Array = lines.unchecked_ref();
                        for i in new_logs {
                            told_logs.push(&lines.get(i as u32));
                        }
                    }
                    if let Some(f) = &on_update {
                        if let Err(thrown) = f.call1(&JsValue::NULL, &update_object(phase, raw, &told_logs)) {
                            machine.handle(now(), Input::Abort);
                            finished = Some(Err(thrown));
                        }
                    }
                }
                Action::Done(r) => {
                    finished.get_or_insert(r.map_err(|end| match end {
                        End::Failed(e) => e,
                        End::TimedOut => {
                            let (info, extra) = shapes::timed_out(timeout_ms);
                            error::with(&info, &extra)
                        }
                        End::Aborted => error::aborted(super::js::reason(signal.as_ref())),
                    }));
                }
            }
        }
        if let Some(r) = finished {
            break r;
        }
        let tx = call.tx.clone();
        alarm.set(machine.poll_timeout(), move || drop(tx.unbounded_send(Msg::Tick)));
        match rx.next().await {
            Msg::Input(input) => machine.handle(now(), input),
            Msg::Tick => {
                alarm.fired();
                machine.handle_timeout(now());
            }
        }
    };
    super::js::abort(&call.jobs);
    if let Some(s) = stream {
        super::js::abort(&s);
    }
    outcome
}

/// The update the caller sees: the upstream object, with its status set to the
/// phase the machine reports (they differ only for a filled-in IN_PROGRESS) and, when
/// it has a `logs` field, every line told so far in place of the ones it carried
/// (fal's stream sends only new lines, a poll a window: the caller always gets all).
fn update_object(phase: Phase, raw: JsValue, told_logs: &Array) -> JsValue {
    let copy = Object::assign(&Object::new(), &raw.unchecked_into());
    if get(&copy, "status").as_string().as_deref() != Some(phase.as_str()) {
        set(&copy, "status", &JsValue::from_str(phase.as_str()));
        let _ = js_sys::Reflect::delete_property(&copy, &JsValue::from_str("metrics"));
    }
    if js_sys::Reflect::has(&copy, &JsValue::from_str("logs")).unwrap_or(false) || told_logs.length() > 0 {
        set(&copy, "logs", &told_logs.slice(0, told_logs.length()));
    }
    copy.into()
}

/// The requests of one subscribe call.
struct Job {
    shared: Rc<Shared>,
    ep: Rc<EndpointId>,
    logs: bool,
    tx: Sender<Msg>,
    /// Aborts every request of this call (submit, polls, result) when it ends.
    jobs: AbortController,
}

impl Job {
    /// Runs `f` in the background with the call's state; its input goes to the machine.
    fn spawn<F>(&self, f: impl FnOnce(Rc<Shared>, Rc<EndpointId>, AbortSignal) -> F)
    where
        F: core::future::Future<Output = Input<JsValue, JsValue>> + 'static,
    {
        let tx = self.tx.clone();
        let fut = f(self.shared.clone(), self.ep.clone(), signal_of(&self.jobs));
        spawn_local(async move {
            let _ = tx.unbounded_send(Msg::Input(fut.await));
        });
    }

    fn submit(&self, body: Rc<str>, extras: Rc<SubmitExtras>) {
        self.spawn(|s, e, sig| async move {
            match queue::submit(&s, &e, &body, &extras, Some(&sig)).await {
                Ok((request_id, status, raw)) => Input::Submitted { request_id, status, raw },
                Err(err) => Input::SubmitFailed(err),
            }
        });
    }

    fn poll(&self, id: RequestId) {
        let logs = self.logs;
        self.spawn(|s, e, sig| async move {
            match queue::status(&s, &e, &id, logs, Some(&sig)).await {
                Ok((status, raw)) => Input::PollStatus(status, raw),
                Err(error) => Input::PollFailed(error),
            }
        });
    }

    fn result(&self, id: RequestId) {
        self.spawn(|s, e, sig| async move {
            match queue::result(&s, &e, &id, Some(&sig)).await {
                Ok(out) => Input::ResultFetched(out),
                Err(error) => Input::ResultFailed(error),
            }
        });
    }
}
