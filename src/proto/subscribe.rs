//! The subscribe state machine: submit, follow the status (stream first, polling
//! when the stream can't open, breaks or goes silent), fetch the result.
//!
//! Sans-IO: the driver feeds it [`Input`]s with the current time, asks
//! [`Machine::poll_timeout`] when to wake it, and carries out the [`Action`]s it
//! emits in order. `P` is the driver's payload (a JS object in the browser), `E`
//! its error type; the machine never looks inside either.

use std::collections::VecDeque;

use super::logs::LogBook;
use super::status::{Phase, Status};
use crate::proto::endpoint::RequestId;
use crate::proto::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Streaming,
    Polling,
}

/// fal's keep-alive interval on the status stream (the docs' status-stream page).
pub const UPSTREAM_KEEPALIVE_MS: f64 = 15_000.0;
/// Two keep-alive intervals and a margin.
pub const DEFAULT_STALL_MS: f64 = 2.0 * UPSTREAM_KEEPALIVE_MS + 5_000.0;
pub const DEFAULT_POLL_INTERVAL_MS: f64 = 500.0;
/// The status stream's answer (its head) is expected within this many round trips of the
/// submit, and never sooner than [`STREAM_OPEN_FLOOR_MS`]: a proxy that holds the answer back
/// until the job ends (Next.js' Pages router reads every answer whole) shows itself there, long
/// before the stall window, and genwire polls instead. fal answers a stream's head at once,
/// events or not, so a false alarm only costs polling.
pub const STREAM_OPEN_RTTS: f64 = 4.0;
pub const STREAM_OPEN_FLOOR_MS: f64 = 1_000.0;

#[derive(Debug, Clone)]
pub struct Config {
    pub mode: Mode,
    /// Between two status polls.
    pub poll_interval: Duration,
    /// A stream that shows no byte (event or keep-alive) for this long is given up for polling.
    /// fal sends a keep-alive every 15 s, so the default (35 s) survives one lost keep-alive
    /// and a slow network without ever racing the next one.
    pub stall: Duration,
    /// Whole-call deadline; on expiry the job is cancelled upstream and the call fails.
    pub timeout: Option<Duration>,
    /// Whether an abort cancels the job upstream. A job this call submitted is cancelled (nobody
    /// else is waiting for it); a job followed by its id (submitted elsewhere, or by a page before
    /// a reload) is only let go, unless the caller says it owns it.
    pub cancel_on_abort: bool,
    /// Whether the call ends with the job's result (`FetchResult`), or with its COMPLETED status
    /// (a stream of statuses: `Done(Ok(status))`, nothing fetched).
    pub fetch_result: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            mode: Mode::Streaming,
            poll_interval: Duration::ms(DEFAULT_POLL_INTERVAL_MS),
            stall: Duration::ms(DEFAULT_STALL_MS),
            timeout: None,
            cancel_on_abort: true,
            fetch_result: true,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Input<P, E> {
    Submitted {
        request_id: RequestId,
        status: Status,
        raw: P,
    },
    SubmitFailed(E),
    /// The stream's answer arrived (its head): as an event stream, or as something else (a
    /// proxy that overwrote `accept`, and got JSON).
    StreamOpened {
        event_stream: bool,
    },
    /// Any byte arrived on the stream (an event or a keep-alive comment).
    StreamActivity,
    StreamStatus(Status, P),
    /// The stream could not open, broke, sent garbage or ended before COMPLETED.
    StreamBroken,
    PollStatus(Status, P),
    /// A poll failed for good: the retry policy already repeated it as far as it would.
    PollFailed(E),
    ResultFetched(P),
    ResultFailed(E),
    Abort,
}

#[derive(Debug, Clone, PartialEq)]
pub enum End<E> {
    Failed(E),
    TimedOut,
    Aborted,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action<P, E> {
    Submit,
    /// The submit was accepted under this id: told to the caller once, before any status (fal-js'
    /// `onEnqueue`). A followed job (its id known from the start) has none.
    Enqueued(RequestId),
    OpenStream(RequestId),
    CloseStream,
    Poll(RequestId),
    FetchResult(RequestId),
    Cancel(RequestId),
    /// Tell the caller. `phase` differs from the payload's own status only when
    /// the machine fills in a transition polling skipped over. `new_logs` are the
    /// indices, into the payload's `logs`, of the lines not seen before (in order):
    /// the caller's update carries every line so far, these appended.
    Emit {
        phase: Phase,
        raw: P,
        new_logs: Vec<usize>,
    },
    Done(Result<P, End<E>>),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    Submitting,
    /// A followed job's first status poll: it stands in for the submit (the job's phase, a round
    /// trip to size the stream's open deadline, an unknown id failing at once).
    Probing,
    /// `open_by`: until the stream's head arrives, when a proxy is taken to be holding it back.
    Streaming {
        last_activity: Instant,
        open_by: Option<Instant>,
    },
    PollWait {
        at: Instant,
    },
    Polling,
    FetchingResult,
    Done,
}

#[derive(Debug)]
pub struct Machine<P, E> {
    cfg: Config,
    state: State,
    request_id: Option<RequestId>,
    /// The phase and queue position last told.
    seen: Option<(Phase, Option<u64>)>,
    /// Every log line told so far, merged across deltas, snapshots and windows.
    logs: LogBook,
    deadline: Option<Instant>,
    /// When the submit went out, to time its round trip.
    started: Instant,
    /// The job's COMPLETED status said it failed (`error`, `error_type`): its result is its error.
    failed: bool,
    fell_back: bool,
    actions: VecDeque<Action<P, E>>,
}

impl<P: Clone, E> Machine<P, E> {
    /// A call that submits the job, then follows it.
    pub fn new(cfg: Config, now: Instant) -> Self {
        Self::start(cfg, now, State::Submitting, None, Action::Submit)
    }

