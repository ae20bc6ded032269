//! One realtime connection as a state machine: token, socket, throttle, buffer,
//! reconnection, idle close, offline/visible, and the polling fallback.
//!
//! Sans-IO like the subscribe machine: the driver feeds [`Input`]s with the time,
//! carries out [`Action`]s in order, and wakes it at [`Connection::poll_timeout`].

use std::collections::VecDeque;

use super::reconnect::{classify_close, Backoff, CloseKind, ReconnectConfig};
use super::throttle::Throttle;

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub throttle_ms: f64,
    pub reconnect: ReconnectConfig,
    /// Lifetime asked for each token; it is refreshed at 90% of it.
    pub token_ttl_ms: f64,
    /// Consecutive attempts that fail before the socket opens, before falling back to polling.
    pub fallback_after: u32,
    /// In fallback, how long before the socket is tried again.
    pub fallback_retry_ms: f64,
    /// Inputs kept while not connected (the newest ones).
    pub buffer: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self { throttle_ms: 128.0, reconnect: ReconnectConfig::default(), token_ttl_ms: 120_000.0, fallback_after: 3, fallback_retry_ms: 30_000.0, buffer: 1 }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    /// No socket, none needed: the next send opens one.
    Idle,
    Connecting { attempt: u32 },
    Open,
    Reconnecting { attempt: u32, delay_ms: f64 },
    /// The browser is offline; reconnects when it comes back.
    Offline,
    /// Sockets fail; inputs go through the queue until a socket opens again.
    Fallback,
    Closed,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Fatal {
    /// Close code 1008 or 1011.
    Closed { code: u16 },
    /// Unauthorized even with a token fetched for that very attempt.
    Unauthorized,
    /// The token could not be had, and asking again won't help.
    Token,
    /// Reconnection attempts ran out.
    Attempts,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Input<P> {
    Send(P),
    TokenReady { token: String },
    TokenFailed { retryable: bool },
    Opened,
    /// The server said it closes this idle socket (`x-fal-error` TIMEOUT).
    IdleNotice,
    /// The server rejected the token.
    Unauthorized,
    Closed { code: u16 },
    Online,
    Offline,
    Visible,
    /// `reconnect()` by hand.
    Reconnect,
    /// `close()` by the app.
    Close,
    /// A fallback submission finished (either way).
    FallbackDone,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action<P> {
    FetchToken,
    Open { token: String },
    Send(P),
    CloseSocket,
    Submit(P),
    Status(Status),
    Fatal(Fatal),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Socket {
    None,
    Connecting,
    Open { since: f64 },
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    Normal,
    Waiting { until: f64 },
    Offline,
    Fallback { retry_at: f64 },
    Closed,
}

#[derive(Debug)]
pub struct Connection<P> {
    cfg: Config,
    socket: Socket,
    mode: Mode,
    throttle: Throttle<P>,
    buffer: VecDeque<P>,
    backoff: Backoff,
    /// (token, refresh at)
    token: Option<(String, f64)>,
    fetching: bool,
    /// The token in use was fetched for the current attempt (a rejection then is final).
    fresh_token: bool,
    idle_notice: bool,
    unauthorized: bool,
    failed_opens: u32,
    in_flight: bool,
    fallback_next: Option<P>,
    status: Status,
    /// The browser's word (`online`/`offline` events); a drop while offline waits for online.
    online: bool,
    rng: u64,
    actions: VecDeque<Action<P>>,
}

impl<P: Clone> Connection<P> {
    pub fn new(cfg: Config, seed: u64) -> Self {
        Self {
            throttle: Throttle::new(cfg.throttle_ms),
            backoff: Backoff::new(cfg.reconnect.clone()),
            cfg,
            socket: Socket::None,
            mode: Mode::Normal,
            buffer: VecDeque::new(),
            token: None,
            fetching: false,
            fresh_token: false,
            idle_notice: false,
            unauthorized: false,
            failed_opens: 0,
            in_flight: false,
            fallback_next: None,
            status: Status::Idle,
            online: true,
            rng: seed | 1,
            actions: VecDeque::new(),
        }
    }

    pub fn poll_action(&mut self) -> Option<Action<P>> {
        self.actions.pop_front()
    }

    pub fn status(&self) -> &Status {
        &self.status
    }

    pub fn poll_timeout(&self) -> Option<f64> {
        let mode = match self.mode {
            Mode::Waiting { until } => Some(until),
            Mode::Fallback { retry_at } if self.socket == Socket::None => Some(retry_at),
            _ => None,
        };
        let refresh = match (self.socket, &self.token) {
            (Socket::Open { .. }, Some((_, at))) if !self.fetching => Some(*at),
            _ => None,
        };
        let throttle = if self.mode == Mode::Closed { None } else { self.throttle.poll_timeout() };
        [mode, refresh, throttle].into_iter().flatten().reduce(f64::min)
    }

    fn rand01(&mut self) -> f64 {
        // xorshift64: the driver seeds it; tests get a fixed sequence.
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        (self.rng >> 11) as f64 / (1u64 << 53) as f64
    }

    fn set_status(&mut self, s: Status) {
        if self.status != s {
            self.status = s.clone();
            self.actions.push_back(Action::Status(s));
        }
    }

    pub fn handle_timeout(&mut self, now: f64) {
        if self.mode == Mode::Closed {
            return;
        }
        if let Some(x) = self.throttle.handle_timeout(now) {
            self.deliver(now, x);
        }
        match self.mode {
            Mode::Waiting { until } if now >= until => {
                self.mode = Mode::Normal;
                self.connect(now);
            }
            Mode::Fallback { retry_at } if now >= retry_at && self.socket == Socket::None => {
                self.mode = Mode::Fallback { retry_at: now + self.cfg.fallback_retry_ms };
                self.connect(now);
            }
            _ => {}
        }
        if let (Socket::Open { .. }, Some((_, at))) = (self.socket, &self.token) {
            if now >= *at && !self.fetching {
                // Refresh ahead of expiry; the open socket is not touched.
                self.fetching = true;
                self.actions.push_back(Action::FetchToken);
            }
        }
    }

    pub fn handle(&mut self, now: f64, input: Input<P>) {
        if self.mode == Mode::Closed {
            return;
        }
        match input {
            Input::Send(p) => {
                if let Some(x) = self.throttle.push(now, p) {
                    self.deliver(now, x);
                }
            }
            Input::TokenReady { token } => {
                self.fetching = false;
                self.token = Some((token.clone(), now + self.cfg.token_ttl_ms * 0.9));
                if self.socket == Socket::Connecting {
                    self.fresh_token = true;
                    self.actions.push_back(Action::Open { token });
                }
            }
            Input::TokenFailed { retryable } => {
                self.fetching = false;
                if self.socket == Socket::Connecting {
                    self.socket = Socket::None;
                    if retryable {
                        self.failed(now, None);
                    } else {
                        self.fatal(Fatal::Token);
                    }
                }
            }
            Input::Opened => {
                self.socket = Socket::Open { since: now };
                self.failed_opens = 0;
                self.mode = Mode::Normal;
                self.set_status(Status::Open);
                while let Some(x) = self.buffer.pop_front() {
                    self.actions.push_back(Action::Send(x));
                }
            }
            Input::IdleNotice => self.idle_notice = true,
            Input::Unauthorized => self.unauthorized = true,
            Input::Closed { code } => self.closed(now, code),
            Input::Offline => {
                self.online = false;
                if self.socket == Socket::None && matches!(self.mode, Mode::Waiting { .. } | Mode::Normal) && self.status != Status::Idle {
                    self.mode = Mode::Offline;
                    self.set_status(Status::Offline);
                }
            }
            Input::Online => {
                self.online = true;
                if self.mode == Mode::Offline {
                    self.mode = Mode::Normal;
                    self.backoff.reset();
                    self.connect(now);
                }
            }
            Input::Visible => {
                if let Mode::Waiting { .. } = self.mode {
                    self.mode = Mode::Normal;
                    self.connect(now);
                }
            }
            Input::Reconnect => {
                self.backoff.reset();
                self.failed_opens = 0;
                self.mode = Mode::Normal;
                if self.socket != Socket::None {
                    self.socket = Socket::None;
                    self.actions.push_back(Action::CloseSocket);
                }
                self.connect(now);
            }
            Input::Close => {
                if self.socket != Socket::None {
                    self.actions.push_back(Action::CloseSocket);
                }
                self.socket = Socket::None;
                self.mode = Mode::Closed;
                self.buffer.clear();
                self.throttle.take_pending();
                self.set_status(Status::Closed);
            }
            Input::FallbackDone => {
                self.in_flight = false;
                if let Some(x) = self.fallback_next.take() {
                    self.submit(x);
                }
            }
        }
    }

    /// An input the throttle let through.
    fn deliver(&mut self, now: f64, x: P) {
        match (self.socket, self.mode) {
            (Socket::Open { .. }, _) => self.actions.push_back(Action::Send(x)),
            (_, Mode::Fallback { .. }) => self.submit(x),
            _ => {
                if self.buffer.len() >= self.cfg.buffer.max(1) {
                    self.buffer.pop_front();
                }
                self.buffer.push_back(x);
                if self.socket == Socket::None && self.mode == Mode::Normal {
                    self.connect(now);
                }
            }
        }
    }

    /// One submission in flight through the queue; the newest waits, older ones are dropped.
    fn submit(&mut self, x: P) {
        if self.in_flight {
            self.fallback_next = Some(x);
        } else {
            self.in_flight = true;
            self.actions.push_back(Action::Submit(x));
        }
    }

    fn connect(&mut self, now: f64) {
        if self.socket != Socket::None || self.mode == Mode::Closed {
            return;
        }
        self.socket = Socket::Connecting;
        if !matches!(self.mode, Mode::Fallback { .. }) {
            self.set_status(Status::Connecting { attempt: self.backoff.attempt() + 1 });
        }
        match &self.token {
            // A token past its refresh point may expire mid-handshake: get a new one.
            Some((t, refresh_at)) if now < *refresh_at => {
                self.fresh_token = false;
                self.actions.push_back(Action::Open { token: t.clone() });
            }
            _ => {
                self.token = None;
                if !self.fetching {
                    self.fetching = true;
                    self.actions.push_back(Action::FetchToken);
                }
            }
        }
    }

    fn closed(&mut self, now: f64, code: u16) {
        let uptime = match self.socket {
            Socket::Open { since } => Some(now - since),
            _ => None,
        };
        self.socket = Socket::None;
        let idle = std::mem::take(&mut self.idle_notice);
        if std::mem::take(&mut self.unauthorized) {
            if self.fresh_token {
                return self.fatal(Fatal::Unauthorized);
            }
            // An old token expired or was revoked: a fresh one, at once.
            self.token = None;
            return self.connect(now);
        }
        match classify_close(code, idle) {
            CloseKind::Idle => {
                self.set_status(Status::Idle);
                if !self.buffer.is_empty() {
                    self.connect(now);
                }
            }
            CloseKind::Fatal { code } => self.fatal(Fatal::Closed { code }),
            CloseKind::Unauthorized => self.fatal(Fatal::Unauthorized),
            CloseKind::Unexpected => self.failed(now, uptime),
        }
    }

    fn failed(&mut self, now: f64, uptime: Option<f64>) {
        if !self.online || self.mode == Mode::Offline {
            self.mode = Mode::Offline;
            self.set_status(Status::Offline);
            return;
        }
        if let Mode::Fallback { .. } = self.mode {
            return; // a background retry failed: stay on the queue
        }
        if uptime.is_none() {
            self.failed_opens += 1;
            if self.failed_opens >= self.cfg.fallback_after {
                self.mode = Mode::Fallback { retry_at: now + self.cfg.fallback_retry_ms };
                self.set_status(Status::Fallback);
                while let Some(x) = self.buffer.pop_front() {
                    self.submit(x);
                }
                return;
            }
        }
        let r = self.rand01();
        match self.backoff.next_delay(uptime, r) {
            Some(delay_ms) => {
                self.mode = Mode::Waiting { until: now + delay_ms };
                self.set_status(Status::Reconnecting { attempt: self.backoff.attempt(), delay_ms });
            }
            None => self.fatal(Fatal::Attempts),
        }
    }

    fn fatal(&mut self, f: Fatal) {
        self.mode = Mode::Closed;
        self.socket = Socket::None;
        self.buffer.clear();
        self.set_status(Status::Closed);
        self.actions.push_back(Action::Fatal(f));
    }
}

#[cfg(test)]
mod tests;
