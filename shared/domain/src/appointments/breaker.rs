//! A circuit breaker per company and calendar backend. It counts only what says the backend is
//! unwell (5xx, timeouts, rate limits): a run of "slot taken" answers is the calendar working
//! (the original's global breaker counted those and locked every company out of Cal.com).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use chrono::{DateTime, TimeDelta, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerSettings {
    /// Failures within `window` that open the breaker.
    pub failures: usize,
    pub window: TimeDelta,
    /// How long it stays open before one trial call is let through.
    pub open_for: TimeDelta,
}

impl Default for BreakerSettings {
    fn default() -> Self {
        Self {
            failures: 5,
            window: TimeDelta::seconds(60),
            open_for: TimeDelta::seconds(30),
        }
    }
}

#[derive(Debug, Clone)]
enum State {
    Closed {
        failures: VecDeque<DateTime<Utc>>,
    },
    Open {
        until: DateTime<Utc>,
    },
    /// One trial call is out; its result closes or reopens the breaker.
    Trial,
}

#[derive(Debug, Default)]
pub struct Breaker {
    settings: BreakerSettings,
    states: Mutex<HashMap<String, State>>,
}

impl Breaker {
    pub fn new(settings: BreakerSettings) -> Self {
        Self {
            settings,
            states: Mutex::default(),
        }
    }

    /// Whether a call to `key`'s backend may go out now.
    pub fn allows(&self, key: &str, now: DateTime<Utc>) -> bool {
        let mut states = self.states.lock().unwrap_or_else(|p| p.into_inner());
        match states.get(key) {
            Some(State::Open { until }) if now < *until => false,
            Some(State::Open { .. }) => {
                states.insert(key.to_string(), State::Trial);
                true
            }
            Some(State::Trial) => false,
            _ => true,
        }
    }

    /// Records a call's result: `unwell` only for what counts against the backend.
    pub fn record(&self, key: &str, now: DateTime<Utc>, unwell: bool) {
        let mut states = self.states.lock().unwrap_or_else(|p| p.into_inner());
        let state = states.entry(key.to_string()).or_insert(State::Closed {
            failures: VecDeque::new(),
        });
        *state = match (std::mem::replace(state, State::Trial), unwell) {
            (State::Trial, false) | (State::Open { .. }, false) => State::Closed {
                failures: VecDeque::new(),
            },
            (State::Trial, true) | (State::Open { .. }, true) => State::Open {
                until: now + self.settings.open_for,
            },
            (State::Closed { mut failures }, unwell) => {
                while failures.front().is_some_and(|t| now - *t > self.settings.window) {
                    failures.pop_front();
                }
                if unwell {
                    failures.push_back(now);
                }
                if failures.len() >= self.settings.failures {
                    State::Open {
                        until: now + self.settings.open_for,
                    }
                } else {
                    State::Closed { failures }
                }
            }
        };
    }

    pub fn is_open(&self, key: &str, now: DateTime<Utc>) -> bool {
        let states = self.states.lock().unwrap_or_else(|p| p.into_inner());
        matches!(states.get(key), Some(State::Open { until }) if now < *until)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap_or_default()
    }

    #[test]
    fn stays_closed_on_answers_about_requests_and_opens_on_failures() {
        let b = Breaker::new(BreakerSettings::default());
        for i in 0..50 {
            b.record("c:calcom", t(i), false);
        }
        assert!(b.allows("c:calcom", t(50)), "a run of 'taken' never opens it");
        for i in 0..4 {
            b.record("c:calcom", t(60 + i), true);
        }
        assert!(b.allows("c:calcom", t(64)));
        b.record("c:calcom", t(64), true);
        assert!(!b.allows("c:calcom", t(65)), "five failures within a minute open it");
        assert!(b.allows("other:calcom", t(65)), "per company and backend");
        assert!(b.allows("c:calcom", t(95)), "one trial after 30 s");
        assert!(!b.allows("c:calcom", t(95)), "only one");
        b.record("c:calcom", t(96), false);
        assert!(b.allows("c:calcom", t(96)), "a good trial closes it");
    }

    #[test]
    fn failures_spread_over_more_than_the_window_do_not_open_it() {
        let b = Breaker::new(BreakerSettings::default());
        for i in 0..10 {
            b.record("k", t(i * 20), true);
        }
        assert!(b.allows("k", t(200)));
    }
}
