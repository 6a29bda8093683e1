//! Calendar sync: the company's calendar tells us about changes made there (Cal.com webhooks at
//! `POST /webhooks/calcom/{company}`), and our appointments follow staff changes. Verified
//! ([`signature`]), parsed ([`webhook`]), deduplicated and applied ([`service`]) by a pure
//! decision ([`decide`]) that recognises our own bookings and changes coming back, so nothing
//! loops; every change drops the company's cached free slots.
//!
//! Our own changes: the engine marks a booking before it cancels or moves it in Cal.com
//! ([`ports::ChangeMarks`]) because Cal.com delivers the webhook about it, and waits for our
//! answer, before it answers the engine — at that moment our record still holds the old state.

pub mod decide;
pub mod ports;
pub mod service;
pub mod signature;
pub mod webhook;

pub use decide::{Decision, Found, StaffChange, Unchanged};
pub use ports::{ChangeMarks, PendingChange, PendingKind, WebhookReceipts};
pub use service::{CalcomSync, SlotCacheDrop, SyncOutcome, SyncPorts};
pub use signature::SignatureError;
pub use webhook::{BookingChange, CalcomWebhook, Trigger, WebhookError};
