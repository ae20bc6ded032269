//! One realtime connection as a state machine: token, socket, throttle, buffer, reconnection,
//! idle close, offline/visible, the polling fallback, and the end (the app's close, or fatal).
//!
//! Sans-IO like the subscribe machine: the edge feeds [`Input`]s with the time, carries out
//! [`Action`]s in order, and wakes it at [`Connection::poll_timeout`]. Each state holds its own
//! data (the socket being opened, the open socket's notices, the fallback's pending input), so no
//! combination that means nothing can be built. Every socket, token fetch and fallback job has an
//! id that goes out in an action and comes back in the inputs about it: an event of a socket
//! already replaced, a token fetched for an attempt given up, or a job of a connection that moved
//! on is dropped here. `P` is an input as the edge holds it, `R` a result.

use std::collections::VecDeque;

use super::frame::{Fatal, Frame, Problem};
use super::reconnect::{classify_close, Backoff, CloseKind, Notice, ReconnectConfig};
use super::throttle::Throttle;
use crate::proto::rand::Rng;
use crate::proto::time::{Duration, Instant};
use crate::proto::value::Value;

pub const DEFAULT_THROTTLE_MS: f64 = 128.0;
pub const DEFAULT_TOKEN_TTL_MS: f64 = 120_000.0;
pub const DEFAULT_FALLBACK_AFTER: u32 = 3;
pub const DEFAULT_FALLBACK_RETRY_MS: f64 = 30_000.0;

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub throttle: Duration,
    pub reconnect: ReconnectConfig,
    /// Lifetime asked for each token; it is refreshed at 90% of it.
    pub token_ttl: Duration,
    /// Consecutive attempts that fail before the socket opens, before falling back to polling.
    pub fallback_after: u32,
    /// In fallback, how long before the socket is tried again.
    pub fallback_retry: Duration,
    /// Inputs kept while not connected (the newest ones).
    pub buffer: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            throttle: Duration::ms(DEFAULT_THROTTLE_MS),
            reconnect: ReconnectConfig::default(),
            token_ttl: Duration::ms(DEFAULT_TOKEN_TTL_MS),
            fallback_after: DEFAULT_FALLBACK_AFTER,
            fallback_retry: Duration::ms(DEFAULT_FALLBACK_RETRY_MS),
            buffer: 1,
        }
    }
}

/// A socket the edge opened for an [`Action::Open`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SocketId(pub u32);
/// A token fetch of an [`Action::FetchToken`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenId(pub u32);
/// A fallback submission through the queue of an [`Action::Submit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobId(pub u32);

/// What the app's `onStatus` sees.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    /// No socket, none needed: the next send opens one.
    Idle,
    Connecting {
        attempt: u32,
    },
    Open,
    Reconnecting {
        attempt: u32,
        delay: Duration,
    },
    /// The browser is offline; reconnects when it comes back.
    Offline,
    /// Sockets fail; inputs go through the queue until a socket opens again.
    Fallback,
    Closed,
}

impl Status {
    pub const NAMES: [&'static str; 7] = ["idle", "connecting", "open", "reconnecting", "offline", "fallback", "closed"];

    pub fn name(&self) -> &'static str {
        match self {
            Status::Idle => "idle",
            Status::Connecting { .. } => "connecting",
            Status::Open => "open",
            Status::Reconnecting { .. } => "reconnecting",
            Status::Offline => "offline",
            Status::Fallback => "fallback",
            Status::Closed => "closed",
        }
    }

