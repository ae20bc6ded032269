//! A rolling summary of recent calls for a UI or analytics: success rate,
//! latency percentiles, errors by type, retries.

use std::collections::VecDeque;

use crate::proto::time::{Duration, Instant};

/// The window `client.stats()` summarises, and the samples it keeps at most.
pub const WINDOW_MS: f64 = 300_000.0;
pub const MAX_SAMPLES: usize = 1_000;

#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub at: Instant,
    pub latency: Duration,
    /// None for a success; else the error's type (fal's `error_type`, or the category).
    pub error: Option<String>,
    pub retries: u32,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub window_ms: f64,
    pub calls: usize,
    pub successes: usize,
    pub success_rate: Option<f64>,
    pub latency_p50_ms: Option<f64>,
    pub latency_p95_ms: Option<f64>,
    pub retries: u32,
    /// `[type, count]`, most frequent first.
    pub errors_by_type: Vec<(String, usize)>,
}

#[derive(Debug)]
pub struct Stats {
    window: Duration,
    max_samples: usize,
    samples: VecDeque<Sample>,
}

impl Stats {
    pub fn new(window: Duration, max_samples: usize) -> Self {
        Self { window, max_samples, samples: VecDeque::new() }
    }

    pub fn record(&mut self, s: Sample) {
        if self.samples.len() == self.max_samples {
            self.samples.pop_front();
        }
        self.samples.push_back(s);
    }

    pub fn summary(&mut self, now: Instant) -> Summary {
        while self.samples.front().is_some_and(|s| s.at + self.window < now) {
            self.samples.pop_front();
        }
        let calls = self.samples.len();
        let successes = self.samples.iter().filter(|s| s.error.is_none()).count();
        let mut lat: Vec<f64> = self.samples.iter().map(|s| s.latency.as_ms()).collect();
        crate::proto::sort::sort_by(&mut lat, |a, b| a.total_cmp(b).is_lt());
        let pct = |p: f64| (!lat.is_empty()).then(|| lat[((p * lat.len() as f64).ceil() as usize).clamp(1, lat.len()) - 1]);
        let mut errors: Vec<(String, usize)> = Vec::new();
        for e in self.samples.iter().filter_map(|s| s.error.as_ref()) {
            match errors.iter_mut().find(|(k, _)| k == e) {
                Some(slot) => slot.1 += 1,
                None => errors.push((e.clone(), 1)),
            }
        }
        // Keys are unique: a total order.
        crate::proto::sort::sort_by(&mut errors, |a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)).is_lt());
        Summary {
            window_ms: self.window.as_ms(),
            calls,
            successes,
            success_rate: (calls > 0).then(|| successes as f64 / calls as f64),
            latency_p50_ms: pct(0.50),
            latency_p95_ms: pct(0.95),
            retries: self.samples.iter().map(|s| s.retries).sum(),
            errors_by_type: errors,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(at: f64, latency_ms: f64, error: Option<&str>, retries: u32) -> Sample {
        Sample { at: Instant::at(at), latency: Duration::ms(latency_ms), error: error.map(String::from), retries }
    }

    #[test]
    fn summarises_the_window() {
        let mut st = Stats::new(Duration::ms(60_000.0), 1_000);
        for i in 0..100 {
            st.record(s(1_000.0 + f64::from(i), f64::from(i + 1), None, 0));
        }
        st.record(s(2_000.0, 500.0, Some("runner_disconnected"), 2));
        st.record(s(2_000.0, 500.0, Some("runner_disconnected"), 1));
        st.record(s(2_000.0, 500.0, Some("timeout"), 0));
        let sum = st.summary(Instant::at(3_000.0));
        assert_eq!((sum.calls, sum.successes, sum.retries), (103, 100, 3));
        assert_eq!(sum.latency_p50_ms, Some(52.0));
        assert_eq!(sum.latency_p95_ms, Some(98.0));
        assert_eq!(sum.errors_by_type, vec![("runner_disconnected".to_string(), 2), ("timeout".to_string(), 1)]);
        assert!((sum.success_rate.unwrap() - 100.0 / 103.0).abs() < 1e-9);
    }

    #[test]
    fn old_samples_leave_and_memory_is_bounded() {
        let mut st = Stats::new(Duration::ms(1_000.0), 10);
        for i in 0..50 {
            st.record(s(f64::from(i), 1.0, None, 0));
        }
        assert_eq!(st.summary(Instant::at(49.0)).calls, 10);
        assert_eq!(st.summary(Instant::at(5_000.0)).calls, 0);
        assert_eq!(st.summary(Instant::at(5_000.0)).success_rate, None);
    }
}
