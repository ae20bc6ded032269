//! The send throttle of a realtime connection: the first input goes at once,
//! then at most one per interval, and what goes is always the newest input
//! (an input superseded while waiting is never sent). Interval 0 sends everything.

use crate::proto::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct Throttle<P> {
    interval: Duration,
    last_sent: Option<Instant>,
    pending: Option<P>,
}

impl<P> Throttle<P> {
    pub fn new(interval: Duration) -> Self {
        Self { interval, last_sent: None, pending: None }
    }

    /// An input from the app: returned if it may go now, else kept (replacing an older one).
    pub fn push(&mut self, now: Instant, input: P) -> Option<P> {
        if self.interval == Duration::ZERO || self.last_sent.is_none_or(|t| now >= t + self.interval) {
            self.pending = None;
            self.last_sent = Some(now);
            return Some(input);
        }
        self.pending = Some(input);
        None
    }

    /// When the kept input may go.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.pending.as_ref().map(|_| self.last_sent.map_or(Instant::default(), |t| t + self.interval))
    }

    /// The kept input, if its time has come.
    pub fn handle_timeout(&mut self, now: Instant) -> Option<P> {
        if self.poll_timeout().is_some_and(|t| now >= t) {
            self.last_sent = Some(now);
            return self.pending.take();
        }
        None
    }

    /// Takes the kept input regardless of time (to hold it across a reconnect).
    pub fn take_pending(&mut self) -> Option<P> {
        self.pending.take()
    }

    pub fn has_pending(&self) -> bool {
        self.pending.is_some()
    }
}

/// Inputs numbered as the app sends them; one that arrives late (its files still uploading when
/// a newer one was sent) is not sent after the newer one.
#[derive(Debug, Default)]
pub struct Newest {
    made: u64,
    sent: u64,
}

impl Newest {
    /// The number of an input the app just sent.
    pub fn number(&mut self) -> u64 {
        self.made += 1;
        self.made
    }

    /// Whether input `n` may go now (and is then the newest sent).
    pub fn admit(&mut self, n: u64) -> bool {
        let ok = n >= self.sent;
        if ok {
            self.sent = n;
        }
        ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_late_input_never_goes_after_a_newer_one() {
        let mut n = Newest::default();
        let (a, b) = (n.number(), n.number());
        assert!(n.admit(b));
        assert!(!n.admit(a), "a finished uploading after b went");
        let c = n.number();
        assert!(n.admit(c));
    }

    #[test]
    fn first_goes_at_once_then_one_per_interval_newest_wins() {
        let mut t = Throttle::new(Duration::ms(100.0));
        assert_eq!(t.push(Instant::at(0.0), 1), Some(1));
        assert_eq!(t.push(Instant::at(10.0), 2), None);
        assert_eq!(t.push(Instant::at(20.0), 3), None);
        assert_eq!(t.poll_timeout(), Some(Instant::at(100.0)));
        assert_eq!(t.handle_timeout(Instant::at(99.0)), None);
        assert_eq!(t.handle_timeout(Instant::at(100.0)), Some(3), "2 was superseded and never goes");
        assert_eq!(t.poll_timeout(), None);
        assert_eq!(t.push(Instant::at(150.0), 4), None, "still inside the interval after 3 went at 100");
        assert_eq!(t.handle_timeout(Instant::at(200.0)), Some(4));
        assert_eq!(t.push(Instant::at(400.0), 5), Some(5), "a quiet period lets the next go at once");
    }

    #[test]
    fn interval_zero_sends_everything() {
        let mut t = Throttle::new(Duration::ZERO);
        for i in 0..100 {
            assert_eq!(t.push(Instant::at(1.0), i), Some(i));
        }
        assert_eq!(t.poll_timeout(), None);
    }

    #[test]
    fn at_most_one_per_interval_over_a_burst() {
        let mut t = Throttle::new(Duration::ms(128.0));
        let mut sent = Vec::new();
        let mut now = Instant::at(0.0);
        for i in 0..1000 {
            now = now + Duration::ms(3.0); // ~333 inputs a second
            if let Some(x) = t.handle_timeout(now) {
                sent.push((now, x));
            }
            if let Some(x) = t.push(now, i) {
                sent.push((now, x));
            }
        }
        for w in sent.windows(2) {
            assert!(w[1].0 - w[0].0 >= Duration::ms(128.0), "{w:?}");
            assert!(w[1].1 > w[0].1, "never an older input after a newer one");
        }
        let last = t.handle_timeout(now + Duration::ms(200.0)).or(sent.last().map(|s| s.1)).unwrap();
        assert_eq!(last, 999, "the newest input always goes in the end");
    }
}
