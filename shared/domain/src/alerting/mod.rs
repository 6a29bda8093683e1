//! Final failure: after the last delivery attempt the case turns `failed` and the company's
//! admins hear about it by e-mail and Slack, each exactly once per case.

pub mod admin_mail;
pub mod ports;
pub mod service;
pub mod slack;

pub use ports::{AlertChannel, AlertStore};

use crate::ids::CompanyId;
use crate::metrics::{Measurement, MetricSink, dimensions, names};

/// Counts one alert to a company's admins (`Alerts`, by channel and result).
pub(crate) fn count(metrics: &dyn MetricSink, company: &CompanyId, channel: AlertChannel, result: &Result<(), String>) {
    let outcome = if result.is_ok() { "sent" } else { "failed" };
    metrics.put(&[Measurement::one(names::ALERTS, Some(company))
        .with(dimensions::CHANNEL, channel.as_str())
        .with(dimensions::RESULT, outcome)]);
}
pub use service::{AlertError, AlertOutcome, AlertPorts, Alerter};
