//! One request under the client's policy, as a sans-IO machine (quinn-proto style): the edge
//! sends attempt `n` when told, feeds back its outcome with the time, sleeps until the machine's
//! deadline, emits its events and records its stats sample. Every request genwire makes goes
//! through it: queue calls, runs, schema loads, tokens, upload initiates, parts and completions.
//! This is the one retry loop of the project.
//!
//! Per attempt: breaker admission (an open circuit ends the call at once, nothing sent), the
//! attempt, the breaker's verdict, then the retry decision of `proto::retry` with the request's
//! own [`Idempotency`]: a submit or a run is never repeated after an answer that may hide work.
//! The client-wide state (breakers, budget, stats, jitter) is a [`Policy`] lent to each call.

use std::collections::VecDeque;

use crate::proto::endpoint::EndpointId;
use crate::proto::error::{ErrorInfo, Kind};
use crate::proto::policy::{Policy, Transition, Verdict};
use crate::proto::retry::{Call, Decision, GiveUp, Idempotency};
use crate::proto::stats::Sample;
use crate::proto::time::{Duration, Instant};

/// What a request is: its telemetry label, whether it may be repeated, and its breaker.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    pub call: Call,
    pub idempotency: Idempotency,
    /// The breaker's key: an endpoint's `owner/alias`, or the service (`openapi`, `tokens`, `storage`).
    pub key: String,
}

impl Spec {
    fn new(call: Call, idempotency: Idempotency, key: impl Into<String>) -> Self {
        Self { call, idempotency, key: key.into() }
    }
    /// Enqueues a job: repeated only when the answer shows nothing was enqueued.
    pub fn submit(ep: &EndpointId) -> Self {
        Self::new(Call::Submit, Idempotency::UnsafeIfMaybeProcessed, ep.app())
    }
    /// A billed model run, answered synchronously: never repeated after an answer that may hide one.
    pub fn run(ep: &EndpointId) -> Self {
        Self::new(Call::Run, Idempotency::UnsafeIfMaybeProcessed, ep.app())
    }
    /// An output stream: a billed run too, so never repeated after an answer that may hide one.
    pub fn stream(ep: &EndpointId) -> Self {
        Self::new(Call::Stream, Idempotency::UnsafeIfMaybeProcessed, ep.app())
    }
    pub fn status(ep: &EndpointId) -> Self {
        Self::new(Call::Status, Idempotency::Safe, ep.app())
    }
    pub fn result(ep: &EndpointId) -> Self {
        Self::new(Call::Result, Idempotency::Safe, ep.app())
    }
    pub fn cancel(ep: &EndpointId) -> Self {
        Self::new(Call::Cancel, Idempotency::Safe, ep.app())
    }
    /// An endpoint's OpenAPI document. Its own breaker: a failing docs host must not open the endpoint's.
    pub fn schema() -> Self {
        Self::new(Call::Schema, Idempotency::Safe, "openapi")
    }
    /// A realtime token: each answer is a fresh token, so asking again is harmless.
    pub fn token() -> Self {
        Self::new(Call::Token, Idempotency::Safe, "tokens")
    }
    /// An upload's initiate, one part's PUT (the same bytes to the same URL), or the multipart
    /// completion (a repeated complete answers the same file).
    pub fn upload() -> Self {
        Self::new(Call::Upload, Idempotency::Safe, "storage")
    }
}

/// The outcome of the attempt in flight.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    Succeeded,
    /// A decoded error answer, or a network failure (`Kind::Network`).
    Failed(ErrorInfo),
    /// The caller's signal aborted the attempt or the wait.
    Aborted,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Attempt {
        attempt: u32,
    },
    Success {
        attempt: u32,
        latency: Duration,
    },
    Retry {
        attempt: u32,
        delay: Duration,
        server_named: bool,
    },
    /// The call failed for good.
    Error {
        attempt: u32,
        reason: GiveUp,
    },
    /// The call was refused: its circuit is open until `reopens_at` (nothing sent).
    Rejected {
        attempt: u32,
        reopens_at: Instant,
    },
    Breaker(Transition),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    Aborted,
    /// Nothing was sent: the breaker is open until then.
    CircuitOpen {
        reopens_at: Instant,
    },
    /// The last attempt's error stands.
    GaveUp {
        reason: GiveUp,
        attempts: u32,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Send attempt `attempt` (from 1) and feed its outcome to [`CallMachine::handle`].
    Send {
        attempt: u32,
    },
    /// Call [`CallMachine::handle_timeout`] at `until` (or [`Input::Aborted`] if the caller aborts).
    Sleep {
        until: Instant,
    },
    Emit(Event),
    /// The call's one stats sample.
    Record(Sample),
    Done(Result<(), Failure>),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    Sending { attempt: u32 },
    Sleeping { until: Instant, attempt: u32 },
    Done,
}

