//! A circuit breaker per endpoint: after repeated server-side failures, stop
//! sending for a while instead of adding load to a service that is down, then
//! let one trial request through to see whether it recovered.

use crate::proto::error::{Category, ErrorInfo};

#[derive(Debug, Clone, PartialEq)]
pub struct BreakerConfig {
    /// Consecutive failures that open the circuit.
    pub failure_threshold: u32,
    /// How long it stays open before a trial request is let through.
    pub open_ms: f64,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self { failure_threshold: 5, open_ms: 30_000.0 }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum State {
    Closed { failures: u32 },
    Open { until: f64 },
    /// One trial request is out; everything else waits for its outcome.
    HalfOpen { trial_out: bool },
}

impl State {
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

    /// May a request go out now? `Err(t)`: not before `t` (epoch ms).
    pub fn admit(&mut self, now: f64, cfg: &BreakerConfig) -> Result<(), f64> {
        match self.state {
            State::Closed { .. } => Ok(()),
            State::Open { until } if now < until => Err(until),
            State::Open { .. } | State::HalfOpen { trial_out: false } => {
                self.state = State::HalfOpen { trial_out: true };
                Ok(())
            }
            // Another caller's trial is out: wait a little for its verdict.
            State::HalfOpen { trial_out: true } => Err(now + cfg.open_ms.min(1_000.0)),
        }
    }

    pub fn on_success(&mut self) {
        self.state = State::Closed { failures: 0 };
    }

    pub fn on_failure(&mut self, now: f64, cfg: &BreakerConfig) {
        self.state = match self.state {
            State::Closed { failures } if failures + 1 < cfg.failure_threshold => State::Closed { failures: failures + 1 },
            _ => State::Open { until: now + cfg.open_ms },
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

    fn cfg() -> BreakerConfig {
        BreakerConfig { failure_threshold: 3, open_ms: 1_000.0 }
    }

    #[test]
    fn opens_after_n_consecutive_failures_and_says_when_it_reopens() {
        let mut b = Breaker::default();
        for _ in 0..2 {
            assert_eq!(b.admit(0.0, &cfg()), Ok(()));
            b.on_failure(0.0, &cfg());
        }
        assert_eq!(b.state().name(), "closed");
        b.on_failure(100.0, &cfg());
        assert_eq!(b.state(), State::Open { until: 1_100.0 });
        assert_eq!(b.admit(500.0, &cfg()), Err(1_100.0));
    }

    #[test]
    fn a_success_resets_the_count() {
        let mut b = Breaker::default();
        b.on_failure(0.0, &cfg());
        b.on_failure(0.0, &cfg());
        b.on_success();
        b.on_failure(0.0, &cfg());
        assert_eq!(b.state(), State::Closed { failures: 1 });
    }

    #[test]
    fn half_open_lets_one_trial_through() {
        let mut b = Breaker::default();
        for _ in 0..3 {
            b.on_failure(0.0, &cfg());
        }
        assert_eq!(b.admit(1_000.0, &cfg()), Ok(()));
        assert_eq!(b.state().name(), "half_open");
        assert!(b.admit(1_001.0, &cfg()).is_err(), "only one trial at a time");
        b.on_success();
        assert!(b.is_idle());
    }

    #[test]
    fn a_failed_trial_opens_it_again() {
        let mut b = Breaker::default();
        for _ in 0..3 {
            b.on_failure(0.0, &cfg());
        }
        b.admit(1_000.0, &cfg()).unwrap();
        b.on_failure(1_200.0, &cfg());
        assert_eq!(b.state(), State::Open { until: 2_200.0 });
    }

    #[test]
    fn a_neutral_outcome_frees_the_trial_slot() {
        let mut b = Breaker::default();
        for _ in 0..3 {
            b.on_failure(0.0, &cfg());
        }
        b.admit(1_000.0, &cfg()).unwrap();
        b.on_neutral();
        assert_eq!(b.admit(1_001.0, &cfg()), Ok(()));
    }

    #[test]
    fn only_service_trouble_counts() {
        use crate::proto::error::{decode_http, Body};
        let e = |s: u16| decode_http(s, &|_: &str| None, &Body::Empty, false, None, 0.0);
        assert!(counts_against(&e(503)) && counts_against(&e(500)) && counts_against(&e(429)) && counts_against(&e(504)));
        assert!(!counts_against(&e(422)) && !counts_against(&e(401)) && !counts_against(&e(404)) && !counts_against(&e(400)));
    }
}