    /// A call that follows a job already submitted (`subscribeToStatus`, a job resumed after a
    /// reload): its status is polled once, then it goes on as after a submit.
    pub fn follow(cfg: Config, request_id: RequestId, now: Instant) -> Self {
        let first = Action::Poll(request_id.clone());
        Self::start(cfg, now, State::Probing, Some(request_id), first)
    }

    fn start(cfg: Config, now: Instant, state: State, request_id: Option<RequestId>, first: Action<P, E>) -> Self {
        let deadline = cfg.timeout.map(|t| now + t);
        let mut actions = VecDeque::new();
        actions.push_back(first);
        Self { cfg, state, request_id, seen: None, logs: LogBook::default(), deadline, started: now, failed: false, fell_back: false, actions }
    }

    pub fn poll_action(&mut self) -> Option<Action<P, E>> {
        self.actions.pop_front()
    }

    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// True once the machine gave up on the stream and polls instead.
    pub fn fell_back(&self) -> bool {
        self.fell_back
    }

    pub fn request_id(&self) -> Option<&RequestId> {
        self.request_id.as_ref()
    }

    /// The job ended COMPLETED with `error`/`error_type` (fal's sign of a failed job): whatever
    /// its result answers is its error, even as a 2xx from a proxy that answers everything 200.
    pub fn job_failed(&self) -> bool {
        self.failed
    }

    /// The earliest time at which [`Machine::handle_timeout`] has work to do.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let own = match self.state {
            State::Streaming { last_activity, open_by } => Some(open_by.map_or(last_activity + self.cfg.stall, |t| t.min(last_activity + self.cfg.stall))),
            State::PollWait { at } => Some(at),
            State::Done => return None,
            _ => None,
        };
        match (own, self.deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        if self.state == State::Done {
            return;
        }
        if self.deadline.is_some_and(|d| now >= d) {
            return self.finish_early(End::TimedOut);
        }
        match self.state {
            State::Streaming { last_activity, .. } if now >= last_activity + self.cfg.stall => self.fall_back(),
            State::Streaming { open_by: Some(t), .. } if now >= t => self.fall_back(),
            State::PollWait { at } if now >= at => self.poll_now(),
            _ => {}
        }
    }

    pub fn handle(&mut self, now: Instant, input: Input<P, E>) {
        if self.state == State::Done {
            return;
        }
        match (self.state, input) {
            (_, Input::Abort) => self.finish_early(End::Aborted),
            (State::Submitting, Input::Submitted { request_id, status, raw }) => {
                self.request_id = Some(request_id.clone());
                self.actions.push_back(Action::Enqueued(request_id));
                self.begin(now, status, raw);
            }
            (State::Probing, Input::PollStatus(status, raw)) => self.begin(now, status, raw),
            (State::Probing, Input::PollFailed(e)) => self.finish(Err(End::Failed(e))),
            (State::Submitting, Input::SubmitFailed(e)) => self.finish(Err(End::Failed(e))),
            // An answer that is not an event stream will never stream: poll at once.
            (State::Streaming { .. }, Input::StreamOpened { event_stream: false }) => self.fall_back(),
            (State::Streaming { last_activity, .. }, Input::StreamOpened { event_stream: true }) => {
                self.state = State::Streaming { last_activity, open_by: None }
            }
            (State::Streaming { .. }, Input::StreamActivity) => self.state = State::Streaming { last_activity: now, open_by: None },
            (State::Streaming { .. }, Input::StreamStatus(status, raw)) => {
                self.state = State::Streaming { last_activity: now, open_by: None };
                if self.observe(status, raw.clone()) == Phase::Completed {
                    self.actions.push_back(Action::CloseStream);
                    self.fetch_result(raw);
                }
            }
            (State::Streaming { .. }, Input::StreamBroken) => self.fall_back(),
            (State::Polling, Input::PollStatus(status, raw)) => {
                if self.observe(status, raw.clone()) == Phase::Completed {
                    self.fetch_result(raw);
                } else {
                    self.state = State::PollWait { at: now + self.cfg.poll_interval };
                }
            }
            (State::Polling, Input::PollFailed(e)) | (State::FetchingResult, Input::ResultFailed(e)) => self.finish(Err(End::Failed(e))),
            (State::FetchingResult, Input::ResultFetched(raw)) => self.finish(Ok(raw)),
            // Late answers of something already given up (a stream event queued
            // before the fallback, a poll answered after completion): nothing to do.
            _ => {}
        }
    }

