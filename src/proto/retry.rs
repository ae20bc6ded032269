//! The retry policy, one place for every call genwire makes: whether a failed
//! request is repeated, and after how long.
//!
//! Order of authority: the server's own word (`X-Fal-Retryable`, folded into
//! [`ErrorInfo::retryable`] by the decoder), then seed 002's `error_type` table,
//! then the status. Waits the server names (`Retry-After` and kin) are honoured
//! exactly; otherwise exponential backoff with full jitter. A client-wide retry
//! budget stops a failing service from being hammered.

use crate::proto::error::{Category, ErrorInfo};

/// The kind of call that failed: repeating a read is safe, repeating a submit is not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    Submit,
    Status,
    Result,
    Cancel,
    Run,
}

impl Call {
    pub fn as_str(self) -> &'static str {
        match self {
            Call::Submit => "submit",
            Call::Status => "status",
            Call::Result => "result",
            Call::Cancel => "cancel",
            Call::Run => "run",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct RetryConfig {
    /// Retries after the first attempt.
    pub max_retries: u32,
    pub base_delay_ms: f64,
    pub max_delay_ms: f64,
    /// A server-named wait longer than this is not waited out: the error is surfaced
    /// with its `retryAfterMs`, so a UI can show a countdown instead of hanging.
    pub max_retry_after_ms: f64,
    pub budget_capacity: f64,
    /// Budget returned by each success.
    pub budget_refill: f64,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self { max_retries: 3, base_delay_ms: 500.0, max_delay_ms: 10_000.0, max_retry_after_ms: 60_000.0, budget_capacity: 10.0, budget_refill: 0.5 }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Decision {
    Retry { delay_ms: f64, server_named: bool },
    GiveUp(GiveUp),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GiveUp {
    NotRetryable,
    /// A submit whose failure doesn't show that nothing was enqueued: repeating it could run the job twice.
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

/// A submit is repeated only when fal itself answered that it did not take the
/// job: a rate limit, a refusal to schedule, or an error it typed. A gateway
/// timeout or a lost connection may hide an enqueued job.
fn submit_not_enqueued(e: &ErrorInfo) -> bool {
    matches!(e.status, Some(429 | 503)) || (e.error_type.is_some() && e.category != Category::Timeout)
}

/// `retries_done` counts retries already made for this call; `rand01` is a uniform draw in [0, 1).
pub fn decide(cfg: &RetryConfig, call: Call, retries_done: u32, e: &ErrorInfo, budget: &mut Budget, rand01: f64) -> Decision {
    if !e.retryable {
        return Decision::GiveUp(GiveUp::NotRetryable);
    }
    if call == Call::Submit && !submit_not_enqueued(e) {
        return Decision::GiveUp(GiveUp::MayHaveEnqueued);
    }
    if retries_done >= cfg.max_retries {
        return Decision::GiveUp(GiveUp::Attempts);
    }
    let (delay_ms, server_named) = match e.retry_after_ms {
        Some(ms) if ms > cfg.max_retry_after_ms => return Decision::GiveUp(GiveUp::WaitTooLong),
        Some(ms) => (ms, true),
        None => {
            let ceiling = (cfg.base_delay_ms * f64::from(1u32 << retries_done.min(20))).min(cfg.max_delay_ms);
            (rand01.clamp(0.0, 1.0) * ceiling, false)
        }
    };
    if !budget.take() {
        return Decision::GiveUp(GiveUp::Budget);
    }
    Decision::Retry { delay_ms, server_named }
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
        assert_eq!(decide(&cfg(), Call::Status, 0, &e, &mut b, 0.5), Decision::Retry { delay_ms: 250.0, server_named: false });
        assert_eq!(decide(&cfg(), Call::Status, 2, &e, &mut b, 0.5), Decision::Retry { delay_ms: 1_000.0, server_named: false });
        assert_eq!(decide(&cfg(), Call::Status, 2, &e, &mut b, 0.0), Decision::Retry { delay_ms: 0.0, server_named: false });
        let big = RetryConfig { max_retries: 30, ..cfg() };
        assert_eq!(decide(&big, Call::Status, 25, &e, &mut b, 0.999_999), Decision::Retry { delay_ms: 9_999.99, server_named: false });
    }

    #[test]
    fn a_server_named_wait_is_honoured_exactly() {
        let mut b = Budget::new(&cfg());
        let e = err(429, &[("Retry-After", "2")]);
        assert_eq!(decide(&cfg(), Call::Status, 0, &e, &mut b, 0.9), Decision::Retry { delay_ms: 2_000.0, server_named: true });
        let long = err(429, &[("Retry-After", "3600")]);
        assert_eq!(long.retry_after_ms, Some(3_600_000.0));
        assert_eq!(decide(&cfg(), Call::Status, 0, &long, &mut b, 0.9), Decision::GiveUp(GiveUp::WaitTooLong));
    }

    #[test]
    fn the_servers_no_stops_at_once() {
        let mut b = Budget::new(&cfg());
        let e = err(503, &[("X-Fal-Retryable", "false")]);
        assert_eq!(decide(&cfg(), Call::Status, 0, &e, &mut b, 0.5), Decision::GiveUp(GiveUp::NotRetryable));
        assert_eq!(decide(&cfg(), Call::Status, 0, &err(422, &[]), &mut b, 0.5), Decision::GiveUp(GiveUp::NotRetryable));
    }

    #[test]
    fn attempts_are_bounded() {
        let mut b = Budget::new(&cfg());
        assert_eq!(decide(&cfg(), Call::Status, 3, &err(503, &[]), &mut b, 0.5), Decision::GiveUp(GiveUp::Attempts));
    }

    #[test]
    fn submit_is_repeated_only_when_nothing_was_enqueued() {
        let mut b = Budget::new(&cfg());
        let retry = |e: &ErrorInfo, b: &mut Budget| matches!(decide(&cfg(), Call::Submit, 0, e, b, 0.5), Decision::Retry { .. });
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
        assert!(matches!(decide(&cfg(), Call::Status, 0, &net, &mut b, 0.5), Decision::Retry { .. }), "reads do retry network failures");
    }

    #[test]
    fn the_budget_stops_a_retry_storm_and_refills_on_success() {
        let c = RetryConfig { budget_capacity: 2.0, budget_refill: 0.5, ..cfg() };
        let mut b = Budget::new(&c);
        let e = err(503, &[]);
        assert!(matches!(decide(&c, Call::Status, 0, &e, &mut b, 0.5), Decision::Retry { .. }));
        assert!(matches!(decide(&c, Call::Status, 0, &e, &mut b, 0.5), Decision::Retry { .. }));
        assert_eq!(decide(&c, Call::Status, 0, &e, &mut b, 0.5), Decision::GiveUp(GiveUp::Budget));
        b.on_success();
        b.on_success();
        assert!(matches!(decide(&c, Call::Status, 0, &e, &mut b, 0.5), Decision::Retry { .. }));
        for _ in 0..10 {
            b.on_success();
        }
        assert_eq!(b.tokens(), 2.0, "capped at capacity");
    }
}
