//! The retry policy, one place for every call genwire makes: whether a failed
//! request is repeated, and after how long.
//!
//! Order of authority: the server's own word (`X-Fal-Retryable`, folded into
//! [`ErrorInfo::retryable`] by the decoder), then seed 002's `error_type` table,
//! then the status. Waits the server names (`Retry-After` and kin) are honoured
//! exactly; otherwise exponential backoff with full jitter. A client-wide retry
//! budget stops a failing service from being hammered.

use crate::proto::error::{Category, ErrorInfo, Kind};
use crate::proto::time::Duration;

/// What a request is, for telemetry (the `call` of events) and for what a 500 means. Whether it
/// may be repeated is its [`Idempotency`], said separately by each request (`proto::call`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    Submit,
    Status,
    Result,
    Cancel,
    Run,
    /// An upload: initiate, a part, the multipart completion.
    Upload,
    /// An endpoint's OpenAPI document, for validation.
    Schema,
    /// A realtime token.
    Token,
    /// An output stream (`fal.run/{id}/stream`): its request, up to the answer's head.
    Stream,
}

impl Call {
    pub const ALL: [Call; 9] = [Call::Submit, Call::Status, Call::Result, Call::Cancel, Call::Run, Call::Upload, Call::Schema, Call::Token, Call::Stream];

    pub fn as_str(self) -> &'static str {
        match self {
            Call::Submit => "submit",
            Call::Status => "status",
            Call::Result => "result",
            Call::Cancel => "cancel",
            Call::Run => "run",
            Call::Upload => "upload",
            Call::Schema => "schema",
            Call::Token => "token",
            Call::Stream => "stream",
        }
    }
}

/// Whether a request may be sent again after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idempotency {
    /// Repeating it changes nothing (reads, cancels, upload parts, tokens).
    Safe,
    /// It starts work that may be billed (a submit, a run): repeated only after an answer that
    /// shows nothing ran, never after one that may hide work (a gateway 502/504, a lost answer).
    UnsafeIfMaybeProcessed,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RetryConfig {
    /// Retries after the first attempt.
    pub max_retries: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// A server-named wait longer than this is not waited out: the error is surfaced
    /// with its `retryAfterMs`, so a UI can show a countdown instead of hanging.
    pub max_retry_after: Duration,
    pub budget_capacity: f64,
    /// Budget returned by each success.
    pub budget_refill: f64,
}

