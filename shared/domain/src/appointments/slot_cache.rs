//! A short-lived cache of free slots per company, calendar and window, so an availability check
//! followed by a booking in the same minute costs one calendar request. Entries live at most the
//! TTL (≤ 30 s: a longer one offered slots others had booked meanwhile) and are dropped by our
//! own writes to that calendar and by the calendar's webhooks.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, TimeDelta, Utc};

use crate::appointments::calendar::local_time::Span;
use crate::appointments::calendar::slots::Slot;
use crate::ids::CompanyId;

/// (company, calendar key, window start, window end).
type Key = (CompanyId, String, DateTime<Utc>, DateTime<Utc>);
/// When the slots were fetched, and the slots.
type Entry = (DateTime<Utc>, Vec<Slot>);

#[derive(Debug)]
pub struct SlotCache {
    ttl: TimeDelta,
    entries: Mutex<HashMap<Key, Entry>>,
}

impl SlotCache {
    pub fn new(ttl: TimeDelta) -> Self {
        Self {
            ttl,
            entries: Mutex::default(),
        }
    }

    fn key(company: &CompanyId, calendar: &str, range: &Span) -> Key {
        (company.clone(), calendar.to_string(), range.start, range.end)
    }

    pub fn get(&self, company: &CompanyId, calendar: &str, range: &Span, now: DateTime<Utc>) -> Option<Vec<Slot>> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(&Self::key(company, calendar, range))
            .filter(|(at, _)| now - *at < self.ttl)
            .map(|(_, slots)| slots.clone())
    }

    pub fn put(&self, company: &CompanyId, calendar: &str, range: &Span, now: DateTime<Utc>, slots: Vec<Slot>) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        // Expired entries go whenever something is added, so the cache stays small.
        entries.retain(|_, (at, _)| now - *at < self.ttl);
        entries.insert(Self::key(company, calendar, range), (now, slots));
    }

    /// Forgets every window of a calendar (after a booking, move or cancellation in it).
    pub fn drop_calendar(&self, company: &CompanyId, calendar: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.retain(|(c, cal, _, _), _| !(c == company && cal == calendar));
    }
}
