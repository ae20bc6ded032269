//! Time for the machines: a monotonic clock, never the wall clock.
//!
//! Every deadline (backoff sleeps, the breaker's open window, the stall window, reconnect waits,
//! token refreshes, the schema cache's back-off) is an [`Instant`] on a clock that never jumps
//! (`performance.now()` in the browser), so an OS clock step can neither stall nor fire them.
//! The wall clock ([`Wall`]) is used only where an epoch is meant: HTTP dates and `resetAt`
//! (decoded into a delay at once), and times shown to people (`reopensAt`, an event's `at`).
//! The two are different types so they can't be mixed.

use core::ops::{Add, Sub};

/// A point on the monotonic clock, in milliseconds from an arbitrary origin.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default)]
pub struct Instant(f64);

/// A span of time in milliseconds; never negative when made by [`Duration::ms`].
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default)]
pub struct Duration(f64);

/// A point on the wall clock: milliseconds since the Unix epoch (`Date.now()`).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default)]
pub struct Wall(pub f64);

impl Instant {
    pub const fn at(ms: f64) -> Self {
        Self(ms)
    }
    pub fn as_ms(self) -> f64 {
        self.0
    }
    pub fn min(self, other: Self) -> Self {
        if other.0 < self.0 {
            other
        } else {
            self
        }
    }
    /// How long from `self` until `later` (zero if `later` is past).
    pub fn until(self, later: Instant) -> Duration {
        Duration::ms(later.0 - self.0)
    }
    /// The wall-clock time of this instant, given both clocks read at one moment.
    pub fn to_wall(self, now: Now) -> Wall {
        Wall(now.wall.0 + (self.0 - now.mono.0))
    }
}

impl Duration {
    pub const ZERO: Duration = Duration(0.0);
    /// `ms` milliseconds; negative or NaN is zero.
    pub fn ms(ms: f64) -> Self {
        Self(if ms > 0.0 { ms } else { 0.0 })
    }
    pub fn as_ms(self) -> f64 {
        self.0
    }
    pub fn min(self, other: Self) -> Self {
        if other.0 < self.0 {
            other
        } else {
            self
        }
    }
    pub fn scale(self, f: f64) -> Self {
        Self::ms(self.0 * f)
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, d: Duration) -> Instant {
        Instant(self.0 + d.0)
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;
    fn sub(self, earlier: Instant) -> Duration {
        Duration::ms(self.0 - earlier.0)
    }
}

/// Both clocks read at one moment: the monotonic one for deadlines, the wall one for epochs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Now {
    pub mono: Instant,
    pub wall: Wall,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_and_the_wall_clock_view() {
        let t = Instant::at(1_000.0);
        assert_eq!(t + Duration::ms(500.0), Instant::at(1_500.0));
        assert_eq!(Instant::at(1_500.0) - t, Duration::ms(500.0));
        assert_eq!(t - Instant::at(1_500.0), Duration::ZERO, "never negative");
        assert_eq!(Duration::ms(f64::NAN), Duration::ZERO);
        assert_eq!(t.until(Instant::at(900.0)), Duration::ZERO);
        let now = Now { mono: Instant::at(1_000.0), wall: Wall(1.7e12) };
        assert_eq!(Instant::at(31_000.0).to_wall(now), Wall(1.7e12 + 30_000.0));
    }
}
