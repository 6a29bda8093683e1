//! The time an invocation has left. Lambda kills a function at its timeout without running any
//! of its error handling, so every outbound call is bounded by the invocation's deadline (minus
//! a margin for recording the outcome), not only by its own client budget.

use std::time::{Duration, Instant};

/// An instant by which the work must be done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Deadline(Instant);

impl Deadline {
    pub fn at(instant: Instant) -> Self {
        Self(instant)
    }

    /// `budget` from now.
    pub fn after(budget: Duration) -> Self {
        Self(Instant::now() + budget)
    }

    /// A deadline that never constrains (tools and tests without a function timeout).
    pub fn none() -> Self {
        Self::after(Duration::from_secs(365 * 24 * 3600))
    }

    pub fn instant(self) -> Instant {
        self.0
    }

    /// Time left (zero once passed).
    pub fn remaining(self) -> Duration {
        self.0.saturating_duration_since(Instant::now())
    }

    pub fn is_past(self) -> bool {
        self.remaining().is_zero()
    }

    /// The shorter of a client's own budget and the time left.
    pub fn cap(self, budget: Duration) -> Duration {
        budget.min(self.remaining())
    }

    /// This deadline brought forward by `margin` (time kept back to record the outcome).
    pub fn minus(self, margin: Duration) -> Self {
        Self(self.0.checked_sub(margin).unwrap_or(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_a_budget_by_the_time_left() {
        let d = Deadline::after(Duration::from_secs(5));
        assert!(d.cap(Duration::from_secs(30)) <= Duration::from_secs(5));
        assert_eq!(d.cap(Duration::from_millis(10)), Duration::from_millis(10));
        assert!(!d.is_past());
        let past = Deadline::at(Instant::now()).minus(Duration::from_secs(1));
        assert!(past.is_past());
        assert_eq!(past.remaining(), Duration::ZERO);
    }
}