pub const DEFAULT_MAX_RETRIES: u32 = 3;
pub const DEFAULT_BASE_DELAY_MS: f64 = 500.0;
pub const DEFAULT_MAX_DELAY_MS: f64 = 10_000.0;
pub const DEFAULT_MAX_RETRY_AFTER_MS: f64 = 60_000.0;
pub const DEFAULT_BUDGET: f64 = 10.0;
/// `maxRetries` above this is taken as this.
pub const MAX_RETRIES_CAP: u32 = 20;

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            max_retries: DEFAULT_MAX_RETRIES,
            base_delay: Duration::ms(DEFAULT_BASE_DELAY_MS),
            max_delay: Duration::ms(DEFAULT_MAX_DELAY_MS),
            max_retry_after: Duration::ms(DEFAULT_MAX_RETRY_AFTER_MS),
            budget_capacity: DEFAULT_BUDGET,
            budget_refill: 0.5,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Decision {
    Retry { delay: Duration, server_named: bool },
    GiveUp(GiveUp),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GiveUp {
    NotRetryable,
    /// A submit or run whose failure doesn't show that nothing ran: repeating it could run the job twice.
    MayHaveEnqueued,
    Attempts,
    Budget,
    /// The server asked for a longer wait than `max_retry_after_ms`.
    WaitTooLong,
}

/// A token bucket shared by all calls of a client: each retry takes a token,
/// each success puts part of one back.
#[derive(Debug, Clone)]
pub struct Budget {
    tokens: f64,
    capacity: f64,
    refill: f64,
}

impl Budget {
    pub fn new(cfg: &RetryConfig) -> Self {
        Self { tokens: cfg.budget_capacity, capacity: cfg.budget_capacity, refill: cfg.budget_refill }
    }
    pub fn on_success(&mut self) {
        self.tokens = (self.tokens + self.refill).min(self.capacity);
    }
    fn take(&mut self) -> bool {
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
    pub fn tokens(&self) -> f64 {
        self.tokens
    }
}

impl GiveUp {
    pub const ALL: [GiveUp; 5] = [GiveUp::NotRetryable, GiveUp::MayHaveEnqueued, GiveUp::Attempts, GiveUp::Budget, GiveUp::WaitTooLong];

    pub fn as_str(self) -> &'static str {
        match self {
            GiveUp::NotRetryable => "not_retryable",
            GiveUp::MayHaveEnqueued => "may_have_enqueued",
            GiveUp::Attempts => "attempts",
            GiveUp::Budget => "budget",
            GiveUp::WaitTooLong => "wait_too_long",
        }
    }
}

/// Whether the answer shows that nothing ran, so an unsafe request may go again: fal itself
/// answered that it did not take the job (a rate limit, a refusal to schedule, an error it typed
/// that is not a timeout). A gateway's 502/504, a network failure or a lost answer may hide a job
/// that is already queued or running.
pub fn nothing_ran(e: &ErrorInfo) -> bool {
    e.kind != Kind::Network && (matches!(e.status, Some(429 | 503)) || (e.error_type.is_some() && e.category != Category::Timeout))
}

/// `retries_done` counts retries already made for this call; `rand01` is a uniform draw in [0, 1).
pub fn decide(cfg: &RetryConfig, idempotency: Idempotency, retries_done: u32, e: &ErrorInfo, budget: &mut Budget, rand01: f64) -> Decision {
    if !e.retryable {
        return Decision::GiveUp(GiveUp::NotRetryable);
    }
    if idempotency == Idempotency::UnsafeIfMaybeProcessed && !nothing_ran(e) {
        return Decision::GiveUp(GiveUp::MayHaveEnqueued);
    }
    if retries_done >= cfg.max_retries {
        return Decision::GiveUp(GiveUp::Attempts);
    }
    let (delay, server_named) = match e.retry_after_ms {
        Some(ms) if ms > cfg.max_retry_after.as_ms() => return Decision::GiveUp(GiveUp::WaitTooLong),
        Some(ms) => (Duration::ms(ms), true),
        None => {
            let ceiling = cfg.base_delay.scale(f64::from(1u32 << retries_done.min(20))).min(cfg.max_delay);
            (ceiling.scale(rand01.clamp(0.0, 1.0)), false)
        }
    };
    if !budget.take() {
        return Decision::GiveUp(GiveUp::Budget);
    }
    Decision::Retry { delay, server_named }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::error::{decode_http, Body, Kind};

    fn err(status: u16, headers: &[(&str, &str)]) -> ErrorInfo {
        let get = |n: &str| headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(n)).map(|(_, v)| v.to_string());
        decode_http(status, &get, &Body::Empty, false, None, 0.0)
    }
    fn cfg() -> RetryConfig {
        RetryConfig::default()
    }

    #[test]
    fn full_jitter_within_an_exponential_ceiling() {
        let mut b = Budget::new(&cfg());
        let e = err(503, &[]);
        assert_eq!(decide(&cfg(), Idempotency::Safe, 0, &e, &mut b, 0.5), Decision::Retry { delay: Duration::ms(250.0), server_named: false });
        assert_eq!(decide(&cfg(), Idempotency::Safe, 2, &e, &mut b, 0.5), Decision::Retry { delay: Duration::ms(1_000.0), server_named: false });
        assert_eq!(decide(&cfg(), Idempotency::Safe, 2, &e, &mut b, 0.0), Decision::Retry { delay: Duration::ms(0.0), server_named: false });
        let big = RetryConfig { max_retries: 30, ..cfg() };
        assert_eq!(decide(&big, Idempotency::Safe, 25, &e, &mut b, 0.999_999), Decision::Retry { delay: Duration::ms(9_999.99), server_named: false });
    }

    #[test]
    fn a_server_named_wait_is_honoured_exactly() {
        let mut b = Budget::new(&cfg());
        let e = err(429, &[("Retry-After", "2")]);
        assert_eq!(decide(&cfg(), Idempotency::Safe, 0, &e, &mut b, 0.9), Decision::Retry { delay: Duration::ms(2_000.0), server_named: true });
        let long = err(429, &[("Retry-After", "3600")]);
        assert_eq!(long.retry_after_ms, Some(3_600_000.0));
        assert_eq!(decide(&cfg(), Idempotency::Safe, 0, &long, &mut b, 0.9), Decision::GiveUp(GiveUp::WaitTooLong));
    }

    #[test]
    fn the_servers_no_stops_at_once() {
        let mut b = Budget::new(&cfg());
        let e = err(503, &[("X-Fal-Retryable", "false")]);
        assert_eq!(decide(&cfg(), Idempotency::Safe, 0, &e, &mut b, 0.5), Decision::GiveUp(GiveUp::NotRetryable));
        assert_eq!(decide(&cfg(), Idempotency::Safe, 0, &err(422, &[]), &mut b, 0.5), Decision::GiveUp(GiveUp::NotRetryable));
    }

    #[test]
    fn attempts_are_bounded() {
        let mut b = Budget::new(&cfg());
        assert_eq!(decide(&cfg(), Idempotency::Safe, 3, &err(503, &[]), &mut b, 0.5), Decision::GiveUp(GiveUp::Attempts));
    }

    #[test]
    fn submit_is_repeated_only_when_nothing_was_enqueued() {
        let mut b = Budget::new(&cfg());
        let retry = |e: &ErrorInfo, b: &mut Budget| matches!(decide(&cfg(), Idempotency::UnsafeIfMaybeProcessed, 0, e, b, 0.5), Decision::Retry { .. });
        assert!(retry(&err(429, &[]), &mut b));
        assert!(retry(&err(503, &[("X-Fal-Error-Type", "runner_disconnected")]), &mut b));
        assert!(retry(&err(503, &[]), &mut b));
        // A gateway's 502/504 or a lost answer may hide a job that is already queued.
        assert!(!retry(&err(502, &[]), &mut b));
        assert!(!retry(&err(504, &[]), &mut b));
        assert!(!retry(&err(504, &[("X-Fal-Error-Type", "request_timeout")]), &mut b));
        let mut net = crate::proto::error::decode_thrown("TypeError", "Failed to fetch");
        assert_eq!(net.kind, Kind::Network);
        assert!(!retry(&net, &mut b));
        net.retryable = true;
        assert!(matches!(decide(&cfg(), Idempotency::Safe, 0, &net, &mut b, 0.5), Decision::Retry { .. }), "reads do retry network failures");
    }

    #[test]
    fn the_budget_stops_a_retry_storm_and_refills_on_success() {
        let c = RetryConfig { budget_capacity: 2.0, budget_refill: 0.5, ..cfg() };
        let mut b = Budget::new(&c);
        let e = err(503, &[]);
        assert!(matches!(decide(&c, Idempotency::Safe, 0, &e, &mut b, 0.5), Decision::Retry { .. }));
        assert!(matches!(decide(&c, Idempotency::Safe, 0, &e, &mut b, 0.5), Decision::Retry { .. }));
        assert_eq!(decide(&c, Idempotency::Safe, 0, &e, &mut b, 0.5), Decision::GiveUp(GiveUp::Budget));
        b.on_success();
        b.on_success();
        assert!(matches!(decide(&c, Idempotency::Safe, 0, &e, &mut b, 0.5), Decision::Retry { .. }));
        for _ in 0..10 {
            b.on_success();
        }
        assert_eq!(b.tokens(), 2.0, "capped at capacity");
    }
}
