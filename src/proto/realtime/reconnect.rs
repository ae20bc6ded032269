//! When to reconnect a realtime socket after it closed, and when to stop.
//!
//! Exponential backoff with jitter and a ceiling; the attempt counter resets only
//! after the socket stayed open a minimum time, so a server that accepts and then
//! drops at once does not reset the backoff (the flapping case).

#[derive(Debug, Clone, PartialEq)]
pub struct ReconnectConfig {
    pub base_ms: f64,
    pub max_ms: f64,
    /// Open at least this long for the next failure to count as a first one again.
    pub min_uptime_ms: f64,
    /// Consecutive failures before giving up; None: never.
    pub max_attempts: Option<u32>,
}

impl Default for ReconnectConfig {
    fn default() -> Self {
        Self { base_ms: 500.0, max_ms: 10_000.0, min_uptime_ms: 5_000.0, max_attempts: None }
    }
}

/// Why a socket closed, as the connection saw it.
#[derive(Debug, Clone, PartialEq)]
pub enum CloseKind {
    /// The server closed an idle socket (`x-fal-error` TIMEOUT): not an error.
    Idle,
    /// Policy violation (1008) or server error (1011): retrying won't help.
    Fatal { code: u16 },
    /// Still unauthorized with a token fetched just for this attempt.
    Unauthorized,
    /// Anything else: a drop, a network loss, a refused handshake.
    Unexpected,
}

pub fn classify_close(code: u16, idle_timeout_seen: bool) -> CloseKind {
    match code {
        _ if idle_timeout_seen => CloseKind::Idle,
        1008 | 1011 => CloseKind::Fatal { code },
        _ => CloseKind::Unexpected,
    }
}

#[derive(Debug, Clone)]
pub struct Backoff {
    cfg: ReconnectConfig,
    attempt: u32,
}

impl Backoff {
    pub fn new(cfg: ReconnectConfig) -> Self {
        Self { cfg, attempt: 0 }
    }

    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// The socket closed unexpectedly after being open `uptime_ms` (None: it never opened).
    /// Returns the delay before the next attempt, or None when attempts ran out.
    /// `rand01` is a uniform draw in [0, 1).
    pub fn next_delay(&mut self, uptime_ms: Option<f64>, rand01: f64) -> Option<f64> {
        if uptime_ms.is_some_and(|u| u >= self.cfg.min_uptime_ms) {
            self.attempt = 0;
        }
        self.attempt += 1;
        if self.cfg.max_attempts.is_some_and(|m| self.attempt > m) {
            return None;
        }
        Some(self.delay_for(self.attempt, rand01))
    }

    /// "Equal jitter": half the step fixed, half random, so delays still grow but
    /// clients dropped together don't come back together.
    pub fn delay_for(&self, attempt: u32, rand01: f64) -> f64 {
        let step = (self.cfg.base_ms * f64::from(1u32 << (attempt.saturating_sub(1)).min(20))).min(self.cfg.max_ms);
        step / 2.0 + rand01.clamp(0.0, 1.0) * step / 2.0
    }

    /// After a manual reconnect or coming back online: start over.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b() -> Backoff {
        Backoff::new(ReconnectConfig { base_ms: 100.0, max_ms: 1_000.0, min_uptime_ms: 5_000.0, max_attempts: None })
    }

    #[test]
    fn grows_exponentially_with_jitter_up_to_the_ceiling() {
        let mut bo = b();
        let delays: Vec<f64> = (0..7).map(|_| bo.next_delay(None, 1.0).unwrap()).collect();
        assert_eq!(delays, [100.0, 200.0, 400.0, 800.0, 1_000.0, 1_000.0, 1_000.0]);
        let mut bo = b();
        assert_eq!(bo.next_delay(None, 0.0), Some(50.0), "never below half the step");
    }

    #[test]
    fn a_flapping_server_does_not_reset_the_count() {
        let mut bo = b();
        bo.next_delay(None, 1.0);
        bo.next_delay(Some(1_000.0), 1.0); // open for 1 s, then dropped
        assert_eq!(bo.next_delay(Some(4_999.0), 1.0), Some(400.0));
        assert_eq!(bo.attempt(), 3);
        assert_eq!(bo.next_delay(Some(5_000.0), 1.0), Some(100.0), "stayed up long enough: a fresh start");
    }

    #[test]
    fn attempts_can_run_out() {
        let mut bo = Backoff::new(ReconnectConfig { max_attempts: Some(2), ..ReconnectConfig::default() });
        assert!(bo.next_delay(None, 0.5).is_some());
        assert!(bo.next_delay(None, 0.5).is_some());
        assert_eq!(bo.next_delay(None, 0.5), None);
        bo.reset();
        assert!(bo.next_delay(None, 0.5).is_some());
    }

    #[test]
    fn close_codes() {
        assert_eq!(classify_close(1000, true), CloseKind::Idle);
        assert_eq!(classify_close(1008, false), CloseKind::Fatal { code: 1008 });
        assert_eq!(classify_close(1011, false), CloseKind::Fatal { code: 1011 });
        assert_eq!(classify_close(1006, false), CloseKind::Unexpected);
        assert_eq!(classify_close(1000, false), CloseKind::Unexpected, "a clean close we didn't ask for still reconnects");
    }
}