    /// `{status, attempt?, delayMs?}`.
    pub fn to_value(&self) -> Value {
        let mut o = vec![("status".to_string(), Value::Str(self.name().into()))];
        match self {
            Status::Connecting { attempt } => o.push(("attempt".into(), Value::Num(f64::from(*attempt)))),
            Status::Reconnecting { attempt, delay } => {
                o.push(("attempt".into(), Value::Num(f64::from(*attempt))));
                o.push(("delayMs".into(), Value::Num(delay.as_ms())));
            }
            _ => {}
        }
        Value::Obj(o)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Input<P, R> {
    Send(P),
    /// The answer of [`Action::FetchToken`]: the token, or whether asking again may help.
    Token {
        id: TokenId,
        token: Result<String, bool>,
    },
    Opened {
        socket: SocketId,
    },
    Frame {
        socket: SocketId,
        frame: Frame<R>,
    },
    Closed {
        socket: SocketId,
        code: u16,
    },
    Online,
    Offline,
    Visible,
    /// `reconnect()` by hand.
    Reconnect,
    /// The last `close()`.
    Close,
    /// A fallback submission ended: its result, or its error.
    JobDone {
        job: JobId,
        outcome: Result<R, R>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action<P, R> {
    FetchToken(TokenId),
    /// Open a socket with this token (replacing any other: the old one's events are dropped here).
    Open {
        socket: SocketId,
        token: String,
    },
    /// Send on the open socket.
    Send(P),
    /// Close the current socket, quietly.
    CloseSocket,
    /// Send through the queue (the polling fallback); answer with [`Input::JobDone`].
    Submit {
        job: JobId,
        input: P,
    },
    /// Abort that submission: it cancels its job upstream and stops polling.
    AbortJob(JobId),
    /// To every subscriber's `onResult`.
    Result(R),
    /// A fallback submission's error, to every `onError`.
    JobFailed(R),
    /// A problem to every `onError`; the connection goes on.
    Report(Problem),
    Status(Status),
    /// Free the connection's key: a fresh `connect()` with it starts a new connection. Comes
    /// before the news of a fatal end, so a subscriber told of it can connect again at once.
    Release,
    /// The connection ended for good (after [`Action::Status`] closed).
    Fatal(Fatal),
}

/// A socket being had: its token first, then the socket itself.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Attempt {
    socket: SocketId,
    step: Step,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Step {
    Token(TokenId),
    /// `fresh`: the token was fetched for this attempt (a refusal of it is final).
    Opening {
        fresh: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Live {
    socket: SocketId,
    since: Instant,
    fresh: bool,
    /// What the server said it is about to do.
    notice: Option<Notice>,
    /// A token refresh in flight.
    refresh: Option<TokenId>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Probe {
    At(Instant),
    Trying(Attempt),
}

#[derive(Debug)]
enum State<P> {
    Idle,
    Connecting(Attempt),
    Open(Live),
    Backoff {
        until: Instant,
    },
    Offline,
    /// Inputs go through the queue, one job at a time (the newest waits in `next`); a socket is
    /// tried again in the background.
    Fallback {
        probe: Probe,
        next: Option<P>,
    },
    Closed,
}

#[derive(Debug, Clone)]
struct Token {
    value: String,
    refresh_at: Instant,
}

#[derive(Debug)]
pub struct Connection<P, R> {
    cfg: Config,
    state: State<P>,
    throttle: Throttle<P>,
    buffer: VecDeque<P>,
    backoff: Backoff,
    token: Option<Token>,
    failed_opens: u32,
    /// The fallback submission in flight (it may outlive the fallback).
    job: Option<JobId>,
    /// The browser's word (`online`/`offline` events); a drop while offline waits for online.
    online: bool,
    rng: Rng,
    ids: u32,
    status: Status,
    actions: VecDeque<Action<P, R>>,
}

impl<P, R> Connection<P, R> {
    pub fn new(cfg: Config, seed: u64) -> Self {
        Self {
            throttle: Throttle::new(cfg.throttle),
            backoff: Backoff::new(cfg.reconnect.clone()),
            cfg,
            state: State::Idle,
            buffer: VecDeque::new(),
            token: None,
            failed_opens: 0,
            job: None,
            online: true,
            rng: Rng::new(seed),
            ids: 0,
            status: Status::Idle,
            actions: VecDeque::new(),
        }
    }

    pub fn poll_action(&mut self) -> Option<Action<P, R>> {
        self.actions.pop_front()
    }

    pub fn status(&self) -> &Status {
        &self.status
    }

    pub fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed)
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        let own = match &self.state {
            State::Closed => return None,
            State::Backoff { until } => Some(*until),
            State::Fallback { probe: Probe::At(t), .. } => Some(*t),
            State::Open(live) if live.refresh.is_none() => self.token.as_ref().map(|t| t.refresh_at),
            _ => None,
        };
        [own, self.throttle.poll_timeout()].into_iter().flatten().reduce(Instant::min)
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        if self.is_closed() {
            return;
        }
        if let Some(x) = self.throttle.handle_timeout(now) {
            self.deliver(now, x);
        }
        match &mut self.state {
            State::Backoff { until } if now >= *until => {
                self.state = State::Idle;
                self.connect(now);
            }
            State::Fallback { probe: Probe::At(t), .. } if now >= *t => self.connect(now),
            State::Open(live) if live.refresh.is_none() && self.token.as_ref().is_some_and(|t| now >= t.refresh_at) => {
                // Refreshed ahead of expiry; the open socket is not touched.
                self.ids += 1;
                let id = TokenId(self.ids);
                live.refresh = Some(id);
                self.actions.push_back(Action::FetchToken(id));
            }
            _ => {}
        }
    }

    pub fn handle(&mut self, now: Instant, input: Input<P, R>) {
        if self.is_closed() {
            return;
        }
        match input {
            Input::Send(p) => {
                if let Some(x) = self.throttle.push(now, p) {
                    self.deliver(now, x);
                }
            }
            Input::Token { id, token } => self.token(now, id, token),
            Input::Opened { socket } => self.opened(now, socket),
            Input::Frame { socket, frame } => self.frame(socket, frame),
            Input::Closed { socket, code } => self.closed(now, socket, code),
            Input::Offline => {
                self.online = false;
                if let State::Backoff { .. } = self.state {
                    self.state = State::Offline;
                    self.set_status(Status::Offline);
                }
            }
            Input::Online => {
                self.online = true;
                if let State::Offline = self.state {
                    self.backoff.reset();
                    self.state = State::Idle;
                    self.connect(now);
                }
            }
            Input::Visible => {
                if let State::Backoff { .. } = self.state {
                    self.state = State::Idle;
                    self.connect(now);
                }
            }
            Input::Reconnect => {
                self.backoff.reset();
                self.failed_opens = 0;
                if self.socket().is_some() {
                    self.actions.push_back(Action::CloseSocket);
                }
                self.state = State::Idle;
                self.connect(now);
            }
            Input::Close => {
                self.end();
                self.set_status(Status::Closed);
            }
            Input::JobDone { job, outcome } => {
                if self.job != Some(job) {
                    return;
                }
                self.job = None;
                self.actions.push_back(match outcome {
                    Ok(r) => Action::Result(r),
                    Err(e) => Action::JobFailed(e),
                });
                if let State::Fallback { next, .. } = &mut self.state {
                    if let Some(x) = next.take() {
                        self.submit(x);
                    }
                }
            }
        }
    }

    /// The attempt under way, in front or behind the fallback.
    fn attempt(&mut self) -> Option<&mut Attempt> {
        match &mut self.state {
            State::Connecting(a) | State::Fallback { probe: Probe::Trying(a), .. } => Some(a),
            _ => None,
        }
    }

    /// The socket the edge holds for this connection, if any.
    fn socket(&mut self) -> Option<SocketId> {
        match &mut self.state {
            State::Open(live) => Some(live.socket),
            _ => self.attempt().filter(|a| matches!(a.step, Step::Opening { .. })).map(|a| a.socket),
        }
    }

    fn set_status(&mut self, s: Status) {
        if self.status != s {
            self.status = s.clone();
            self.actions.push_back(Action::Status(s));
        }
    }

    /// An input the throttle let through.
    fn deliver(&mut self, now: Instant, x: P) {
        match self.state {
            State::Open(_) => self.actions.push_back(Action::Send(x)),
            State::Fallback { .. } => self.submit(x),
            _ => {
                if self.buffer.len() >= self.cfg.buffer.max(1) {
                    self.buffer.pop_front();
                }
                self.buffer.push_back(x);
                if let State::Idle = self.state {
                    self.connect(now);
                }
            }
        }
    }

    /// One submission in flight through the queue; the newest waits, older ones are dropped.
    fn submit(&mut self, x: P) {
        if self.job.is_none() {
            self.ids += 1;
            self.job = Some(JobId(self.ids));
            self.actions.push_back(Action::Submit { job: JobId(self.ids), input: x });
        } else if let State::Fallback { next, .. } = &mut self.state {
            *next = Some(x);
        }
    }

    /// Starts an attempt: with the cached token if it is still good, else with a new one.
    fn connect(&mut self, now: Instant) {
        self.ids += 2;
        let socket = SocketId(self.ids - 1);
        let token = self.token.as_ref().filter(|t| now < t.refresh_at).map(|t| t.value.clone());
        let (step, action) = match token {
            Some(token) => (Step::Opening { fresh: false }, Action::Open { socket, token }),
            // A token past its refresh point may expire mid-handshake: get a new one.
            None => (Step::Token(TokenId(self.ids)), Action::FetchToken(TokenId(self.ids))),
        };
        let attempt = Attempt { socket, step };
        if let State::Fallback { probe, .. } = &mut self.state {
            *probe = Probe::Trying(attempt);
        } else {
            self.state = State::Connecting(attempt);
            self.set_status(Status::Connecting { attempt: self.backoff.attempt() + 1 });
        }
        self.actions.push_back(action);
    }

    fn token(&mut self, now: Instant, id: TokenId, token: Result<String, bool>) {
        let waiting = self.attempt().filter(|a| a.step == Step::Token(id)).copied();
        match token {
            Ok(value) => {
                self.token = Some(Token { value: value.clone(), refresh_at: now + self.cfg.token_ttl.scale(0.9) });
                if let Some(a) = waiting {
                    if let Some(at) = self.attempt() {
                        at.step = Step::Opening { fresh: true };
                    }
                    self.actions.push_back(Action::Open { socket: a.socket, token: value });
                } else if let State::Open(live) = &mut self.state {
                    if live.refresh == Some(id) {
                        live.refresh = None;
                    }
                }
            }
            Err(retryable) => {
                if waiting.is_some() {
                    if retryable {
                        self.failed(now, None);
                    } else {
                        self.fatal(Fatal::Token);
                    }
                } else if let State::Open(live) = &mut self.state {
                    if live.refresh == Some(id) {
                        // The refresh failed: the socket goes on; the next attempt fetches anew.
                        live.refresh = None;
                        self.token = None;
                    }
                }
            }
        }
    }

    fn opened(&mut self, now: Instant, socket: SocketId) {
        let Some(Attempt { step: Step::Opening { fresh }, .. }) = self.attempt().filter(|a| a.socket == socket).copied() else { return };
        let before = std::mem::replace(&mut self.state, State::Open(Live { socket, since: now, fresh, notice: None, refresh: None }));
        self.failed_opens = 0;
        self.set_status(Status::Open);
        let pending = match before {
            State::Fallback { next, .. } => next,
            _ => None,
        };
        while let Some(x) = self.buffer.pop_front() {
            self.actions.push_back(Action::Send(x));
        }
        if let Some(x) = pending {
            self.actions.push_back(Action::Send(x));
        }
    }

    fn frame(&mut self, socket: SocketId, frame: Frame<R>) {
        let State::Open(live) = &mut self.state else { return };
        if live.socket != socket {
            return;
        }
        match frame {
            Frame::Result(r) => self.actions.push_back(Action::Result(r)),
            Frame::Control => {}
            Frame::Notice(n) => live.notice = Some(n),
            Frame::Error { code, reason } => self.actions.push_back(Action::Report(Problem::Server { code, reason })),
            Frame::Unreadable(why) => self.actions.push_back(Action::Report(Problem::Unreadable(why))),
        }
    }

    fn closed(&mut self, now: Instant, socket: SocketId, code: u16) {
        let (uptime, notice, fresh) = match &self.state {
            State::Open(live) if live.socket == socket => (Some(now - live.since), live.notice, live.fresh),
            _ => match self.attempt().filter(|a| a.socket == socket).map(|a| a.step) {
                Some(Step::Opening { fresh }) => (None, None, fresh),
                _ => return, // a socket already replaced
            },
        };
        match &mut self.state {
            State::Fallback { probe, .. } => *probe = Probe::At(now + self.cfg.fallback_retry),
            _ => self.state = State::Idle,
        }
        match classify_close(code, notice, fresh) {
            CloseKind::Idle => {
                self.set_status(Status::Idle);
                if !self.buffer.is_empty() {
                    self.connect(now);
                }
            }
            CloseKind::Fatal { code } => self.fatal(Fatal::Closed { code }),
            CloseKind::Unauthorized => self.fatal(Fatal::Unauthorized),
            // An old token expired or was revoked: a fresh one, at once.
            CloseKind::TokenRefused => {
                self.token = None;
                self.connect(now);
            }
            CloseKind::Unexpected => self.failed(now, uptime),
        }
    }

    /// An attempt failed, or an open socket dropped after `uptime`.
    fn failed(&mut self, now: Instant, uptime: Option<Duration>) {
        if let State::Fallback { probe, .. } = &mut self.state {
            *probe = Probe::At(now + self.cfg.fallback_retry); // a background try failed: stay on the queue
            return;
        }
        if !self.online {
            self.state = State::Offline;
            self.set_status(Status::Offline);
            return;
        }
        if uptime.is_none() {
            self.failed_opens += 1;
            if self.failed_opens >= self.cfg.fallback_after {
                self.state = State::Fallback { probe: Probe::At(now + self.cfg.fallback_retry), next: None };
                self.set_status(Status::Fallback);
                while let Some(x) = self.buffer.pop_front() {
                    self.submit(x);
                }
                return;
            }
        }
        let r = self.rng.next01();
        match self.backoff.next_delay(uptime, r) {
            Some(delay) => {
                self.state = State::Backoff { until: now + delay };
                self.set_status(Status::Reconnecting { attempt: self.backoff.attempt(), delay });
            }
            None => self.fatal(Fatal::Attempts),
        }
    }

    /// Lets go of everything: the socket, a fallback job (cancelled upstream), pending inputs.
    fn end(&mut self) {
        if self.socket().is_some() {
            self.actions.push_back(Action::CloseSocket);
        }
        if let Some(job) = self.job.take() {
            self.actions.push_back(Action::AbortJob(job));
        }
        self.buffer.clear();
        self.throttle.take_pending();
        self.state = State::Closed;
    }

    fn fatal(&mut self, f: Fatal) {
        self.end();
        self.actions.push_back(Action::Release);
        self.set_status(Status::Closed);
        self.actions.push_back(Action::Fatal(f));
    }
}

#[cfg(test)]
mod tests;