    /// The job's first status is known (the submit's answer, or a followed job's first poll):
    /// on to its result, the stream, or polling.
    fn begin(&mut self, now: Instant, status: Status, raw: P) {
        let Some(request_id) = self.request_id.clone() else { return };
        let phase = status.phase;
        self.observe(status, raw.clone());
        if phase == Phase::Completed {
            self.fetch_result(raw);
        } else if self.cfg.mode == Mode::Streaming {
            let rtt = now - self.started;
            let open_by = now + Duration::ms((rtt.as_ms() * STREAM_OPEN_RTTS).max(STREAM_OPEN_FLOOR_MS));
            self.state = State::Streaming { last_activity: now, open_by: Some(open_by) };
            self.actions.push_back(Action::OpenStream(request_id));
        } else if self.state == State::Probing {
            // The probe was the first poll: the next one waits its interval.
            self.state = State::PollWait { at: now + self.cfg.poll_interval };
        } else {
            // The first poll goes at once: a fast job may be done already, and
            // waiting a whole interval would add it to every short job.
            self.poll_now();
        }
    }

    /// Emits the status if it is news, and returns the phase the job is now known to be in.
    fn observe(&mut self, status: Status, raw: P) -> Phase {
        if let Some((phase, _)) = self.seen {
            // An answer from before what was already told (a late poll): not news, and its
            // logs are not merged either, so no line is marked seen without being told.
            if status.phase < phase {
                return phase;
            }
        }
        let new_logs = self.logs.merge(&status.logs);
        let news = match self.seen {
            None => true,
            Some((phase, pos)) => match (status.phase > phase, phase) {
                (true, _) => true,
                (false, Phase::InQueue) => status.queue_position != pos || !new_logs.is_empty(),
                (false, Phase::InProgress) => !new_logs.is_empty(),
                (false, Phase::Completed) => false,
            },
        };
        if !news {
            return self.seen.map_or(status.phase, |s| s.0);
        }
        // A job that went from the queue to done between two polls still ran:
        // say so, so a UI's state machine sees every transition.
        if status.phase == Phase::Completed && matches!(self.seen, Some((Phase::InQueue, _))) {
            self.actions.push_back(Action::Emit { phase: Phase::InProgress, raw: raw.clone(), new_logs: Vec::new() });
        }
        self.seen = Some((status.phase, status.queue_position));
        self.failed |= status.phase == Phase::Completed && status.failed;
        self.actions.push_back(Action::Emit { phase: status.phase, raw, new_logs });
        status.phase
    }

    fn fall_back(&mut self) {
        self.fell_back = true;
        self.actions.push_back(Action::CloseStream);
        self.poll_now();
    }

    fn poll_now(&mut self) {
        if let Some(id) = self.request_id.clone() {
            self.state = State::Polling;
            self.actions.push_back(Action::Poll(id));
        }
    }

    /// The job completed (`status` is its COMPLETED status): its result is fetched, or, for a
    /// stream of statuses, that status ends the call.
    fn fetch_result(&mut self, status: P) {
        if !self.cfg.fetch_result {
            return self.finish(Ok(status));
        }
        if let Some(id) = self.request_id.clone() {
            self.state = State::FetchingResult;
            self.actions.push_back(Action::FetchResult(id));
        }
    }

    /// Ends before the job finished: the stream is closed and the job cancelled upstream.
    fn finish_early(&mut self, why: End<E>) {
        let ours = self.cfg.cancel_on_abort || !matches!(why, End::Aborted);
        let running = ours && !matches!(self.seen, Some((Phase::Completed, _)));
        if matches!(self.state, State::Streaming { .. }) {
            self.actions.push_back(Action::CloseStream);
        }
        if let (true, Some(id)) = (running, self.request_id.clone()) {
            self.actions.push_back(Action::Cancel(id));
        }
        self.finish(Err(why));
    }

    fn finish(&mut self, outcome: Result<P, End<E>>) {
        self.state = State::Done;
        self.actions.push_back(Action::Done(outcome));
    }
}

#[cfg(test)]
mod tests;
