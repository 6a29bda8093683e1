//! The in-memory "database" and everything shared between handlers, middleware and the test handle.
//!
//! One `std::sync::Mutex` per concern, never held across an `.await`: a create checks and writes under a
//! single lock, so concurrent creates of one slot are serialised exactly like a unique index would.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::faults::ArmedFault;
use crate::model::{Booking, EventType, Reservation};
use crate::ratelimit::Limiter;
use crate::reqlog::LoggedRequest;
use crate::webhooks::WebhookHub;

/// How a second create for an already booked start behaves.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Idempotency {
    /// Cal.com: an active booking of the same event type, start and attendee e-mail (or phone) is returned
    /// as if newly created — same uid, old `createdAt`, the earlier caller's data (the ghost-booking cause).
    #[default]
    SameAttendee,
    /// Stricter reading of the idempotency key `start.end.hostUserId`: any create for that host and time
    /// returns the existing booking, whoever the attendee is.
    SameSlot,
    /// Never replay; a second create gets the normal "already has booking" 400.
    Off,
}

pub struct Store {
    pub event_types: BTreeMap<i64, EventType>,
    pub bookings: Vec<Booking>,
    pub reservations: Vec<Reservation>,
    /// `None`: any `cal_…` key is valid. `Some(k)`: only `k`.
    pub api_key: Option<String>,
    pub now_override: Option<DateTime<Utc>>,
    pub idempotency: Idempotency,
    next_booking_id: u64,
}

impl Store {
    pub fn new() -> Self {
        Self {
            event_types: BTreeMap::new(),
            bookings: Vec::new(),
            reservations: Vec::new(),
            api_key: None,
            now_override: None,
            idempotency: Idempotency::default(),
            next_booking_id: 1,
        }
    }

    /// The clock used for "in the past", minimum notice, horizon, reservation expiry and timestamps.
    pub fn now(&self) -> DateTime<Utc> {
        self.now_override.unwrap_or_else(Utc::now)
    }

    pub fn event_type(&self, id: i64) -> Option<&EventType> {
        self.event_types.get(&id)
    }

    pub fn event_type_by_slug(&self, slug: &str, username: &str) -> Option<&EventType> {
        self.event_types
            .values()
            .find(|et| et.slug == slug && et.host.username == username)
    }

    pub fn booking(&self, uid: &str) -> Option<&Booking> {
        self.bookings.iter().find(|b| b.uid == uid)
    }

    pub fn booking_mut(&mut self, uid: &str) -> Option<&mut Booking> {
        self.bookings.iter_mut().find(|b| b.uid == uid)
    }

    pub fn next_booking_id(&mut self) -> u64 {
        let id = self.next_booking_id;
        self.next_booking_id += 1;
        id
    }

    /// Reservations are dropped lazily, whenever someone looks.
    pub fn purge_expired_reservations(&mut self) {
        let now = self.now();
        self.reservations.retain(|r| r.until > now);
    }
}

impl Default for Store {
    fn default() -> Self {
        Self::new()
    }
}

pub struct Shared {
    pub store: Mutex<Store>,
    pub log: Mutex<Vec<LoggedRequest>>,
    pub faults: Mutex<Vec<ArmedFault>>,
    pub limiter: Mutex<Limiter>,
    pub webhooks: WebhookHub,
}

impl Shared {
    pub fn store(&self) -> MutexGuard<'_, Store> {
        lock(&self.store)
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.store().now()
    }
}

/// A panicking handler must not wedge every later request.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

const BASE58: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/// Booking uids are 22-character base58 strings (short-uuid of a UUID in Cal.com).
pub fn new_booking_uid() -> String {
    let mut rng = rand::rng();
    (0..22)
        .map(|_| BASE58[rng.random_range(0..BASE58.len())] as char)
        .collect()
}

/// Reservation uids are UUID v4.
pub fn new_uuid() -> String {
    let mut bytes: [u8; 16] = rand::rng().random();
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = hex::encode(bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_shapes() {
        let uid = new_booking_uid();
        assert_eq!(uid.len(), 22);
        assert!(uid.bytes().all(|b| BASE58.contains(&b)));
        let uuid = new_uuid();
        assert_eq!(uuid.len(), 36);
        assert_eq!(&uuid[14..15], "4");
    }
}
