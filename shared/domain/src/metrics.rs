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
    /// Per analyzed call that was offered other times: 1 when it still booked, else 0 (the mean is
    /// the alternative acceptance rate).
    pub const ALTERNATIVES_ACCEPTED: &str = "AlternativesAccepted";
    /// Per analyzed call: 1 when it became a ticket (a case), else 0 (the mean is the call → ticket
    /// conversion).
    pub const TICKET_CONVERSION: &str = "TicketConversion";
    /// Per analyzed call: 1 when it booked an appointment, else 0 (call → appointment conversion).
    pub const APPOINTMENT_CONVERSION: &str = "AppointmentConversion";
    /// Per analyzed call with Retell's cost: what it cost us (Retell + telephony) in EUR.
    pub const CALL_COST: &str = "CallCostEur";
    /// A case's enrichment finished (counted by the message that finished it), with dimension
    /// `Result` (enriched, failed, timeout).
    pub const ENRICHMENTS: &str = "Enrichments";
    /// An alert to a company's admins, with dimensions `Channel` (email, slack) and `Result`.
    pub const ALERTS: &str = "Alerts";
    /// One queue record handled once, with dimensions `Function` and `Result` (done, retry,
    /// dead_letter: given up on; a consumer without a dead-letter queue of its own gets it again
    /// until SQS moves it): delivery attempts, of cases and notices, are `Function=deliver`.
    pub const ATTEMPTS: &str = "Attempts";
    /// How long a function spent, in milliseconds, with dimension `Function`: per queue record
    /// (enrich, deliver, alert), per console request, per sweep run (the ingest function's own
    /// time is `WebhookDuration`).
    pub const HANDLER_DURATION: &str = "HandlerDuration";
    /// Hand-offs the sweep finished because the request that began them did not (a case to
    /// enrichment, a notice to delivery), per run, with dimension `Kind` (case, notice): above 0
    /// now and then is normal (a timed-out request), often means ingest is failing after writes.
    pub const SWEPT_HANDOFFS: &str = "SweptHandoffs";

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
        ALTERNATIVES_ACCEPTED,
        TICKET_CONVERSION,
        APPOINTMENT_CONVERSION,
        CALL_COST,
        ENRICHMENTS,
        ALERTS,
        ATTEMPTS,
        HANDLER_DURATION,
        SWEPT_HANDOFFS,
    ];
}

/// Dimension names (besides `Company`).
pub mod dimensions {
    pub const COMPANY: &str = "Company";
    pub const CHANNEL: &str = "Channel";
    pub const RESULT: &str = "Result";
    pub const FUNCTION: &str = "Function";
    pub const KIND: &str = "Kind";
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Milliseconds,
    /// A number without a CloudWatch unit (an amount in EUR).
    None,
}

impl Unit {
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
            Unit::None => "None",
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

    /// A value in `unit`.
    pub fn of(name: &'static str, unit: Unit, value: f64, company: Option<&CompanyId>) -> Self {
        Self {
            name,
            unit,
            value,
            company: company.cloned(),
            dimensions: Vec::new(),
        }
    }

    /// 1 when `yes`, else 0: a rate's sample (its mean is the rate).
    pub fn flag(name: &'static str, yes: bool, company: Option<&CompanyId>) -> Self {
        Self::of(name, Unit::Count, if yes { 1.0 } else { 0.0 }, company)
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
