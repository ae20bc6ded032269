//! The client-wide state every call's policy shares: a circuit breaker per endpoint, the retry
//! budget, the stats window and the random source of the jitter. One value per client; the edge
//! keeps it in one private cell and lends it to a [`crate::proto::call::CallMachine`] for the
//! length of one `handle` call, never across an await.

use crate::proto::breaker::{counts_against, Breaker, BreakerConfig, State};
use crate::proto::error::ErrorInfo;
use crate::proto::map::Map;
use crate::proto::rand::Rng;
use crate::proto::retry::{decide, Budget, Decision, Idempotency, RetryConfig};
use crate::proto::stats::{Sample, Stats, Summary, MAX_SAMPLES, WINDOW_MS};
use crate::proto::time::{Duration, Instant};

#[derive(Debug)]
pub struct Policy {
    retry: RetryConfig,
    /// None: circuit breaking turned off.
    breaker: Option<BreakerConfig>,
    /// Only endpoints with recent failures; an idle breaker is dropped.
    breakers: Map<Breaker>,
    budget: Budget,
    stats: Stats,
    rng: Rng,
}

/// A breaker that changed state, for the `breaker` event.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub key: String,
    pub from: &'static str,
    pub to: &'static str,
    pub reopens_at: Option<Instant>,
}

/// What an admitted request's outcome tells the breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Success,
    /// A failure that says the service is in trouble.
    Trouble,
    /// An outcome that says nothing about the service (a bad input, an abort).
    Neutral,
}

impl Verdict {
    pub fn of(e: &ErrorInfo) -> Self {
        if counts_against(e) {
            Verdict::Trouble
        } else {
            Verdict::Neutral
        }
    }
}

impl Policy {
    pub fn new(retry: RetryConfig, breaker: Option<BreakerConfig>, seed: u64) -> Self {
        Self { budget: Budget::new(&retry), retry, breaker, breakers: Map::new(), stats: Stats::new(Duration::ms(WINDOW_MS), MAX_SAMPLES), rng: Rng::new(seed) }
    }

    /// May a request to `key` go out now? `Err(t)`: its circuit is open until `t`.
    pub fn admit(&mut self, key: &str, now: Instant) -> (Result<(), Instant>, Option<Transition>) {
        let Some(cfg) = &self.breaker else { return (Ok(()), None) };
        let Some(b) = self.breakers.get_mut(key) else { return (Ok(()), None) };
        let before = b.state();
        let r = b.admit(now, cfg);
        (r, transition(key, before, b.state()))
    }

    /// Feeds an admitted request's outcome to its breaker.
    pub fn settle(&mut self, key: &str, verdict: Verdict, now: Instant) -> Option<Transition> {
        let cfg = self.breaker.as_ref()?;
        if verdict != Verdict::Trouble && !self.breakers.contains_key(key) {
            return None;
        }
        let b = self.breakers.get_or_insert_with(key, Breaker::default);
        let before = b.state();
        match verdict {
            Verdict::Success => b.on_success(),
            Verdict::Trouble => b.on_failure(now, cfg),
            Verdict::Neutral => b.on_neutral(),
        }
        let after = b.state();
        if b.is_idle() {
            self.breakers.remove(key);
        }
        transition(key, before, after)
    }

    /// Whether a failed request goes again, and after how long (takes a budget token if so).
    pub fn decide(&mut self, idempotency: Idempotency, retries_done: u32, e: &ErrorInfo) -> Decision {
        let r = self.rng.next01();
        decide(&self.retry, idempotency, retries_done, e, &mut self.budget, r)
    }

    pub fn on_success(&mut self) {
        self.budget.on_success();
    }

    pub fn record(&mut self, s: Sample) {
        self.stats.record(s);
    }

    pub fn summary(&mut self, now: Instant) -> Summary {
        self.stats.summary(now)
    }

    /// The breakers of endpoints with recent failures.
    pub fn breakers(&self) -> impl Iterator<Item = (&String, State)> {
        self.breakers.iter().map(|(k, b)| (k, b.state()))
    }

    pub fn budget(&self) -> f64 {
        self.budget.tokens()
    }
}

fn transition(key: &str, before: State, after: State) -> Option<Transition> {
    (before.name() != after.name()).then(|| Transition {
        key: key.into(),
        from: before.name(),
        to: after.name(),
        reopens_at: match after {
            State::Open { until } => Some(until),
            _ => None,
        },
    })
}
