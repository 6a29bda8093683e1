//! Operational metrics: what the gateway counts, by name, with the company as the only
//! high-level dimension (bounded: one value per tenant; never a call id). The domain says *what*
//! happened through [`MetricSink`]; the Lambda edge writes it as CloudWatch Embedded Metric
//! Format (`gateway_lambda::metrics`). A sink never fails and never blocks on I/O.

use crate::ids::CompanyId;

/// Every metric name the gateway emits. template.yaml's dashboard and alarms may reference only
/// these (a test compares them).
pub mod names {
    /// Every Retell request at the HTTP edge (webhooks and custom functions).
    pub const WEBHOOK_REQUESTS: &str = "WebhookRequests";
    /// 1 for a request not answered 2xx (Retell retries it), else 0: the failure rate is its mean.
    pub const WEBHOOK_FAILURES: &str = "WebhookFailures";
    /// How long the edge took to answer Retell, in milliseconds (p95 on the dashboard).
    pub const WEBHOOK_DURATION: &str = "WebhookDuration";
    /// A call became a new service case (by `call_analyzed` or `finalize_ticket`).
    pub const CASES_CAPTURED: &str = "CasesCaptured";
    /// A request repeated one already done (Retell's retries, the same function twice).
    pub const DUPLICATES: &str = "Duplicates";
    /// An event no company owns (unknown agent and number), kept for replay.
    pub const UNROUTED_EVENTS: &str = "UnroutedEvents";
    /// One channel of one case delivered, with dimensions `Channel` and `Result`.
    pub const DELIVERIES: &str = "Deliveries";
    /// An appointment booked (or requested, waiting for the company's confirmation).
    pub const BOOKINGS: &str = "Bookings";
    /// A booking that did not happen for the gateway's side: calendar unreachable, or the time
    /// was taken between offer and booking.
    pub const BOOKING_FAILURES: &str = "BookingFailures";
    /// Other times were offered because the caller's wish was not free.
    pub const ALTERNATIVES_OFFERED: &str = "AlternativesOffered";

    pub const ALL: &[&str] = &[
        WEBHOOK_REQUESTS,
        WEBHOOK_FAILURES,
        WEBHOOK_DURATION,
        CASES_CAPTURED,
        DUPLICATES,
        UNROUTED_EVENTS,
        DELIVERIES,
        BOOKINGS,
        BOOKING_FAILURES,
        ALTERNATIVES_OFFERED,
    ];
}

/// Dimension names (besides `Company`).
pub mod dimensions {
    pub const COMPANY: &str = "Company";
    pub const CHANNEL: &str = "Channel";
    pub const RESULT: &str = "Result";
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Milliseconds,
}

impl Unit {
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
        }
    }
}

/// One value of one metric.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    pub name: &'static str,
    pub unit: Unit,
    pub value: f64,
    /// The company, when known: emitted per company and in the all-companies aggregate.
    pub company: Option<CompanyId>,
    /// Further bounded dimensions (`Channel`, `Result`).
    pub dimensions: Vec<(&'static str, String)>,
}

impl Measurement {
    /// A count of 1.
    pub fn one(name: &'static str, company: Option<&CompanyId>) -> Self {
        Self {
            name,
            unit: Unit::Count,
            value: 1.0,
            company: company.cloned(),
            dimensions: Vec::new(),
        }
    }

    pub fn with(mut self, dimension: &'static str, value: impl Into<String>) -> Self {
        self.dimensions.push((dimension, value.into()));
        self
    }
}

pub trait MetricSink: Send + Sync {
    fn put(&self, measurements: &[Measurement]);
}

/// Counts nothing (tests and tools that do not look).
pub struct NoMetrics;

impl MetricSink for NoMetrics {
    fn put(&self, _: &[Measurement]) {}
}
