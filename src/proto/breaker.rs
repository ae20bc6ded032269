//! A circuit breaker per endpoint: after repeated server-side failures, stop
//! sending for a while instead of adding load to a service that is down, then
//! let one trial request through to see whether it recovered.

use crate::proto::error::{Category, ErrorInfo};
use crate::proto::time::{Duration, Instant};

#[derive(Debug, Clone, PartialEq)]
pub struct BreakerConfig {
    /// Consecutive failures that open the circuit.
    pub failure_threshold: u32,
    /// How long it stays open before a trial request is let through.
    pub open: Duration,
}

pub const DEFAULT_FAILURE_THRESHOLD: u32 = 5;
pub const DEFAULT_OPEN_MS: f64 = 30_000.0;

impl Default for BreakerConfig {
    fn default() -> Self {
        Self { failure_threshold: DEFAULT_FAILURE_THRESHOLD, open: Duration::ms(DEFAULT_OPEN_MS) }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum State {
    Closed {
        failures: u32,
    },
    Open {
        until: Instant,
    },
    /// One trial request is out; everything else waits for its outcome.
    HalfOpen {
        trial_out: bool,
    },
}

impl State {
    pub const NAMES: [&'static str; 3] = ["closed", "open", "half_open"];

    pub fn name(&self) -> &'static str {
        match self {
            State::Closed { .. } => "closed",
            State::Open { .. } => "open",
            State::HalfOpen { .. } => "half_open",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Breaker {
    state: State,
}

/// Failures that say the service is in trouble. A bad input, a refused key or a
/// cancel says nothing about the service's health.
pub fn counts_against(e: &ErrorInfo) -> bool {
    matches!(e.category, Category::Unavailable | Category::Server | Category::Timeout | Category::Network | Category::RateLimited)
}

impl Default for Breaker {
    fn default() -> Self {
        Self { state: State::Closed { failures: 0 } }
    }
}

impl Breaker {
    pub fn state(&self) -> State {
        self.state
    }

    /// A closed breaker with no failures holds nothing worth keeping.
    pub fn is_idle(&self) -> bool {
        self.state == State::Closed { failures: 0 }
    }

    /// May a request go out now? `Err(t)`: not before `t`.
    pub fn admit(&mut self, now: Instant, cfg: &BreakerConfig) -> Result<(), Instant> {
        match self.state {
            State::Closed { .. } => Ok(()),
            State::Open { until } if now < until => Err(until),
            State::Open { .. } | State::HalfOpen { trial_out: false } => {
                self.state = State::HalfOpen { trial_out: true };
                Ok(())
            }
            // Another caller's trial is out: wait a little for its verdict.
            State::HalfOpen { trial_out: true } => Err(now + cfg.open.min(Duration::ms(1_000.0))),
        }
    }

    pub fn on_success(&mut self) {
        self.state = State::Closed { failures: 0 };
    }

    pub fn on_failure(&mut self, now: Instant, cfg: &BreakerConfig) {
        self.state = match self.state {
            State::Closed { failures } if failures + 1 < cfg.failure_threshold => State::Closed { failures: failures + 1 },
            _ => State::Open { until: now + cfg.open },
        };
    }

    /// The outcome of a request that was admitted but whose failure says nothing
    /// about the service: a half-open trial slot is freed for the next caller.
    pub fn on_neutral(&mut self) {
        if let State::HalfOpen { trial_out: true } = self.state {
            self.state = State::HalfOpen { trial_out: false };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ms: f64) -> Instant {
        Instant::at(ms)
    }
    fn cfg() -> BreakerConfig {
        BreakerConfig { failure_threshold: 3, open: Duration::ms(1_000.0) }
    }

    #[test]
    fn opens_after_n_consecutive_failures_and_says_when_it_reopens() {
        let mut b = Breaker::default();
        for _ in 0..2 {
            assert_eq!(b.admit(t(0.0), &cfg()), Ok(()));
            b.on_failure(t(0.0), &cfg());
        }
        assert_eq!(b.state().name(), "closed");
        b.on_failure(t(100.0), &cfg());
        assert_eq!(b.state(), State::Open { until: t(1_100.0) });
        assert_eq!(b.admit(t(500.0), &cfg()), Err(t(1_100.0)));
    }

    #[test]
    fn a_success_resets_the_count() {
        let mut b = Breaker::default();
        b.on_failure(t(0.0), &cfg());
        b.on_failure(t(0.0), &cfg());
        b.on_success();
        b.on_failure(t(0.0), &cfg());
        assert_eq!(b.state(), State::Closed { failures: 1 });
    }

    #[test]
    fn half_open_lets_one_trial_through() {
        let mut b = Breaker::default();
        for _ in 0..3 {
            b.on_failure(t(0.0), &cfg());
        }
        assert_eq!(b.admit(t(1_000.0), &cfg()), Ok(()));
        assert_eq!(b.state().name(), "half_open");
        assert!(b.admit(t(1_001.0), &cfg()).is_err(), "only one trial at a time");
        b.on_success();
        assert!(b.is_idle());
    }

    #[test]
    fn a_failed_trial_opens_it_again() {
        let mut b = Breaker::default();
        for _ in 0..3 {
            b.on_failure(t(0.0), &cfg());
        }
        b.admit(t(1_000.0), &cfg()).unwrap();
        b.on_failure(t(1_200.0), &cfg());
        assert_eq!(b.state(), State::Open { until: t(2_200.0) });
    }

    #[test]
    fn a_neutral_outcome_frees_the_trial_slot() {
        let mut b = Breaker::default();
        for _ in 0..3 {
            b.on_failure(t(0.0), &cfg());
        }
        b.admit(t(1_000.0), &cfg()).unwrap();
        b.on_neutral();
        assert_eq!(b.admit(t(1_001.0), &cfg()), Ok(()));
    }

    #[test]
    fn only_service_trouble_counts() {
        use crate::proto::error::{decode_http, Body};
        let e = |s: u16| decode_http(s, &|_: &str| None, &Body::Empty, false, None, 0.0);
        assert!(counts_against(&e(503)) && counts_against(&e(500)) && counts_against(&e(429)) && counts_against(&e(504)));
        assert!(!counts_against(&e(422)) && !counts_against(&e(401)) && !counts_against(&e(404)) && !counts_against(&e(400)));
    }
}
