//! Appointments: booking for the voice agent. A branch's business calendar (opening hours,
//! breaks, closures, its IANA zone), the slot grid for calendars without availability logic,
//! what the caller said about date and time (German), how the agent says dates and times back,
//! and alternatives when the wish is taken. Pure: no I/O, no async, no clock reads (`now` is
//! passed in).
//!
//! Times are UTC instants; the branch's zone is applied at the edges ([`calendar::local_time`]
//! holds every DST rule). Module docs record the decisions: [`speech::parse`] (what "nächsten
//! Dienstag", "halb drei", "mittags" mean), [`speech::speak`] (spoken style),
//! [`calendar::slots`] (buffers, notice, horizon), [`alternatives`] (ranking and strategies).

pub mod alternatives;
pub mod backend;
pub mod breaker;
pub mod calendar;
pub mod calendar_sync;
pub mod desk;
pub mod engine;
pub mod ports;
pub mod record;
pub mod setup;
pub mod slot_cache;
pub mod speech;

pub use alternatives::{
    Answer, Miss, Offer, OfferKind, Outcome, SearchPolicy, SlotSearch, find_alternatives, find_next_available,
};
pub use calendar::config::{CalendarConfig, CalendarConfigError};
pub use calendar::hours::{BranchCalendar, Closure, OpenInterval, WeeklyHours};
pub use calendar::local_time::Span;
pub use calendar::slots::{ServiceRules, Slot, StaffId, free_slots};
pub use speech::parse::{Question, QuestionKind, TimeWish, Wish, parse_wish};