#[derive(Debug)]
pub struct CallMachine {
    spec: Spec,
    started: Instant,
    retries: u32,
    state: State,
    actions: VecDeque<Action>,
}

impl CallMachine {
    /// Starts a call: admission, then the first attempt (or the end, if the circuit is open).
    pub fn new(spec: Spec, now: Instant, policy: &mut Policy) -> Self {
        let mut m = Self { spec, started: now, retries: 0, state: State::Done, actions: VecDeque::new() };
        m.attempt(now, policy);
        m
    }

    pub fn spec(&self) -> &Spec {
        &self.spec
    }

    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.state {
            State::Sleeping { until, .. } => Some(until),
            _ => None,
        }
    }

    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    fn attempt(&mut self, now: Instant, policy: &mut Policy) {
        let attempt = self.retries + 1;
        let (admitted, t) = policy.admit(&self.spec.key, now);
        self.breaker_event(t);
        match admitted {
            Ok(()) => {
                self.state = State::Sending { attempt };
                self.actions.push_back(Action::Emit(Event::Attempt { attempt }));
                self.actions.push_back(Action::Send { attempt });
            }
            Err(reopens_at) => {
                self.record(now, Some("circuit_open".into()));
                self.actions.push_back(Action::Emit(Event::Rejected { attempt, reopens_at }));
                self.finish(Err(Failure::CircuitOpen { reopens_at }));
            }
        }
    }

    pub fn handle(&mut self, now: Instant, input: Input, policy: &mut Policy) {
        let State::Sending { attempt } = self.state else {
            if matches!(input, Input::Aborted) && self.state != State::Done {
                self.finish(Err(Failure::Aborted)); // aborted while waiting: no request is out
            }
            return;
        };
        match input {
            Input::Aborted => self.aborted(now, policy),
            Input::Failed(e) if e.kind == Kind::Aborted => self.aborted(now, policy),
            Input::Succeeded => {
                let t = policy.settle(&self.spec.key, Verdict::Success, now);
                self.breaker_event(t);
                policy.on_success();
                self.record(now, None);
                self.actions.push_back(Action::Emit(Event::Success { attempt, latency: now - self.started }));
                self.finish(Ok(()));
            }
            Input::Failed(e) => {
                let t = policy.settle(&self.spec.key, Verdict::of(&e), now);
                self.breaker_event(t);
                match policy.decide(self.spec.idempotency, self.retries, &e) {
                    Decision::Retry { delay, server_named } => {
                        self.actions.push_back(Action::Emit(Event::Retry { attempt, delay, server_named }));
                        let until = now + delay;
                        self.state = State::Sleeping { until, attempt };
                        self.actions.push_back(Action::Sleep { until });
                    }
                    Decision::GiveUp(reason) => {
                        self.record(now, Some(e.error_type.clone().unwrap_or_else(|| e.category.as_str().into())));
                        self.actions.push_back(Action::Emit(Event::Error { attempt, reason }));
                        self.finish(Err(Failure::GaveUp { reason, attempts: attempt }));
                    }
                }
            }
        }
    }

    /// Wakes the machine; before its deadline this only says to sleep on.
    pub fn handle_timeout(&mut self, now: Instant, policy: &mut Policy) {
        if let State::Sleeping { until, .. } = self.state {
            if now >= until {
                self.retries += 1;
                self.attempt(now, policy);
            } else {
                self.actions.push_back(Action::Sleep { until });
            }
        }
    }

    /// An aborted attempt says nothing about the service; a half-open trial slot is freed.
    fn aborted(&mut self, now: Instant, policy: &mut Policy) {
        let t = policy.settle(&self.spec.key, Verdict::Neutral, now);
        self.breaker_event(t);
        self.finish(Err(Failure::Aborted));
    }

    fn breaker_event(&mut self, t: Option<Transition>) {
        if let Some(t) = t {
            self.actions.push_back(Action::Emit(Event::Breaker(t)));
        }
    }

    fn record(&mut self, now: Instant, error: Option<String>) {
        self.actions.push_back(Action::Record(Sample { at: now, latency: now - self.started, error, retries: self.retries }));
    }

    fn finish(&mut self, r: Result<(), Failure>) {
        self.state = State::Done;
        self.actions.push_back(Action::Done(r));
    }
}

#[cfg(test)]
mod tests;
