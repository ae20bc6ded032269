//! Drives the subscribe machine with fetch, streams and one timer.
//!
//! Every I/O task reports into one channel; this loop is the only place that
//! touches the machine, so updates reach `onQueueUpdate` in the machine's order.

use std::rc::Rc;

use super::chan::{unbounded, Sender as UnboundedSender};
use gloo_timers::callback::Timeout;
use js_sys::Object;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::spawn_local;
use web_sys::AbortController;

use super::abort::OnAbort;
use super::client::Shared;
use super::error;
use super::js::{get, now, opt_f64, opt_fn, opt_signal, opt_str, set};
use super::queue::{self, SubmitExtras};
use super::stream;
use crate::proto::endpoint::EndpointId;
use crate::proto::status::Phase;
use crate::proto::subscribe::{Action, Config, End, Input, Machine, Mode};

pub enum Msg {
    Input(Input<JsValue, JsValue>),
    Tick,
}

struct Call {
    shared: Rc<Shared>,
    endpoint: Rc<EndpointId>,
    logs: bool,
    tx: UnboundedSender<Msg>,
    /// Aborts every request of this call (submit, polls, result) when it ends.
    jobs: AbortController,
}

fn config(opts: &JsValue) -> Result<Config, JsValue> {
    let mut cfg = Config::default();
    match opt_str(opts, "mode")?.as_deref() {
        None | Some("streaming") => cfg.mode = Mode::Streaming,
        Some("polling") => cfg.mode = Mode::Polling,
        Some(other) => return Err(error::config(&format!("option 'mode' must be 'streaming' or 'polling', not '{other}'"))),
    }
    if let Some(ms) = opt_f64(opts, "pollInterval", 10.0)? {
        cfg.poll_interval_ms = ms;
    }
    if let Some(ms) = opt_f64(opts, "streamStallTimeout", 10.0)? {
        cfg.stall_ms = ms;
    }
    cfg.timeout_ms = opt_f64(opts, "timeout", 0.0)?;
    Ok(cfg)
}

