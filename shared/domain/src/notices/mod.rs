//! Appointment notices: exactly one notice per booking, move or cancellation a caller or an
//! operator makes, with the delivery guarantees cases have.
//!
//! ```text
//! engine writes the change ──TransactWrite──► appointment + call event + notice (the outbox)
//! ingest: NoticeHandoff::after_change ──SendMessage──► delivery queue ──► deliver: NoticeDeliverer
//!    └─ failed or died: the sweep hands off what is still pending after a minute     │
//!        caller: German confirmation + .ics (SES, raw MIME) ◄───────────────────────┤ each channel once
//!        company: its outputs' e-mail and signed webhook (appointment.*) ◄──────────┘
//!    delivery DLQ ──► alert: NoticeAlerter ──► notice failed, admins alerted once
//! ```
//!
//! The notice is decided from the appointment alone ([`AppointmentNotice::for_change`]) and
//! written in the change's own transaction, so no change goes unannounced and none twice; what
//! it says is frozen then (later changes write notices of their own). Names (service, branch,
//! staff) and the company's outputs are looked up when it is delivered.

pub mod alert;
pub mod caller_mail;
pub mod company_mail;
pub mod deliver;
pub mod facts;
pub mod handoff;
pub mod ics;
pub mod letter;
pub mod message;
pub mod notice;
pub mod payload;
pub mod ports;

#[cfg(test)]
mod tests;

pub use alert::{NoticeAlertPorts, NoticeAlerter};
pub use deliver::{DELIVERY_LEASE, NoticeDeliverer, NoticeOutcome, NoticePorts};
pub use handoff::{HandoffOutcome, NoticeHandoff, NoticeSweepReport, SWEEP_AFTER};
pub use message::{DeliveryMessage, NoticeMessage};
pub use notice::{AppointmentNotice, NoticeChannel, NoticeEvent, NoticeRef, NoticeState, NoticeStatus, StoredNotice};
pub use ports::{AttemptResult, DeliveryClaim, NoticeQueue, NoticeStore};
