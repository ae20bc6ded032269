//! When to reconnect a realtime socket after it closed, and when to stop.
//!
//! Exponential backoff with jitter and a ceiling; the attempt counter resets only
//! after the socket stayed open a minimum time, so a server that accepts and then
//! drops at once does not reset the backoff (the flapping case).

use crate::proto::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub struct ReconnectConfig {
    pub base: Duration,
    pub max: Duration,
    /// Open at least this long for the next failure to count as a first one again.
    pub min_uptime: Duration,
    /// Consecutive failures before giving up; None: never.
    pub max_attempts: Option<u32>,
}

pub const DEFAULT_BASE_MS: f64 = 500.0;
pub const DEFAULT_MAX_MS: f64 = 10_000.0;
pub const DEFAULT_MIN_UPTIME_MS: f64 = 5_000.0;

impl Default for ReconnectConfig {
    fn default() -> Self {
        Self { base: Duration::ms(DEFAULT_BASE_MS), max: Duration::ms(DEFAULT_MAX_MS), min_uptime: Duration::ms(DEFAULT_MIN_UPTIME_MS), max_attempts: None }
    }
}

/// What the server said on a socket before it closed (a frame, `proto::realtime::frame`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// `x-fal-error` TIMEOUT: it closes this idle socket.
    Idle,
    /// `{status: "error", error: "Unauthorized"}`: it refused the token.
    Unauthorized,
}

/// Why a socket closed, as the connection saw it.
#[derive(Debug, Clone, PartialEq)]
pub enum CloseKind {
    /// The server closed an idle socket: not an error; the next input reconnects.
    Idle,
    /// Policy violation (1008) or server error (1011): retrying won't help.
    Fatal { code: u16 },
    /// Unauthorized with a token fetched just for this attempt: a fresh one won't help either.
    Unauthorized,
    /// Unauthorized with a cached token (expired, revoked): a fresh token, at once.
    TokenRefused,
    /// Anything else: a drop, a network loss, a refused handshake.
    Unexpected,
}

/// `fresh_token`: the socket used a token fetched for this very attempt.
pub fn classify_close(code: u16, notice: Option<Notice>, fresh_token: bool) -> CloseKind {
    match (notice, code) {
        (Some(Notice::Unauthorized), _) if fresh_token => CloseKind::Unauthorized,
        (Some(Notice::Unauthorized), _) => CloseKind::TokenRefused,
        (Some(Notice::Idle), _) => CloseKind::Idle,
        (None, 1008 | 1011) => CloseKind::Fatal { code },
        (None, _) => CloseKind::Unexpected,
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

    /// The socket closed unexpectedly after being open `uptime` (None: it never opened).
    /// Returns the delay before the next attempt, or None when attempts ran out.
    /// `rand01` is a uniform draw in [0, 1).
    pub fn next_delay(&mut self, uptime: Option<Duration>, rand01: f64) -> Option<Duration> {
        if uptime.is_some_and(|u| u >= self.cfg.min_uptime) {
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
    pub fn delay_for(&self, attempt: u32, rand01: f64) -> Duration {
        let step = self.cfg.base.scale(f64::from(1u32 << (attempt.saturating_sub(1)).min(20))).min(self.cfg.max).as_ms();
        Duration::ms(step / 2.0 + rand01.clamp(0.0, 1.0) * step / 2.0)
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
        Backoff::new(ReconnectConfig { base: Duration::ms(100.0), max: Duration::ms(1_000.0), min_uptime: Duration::ms(5_000.0), max_attempts: None })
    }

    #[test]
    fn grows_exponentially_with_jitter_up_to_the_ceiling() {
        let mut bo = b();
        let delays: Vec<f64> = (0..7).map(|_| bo.next_delay(None, 1.0).unwrap().as_ms()).collect();
        assert_eq!(delays, [100.0, 200.0, 400.0, 800.0, 1_000.0, 1_000.0, 1_000.0]);
        let mut bo = b();
        assert_eq!(bo.next_delay(None, 0.0), Some(Duration::ms(50.0)), "never below half the step");
    }

    #[test]
    fn a_flapping_server_does_not_reset_the_count() {
        let mut bo = b();
        bo.next_delay(None, 1.0);
        bo.next_delay(Some(Duration::ms(1_000.0)), 1.0); // open for 1 s, then dropped
        assert_eq!(bo.next_delay(Some(Duration::ms(4_999.0)), 1.0), Some(Duration::ms(400.0)));
        assert_eq!(bo.attempt(), 3);
        assert_eq!(bo.next_delay(Some(Duration::ms(5_000.0)), 1.0), Some(Duration::ms(100.0)), "stayed up long enough: a fresh start");
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
        assert_eq!(classify_close(1000, Some(Notice::Idle), false), CloseKind::Idle);
        assert_eq!(classify_close(1008, None, true), CloseKind::Fatal { code: 1008 });
        assert_eq!(classify_close(1011, None, false), CloseKind::Fatal { code: 1011 });
        assert_eq!(classify_close(1006, None, false), CloseKind::Unexpected);
        assert_eq!(classify_close(1000, None, false), CloseKind::Unexpected, "a clean close we didn't ask for still reconnects");
        assert_eq!(classify_close(1008, Some(Notice::Unauthorized), true), CloseKind::Unauthorized);
        assert_eq!(classify_close(1008, Some(Notice::Unauthorized), false), CloseKind::TokenRefused);
    }
}
