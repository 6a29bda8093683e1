//! Final failure: after the last delivery attempt the case turns `failed` and the company's
//! admins hear about it by e-mail and Slack, each exactly once per case.

pub mod admin_mail;
pub mod ports;
pub mod service;
pub mod slack;

pub use ports::{AlertChannel, AlertStore};
pub use service::{AlertError, AlertOutcome, AlertPorts, Alerter};