pub async fn subscribe(shared: Rc<Shared>, endpoint_id: String, opts: JsValue) -> Result<JsValue, JsValue> {
    let endpoint = Rc::new(queue::endpoint(&endpoint_id)?);
    let cfg = config(&opts)?;
    let timeout_ms = cfg.timeout_ms.unwrap_or(0.0);
    queue::input_json(&opts)?; // the input's shape, said before anything else
    let extras = Rc::new(SubmitExtras::from_options(&opts)?);
    let on_update = opt_fn(&opts, "onQueueUpdate")?;
    let signal = opt_signal(&opts, "signal")?;
    if let Some(s) = signal.as_ref().filter(|s| super::js::aborted(s)) {
        return Err(error::aborted(super::js::reason(s)));
    }
    super::validate::check_input(&shared, &endpoint, &get(&opts, "input"), &opts).await?;
    let input = super::storage::upload_files(&shared, &get(&opts, "input"), signal.as_ref()).await?;
    let body = Rc::<str>::from(queue::stringify(&input)?);
    if let Some(s) = signal.as_ref().filter(|s| super::js::aborted(s)) {
        return Err(error::aborted(super::js::reason(s)));
    }

    let (tx, mut rx) = unbounded::<Msg>();
    let call = Call { shared, endpoint, logs: queue::logs_flag(&opts)?, tx, jobs: AbortController::new()? };
    let _abort = signal.as_ref().map(|s| {
        let tx = call.tx.clone();
        OnAbort::new(s, move || drop(tx.unbounded_send(Msg::Input(Input::Abort))))
    });
    let mut stream: Option<AbortController> = None;
    let mut timer: Option<(f64, Timeout)> = None;
    let mut machine: Machine<JsValue, JsValue> = Machine::new(cfg, now());
    // Every log line told so far, in order: each update carries them all (a copy).
    let told_logs = js_sys::Array::new();

    let outcome = loop {
        let mut finished = None;
        while let Some(action) = machine.poll_action() {
            match action {
                Action::Submit => call.spawn_submit(body.clone(), extras.clone()),
                Action::OpenStream(id) => {
                    let ctl = AbortController::new()?;
                    let url = call.endpoint.status_stream_url(&id, call.logs);
                    spawn_local(stream::follow(call.shared.proxy.clone(), url, super::js::signal_of(&ctl), call.tx.clone()));
                    stream = Some(ctl);
                }
                Action::CloseStream => stream.take().iter().for_each(super::js::abort),
                Action::Poll(id) => call.spawn_poll(id),
                Action::FetchResult(id) => call.spawn_result(id),
                // Best effort and deliberately not tied to `jobs`: it must go out after an abort.
                Action::Cancel(id) => {
                    let (p, e) = (call.shared.clone(), call.endpoint.clone());
                    spawn_local(async move {
                        let _ = queue::cancel(&p, &e, &id).await;
                    });
                }
                Action::Emit { phase, raw, new_logs } => {
                    let lines = get(&raw, "logs");
                    if js_sys::Array::is_array(&lines) {
                        let lines: &js_sys::Array = lines.unchecked_ref();
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
                        End::TimedOut => error::timed_out(timeout_ms),
                        End::Aborted => error::aborted(signal.as_ref().map_or(JsValue::UNDEFINED, super::js::reason)),
                    }));
                }
            }
        }
        if let Some(r) = finished {
            break r;
        }
        // One timer, re-armed only when the machine's next deadline moves.
        match machine.poll_timeout() {
            None => timer = None,
            Some(at) if timer.as_ref().map(|t| t.0) != Some(at) => {
                let tx = call.tx.clone();
                let delay = (at - now()).clamp(0.0, 2_147_483_647.0) as u32;
                timer = Some((at, Timeout::new(delay, move || drop(tx.unbounded_send(Msg::Tick)))));
            }
            Some(_) => {}
        }
        match rx.next().await {
            Some(Msg::Input(input)) => machine.handle(now(), input),
            Some(Msg::Tick) => {
                timer = None;
                machine.handle_timeout(now());
            }
            None => break Err(error::protocol("internal channel closed", &JsValue::UNDEFINED)),
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
fn update_object(phase: Phase, raw: JsValue, told_logs: &js_sys::Array) -> JsValue {
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

impl Call {
    fn send(tx: &UnboundedSender<Msg>, input: Input<JsValue, JsValue>) {
        let _ = tx.unbounded_send(Msg::Input(input));
    }

    fn spawn_submit(&self, body: Rc<str>, extras: Rc<SubmitExtras>) {
        let (p, e, tx, sig) = (self.shared.clone(), self.endpoint.clone(), self.tx.clone(), super::js::signal_of(&self.jobs));
        spawn_local(async move {
            let input = match queue::submit(&p, &e, &body, &extras, Some(&sig)).await {
                Ok((request_id, status, raw)) => Input::Submitted { request_id, status, raw },
                Err(err) => Input::SubmitFailed(err),
            };
            Self::send(&tx, input);
        });
    }

    fn spawn_poll(&self, id: crate::proto::endpoint::RequestId) {
        let (p, e, tx, sig, logs) = (self.shared.clone(), self.endpoint.clone(), self.tx.clone(), super::js::signal_of(&self.jobs), self.logs);
        spawn_local(async move {
            let input = match queue::status(&p, &e, &id, logs, Some(&sig)).await {
                Ok((status, raw)) => Input::PollStatus(status, raw),
                Err(error) => Input::PollFailed(error),
            };
            Self::send(&tx, input);
        });
    }

    fn spawn_result(&self, id: crate::proto::endpoint::RequestId) {
        let (p, e, tx, sig) = (self.shared.clone(), self.endpoint.clone(), self.tx.clone(), super::js::signal_of(&self.jobs));
        spawn_local(async move {
            let input = match queue::result(&p, &e, &id, Some(&sig)).await {
                Ok(out) => Input::ResultFetched(out),
                Err(error) => Input::ResultFailed(error),
            };
            Self::send(&tx, input);
        });
    }
}

