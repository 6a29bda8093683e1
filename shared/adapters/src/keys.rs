//! Single-table key layout. Every key holding tenant data starts with the company, so no query
//! can cross tenants; only routes (which map to a company) and unrouted events do not.
//!
//! | item                | PK                            | SK                        |
//! |---------------------|-------------------------------|---------------------------|
//! | company config      | `COMPANY#c`                   | `CFG#COMPANY`             |
//! | appointments section| `COMPANY#c`                   | `CFG#APPOINTMENTS`        |
//! | category            | `COMPANY#c`                   | `CFG#CATEGORY#slug`       |
//! | case (one per call) | `COMPANY#c`                   | `CASE#<call_id>`          |
//! | ticket counter      | `COMPANY#c`                   | `COUNTER#TICKET#<year>`   |
//! | call event          | `COMPANY#c#CALL#<call_id>`    | `EVENT#<type>[#<disc>]`   |
//! | unrouted call event | `UNROUTED#CALL#<call_id>`     | `EVENT#<type>[#<disc>]`   |
//! | output configuration| `COMPANY#c`                   | `CFG#OUTPUT#id`           |
//! | company preset      | `COMPANY#c`                   | `CFG#PRESET#slug`         |
//! | route (company copy)| `COMPANY#c`                   | `CFG#ROUTE#AGENT#a`       |
//! | customer            | `COMPANY#c`                   | `CUSTOMER#<id>`           |
//! | exchange log entry  | `COMPANY#c#CASE#<case_id>`    | `LOG#<ts>#<n>`            |
//! | route               | `ROUTE#AGENT#a` / `ROUTE#PHONE#+49…` | `ROUTE`            |
//! | appointment         | `COMPANY#c`                   | `APPT#<id>`               |
//! | slot hold (TTL)     | `COMPANY#c#HOLDS`             | `SLOT#<calendar>#<start>` |
//! | idempotency record  | `COMPANY#c#CALL#<call_id>`    | `OP#<intent>#<subject>`   |
//! | appointment notice  | `COMPANY#c`                   | `NOTICE#<appt>#<change>`  |
//! | appointment's log   | `COMPANY#c#APPT#<appt>`       | `LOG#<ts>#<n>`            |
//! | webhook receipt (TTL 30 d) | `COMPANY#c#WEBHOOKS`   | `CALCOM#<trigger>#<uid>#<createdAt>` |
//! | change mark (TTL)   | `COMPANY#c#CHANGES`           | `UID#<calendar uid>`      |
//! | cost-ledger entry   | `COMPANY#c`                   | `COST#<YYYY-MM>#<call_id>`|
//!
//! (A cost-ledger entry is also in GSI1 under `COSTS#<YYYY-MM>` / `<c>#<day>#<call_id>`: every
//! company's month in one query, for the platform's report.)
//!
//! A case not handed off yet is also in GSI2 under `HANDOFF#PENDING` / `<created_at>#<c>#<call>`
//! until its hand-off completes: the sweep's work list. Likewise a notice (written in the
//! transaction of the change it announces) under `NOTICE#PENDING` /
//! `<changed_at>#<c>#<appt>#<change>` until it is on the delivery queue.
//!
//! GSI1 lists a company's cases by time (`COMPANY#c#CASES` / created_at#case_id; GSI1Rows has the
//! same keys with only the list-row attributes, for the console) and its
//! exchange-log entries by time (`COMPANY#c#LOG` / created_at#event_id), finds
//! customers by phone and a caller's appointments by end time (`COMPANY#c#APPT#PHONE#+49…`);
//! GSI2 finds a case by ticket reference (`COMPANY#c#TICKET#TKT-…` / `CASE`), customers by
//! e-mail and an appointment by its calendar uid (`COMPANY#c#APPT#UID#<uid>`).

use gateway_domain::ids::{AppointmentId, CallId, CaseId, CompanyId, TicketRef};
use gateway_domain::tenancy::RouteKey;

pub const PK: &str = "PK";
pub const SK: &str = "SK";
pub const GSI1PK: &str = "GSI1PK";
pub const GSI1SK: &str = "GSI1SK";
pub const GSI2PK: &str = "GSI2PK";
pub const GSI2SK: &str = "GSI2SK";
pub const GSI1: &str = "GSI1";
pub const GSI2: &str = "GSI2";
/// GSI1's keys again, carrying only what a list row shows ([`CASE_ROW_ATTRIBUTES`]): a page
/// of the console's case list or dashboard holds thousands of cases instead of the few dozen
/// whose transcripts fill GSI1's 1 MB.
pub const GSI1_ROWS: &str = "GSI1Rows";

/// What a case-list row needs (the non-key attributes [`GSI1_ROWS`] projects): the transcript,
/// the analysis and the call stay in the table.
pub const CASE_ROW_ATTRIBUTES: &[&str] = &[
    "company_id",
    "case_id",
    "call_id",
    "ticket_ref",
    "case_type",
    "priority",
    "urgency",
    "impact",
    "status",
    "output_status",
    "enrichment_status",
    "source",
    "subject",
    "description",
    "caller",
    "category",
    "sla_response_due_at",
    "sla_resolution_due_at",
    "created_at",
    "updated_at",
    "enqueued_at",
    "enrichment",
    "delivery",
    "external_reference",
    "output_sent_at",
    "output_error",
];
/// TTL attribute (epoch seconds).
pub const EXPIRES_AT: &str = "expires_at";

pub const CONFIG_PREFIX: &str = "CFG#";
pub const COMPANY_CONFIG: &str = "CFG#COMPANY";
/// The `appointments:` section of a company's document, as one item.
pub const APPOINTMENTS_CONFIG: &str = "CFG#APPOINTMENTS";
pub const CATEGORY_PREFIX: &str = "CFG#CATEGORY#";
pub const OUTPUT_PREFIX: &str = "CFG#OUTPUT#";
pub const PRESET_PREFIX: &str = "CFG#PRESET#";
/// A company's copy of its routes, so its configuration can be read (and exported) in one query.
pub const ROUTE_MIRROR_PREFIX: &str = "CFG#ROUTE#";
pub const CUSTOMER_PREFIX: &str = "CUSTOMER#";
pub const LOG_PREFIX: &str = "LOG#";
pub const CASE_PREFIX: &str = "CASE#";
pub const EVENT_PREFIX: &str = "EVENT#";
pub const COST_PREFIX: &str = "COST#";

/// A call's cost-ledger entry, under the month of the call's day: a month is one Query.
pub fn cost_sk(month: gateway_domain::costs::Month, call_id: &CallId) -> String {
    format!("{COST_PREFIX}{month}#{call_id}")
}

/// GSI1 partition of every company's ledger entries of a month (the platform's report).
pub fn costs_index(month: gateway_domain::costs::Month) -> String {
    format!("COSTS#{month}")
}

/// The prefix of a month's ledger entries.
pub fn cost_month_prefix(month: gateway_domain::costs::Month) -> String {
    format!("{COST_PREFIX}{month}#")
}

pub fn company(company_id: &CompanyId) -> String {
    format!("COMPANY#{company_id}")
}

pub fn category(slug: &str) -> String {
    format!("{CATEGORY_PREFIX}{slug}")
}

pub fn output(id: &str) -> String {
    format!("{OUTPUT_PREFIX}{id}")
}

pub fn preset(slug: &str) -> String {
    format!("{PRESET_PREFIX}{slug}")
}

pub fn route_mirror(route: &RouteKey) -> String {
    match route {
        RouteKey::Agent(a) => format!("{ROUTE_MIRROR_PREFIX}AGENT#{a}"),
        RouteKey::Phone(p) => format!("{ROUTE_MIRROR_PREFIX}PHONE#{p}"),
    }
}

pub fn customer(id: &str) -> String {
    format!("{CUSTOMER_PREFIX}{id}")
}

pub fn customer_phone_index(company_id: &CompanyId, e164: &str) -> String {
    format!("COMPANY#{company_id}#CUSTOMER#PHONE#{e164}")
}

pub fn customer_email_index(company_id: &CompanyId, email: &str) -> String {
    format!("COMPANY#{company_id}#CUSTOMER#EMAIL#{email}")
}

/// Partition of a case's exchange log (every delivery attempt and internal step).
pub fn exchange_log(company_id: &CompanyId, case_id: &CaseId) -> String {
    format!("COMPANY#{company_id}#CASE#{case_id}")
}

/// Partition of an appointment's exchange log (the deliveries and alerts of its notices).
pub fn appointment_log(company_id: &CompanyId, appointment_id: &AppointmentId) -> String {
    format!("COMPANY#{company_id}#APPT#{appointment_id}")
}

/// GSI1: a company's exchange-log entries by time (the console's exchange log).
pub fn exchange_log_index(company_id: &CompanyId) -> String {
    format!("COMPANY#{company_id}#LOG")
}

pub fn case_sk(call_id: &CallId) -> String {
    format!("{CASE_PREFIX}{call_id}")
}

pub fn cases_index(company_id: &CompanyId) -> String {
    format!("COMPANY#{company_id}#CASES")
}

pub fn ticket_index(company_id: &CompanyId, ticket_ref: &TicketRef) -> String {
    format!("COMPANY#{company_id}#TICKET#{ticket_ref}")
}

pub fn counter_sk(year: i32) -> String {
    format!("COUNTER#TICKET#{year}")
}

/// Partition of a call's events; `None` keeps unrouted events apart from every tenant.
pub fn call(company_id: Option<&CompanyId>, call_id: &CallId) -> String {
    match company_id {
        Some(c) => format!("COMPANY#{c}#CALL#{call_id}"),
        None => format!("UNROUTED#CALL#{call_id}"),
    }
}

pub fn event_sk(event: &str, discriminator: Option<&str>) -> String {
    match discriminator {
        Some(d) => format!("{EVENT_PREFIX}{event}#{d}"),
        None => format!("{EVENT_PREFIX}{event}"),
    }
}

pub fn route(route: &RouteKey) -> String {
    match route {
        RouteKey::Agent(a) => format!("ROUTE#AGENT#{a}"),
        RouteKey::Phone(p) => format!("ROUTE#PHONE#{p}"),
    }
}

pub const ROUTE_SK: &str = "ROUTE";

/// Slot holds of a company's calendars (one item per calendar and start).
pub fn slot_holds(company_id: &CompanyId) -> String {
    format!("COMPANY#{company_id}#HOLDS")
}

pub fn slot_hold_sk(calendar_key: &str, start: &str) -> String {
    format!("SLOT#{calendar_key}#{start}")
}

/// Receipts of a company's calendar webhooks (one per delivery, so a replay changes nothing).
pub fn webhook_receipts(company_id: &CompanyId) -> String {
    format!("COMPANY#{company_id}#WEBHOOKS")
}

/// A Cal.com delivery's receipt; `key` is trigger, booking uid and `createdAt`.
pub fn calcom_receipt_sk(key: &str) -> String {
    format!("CALCOM#{key}")
}

/// Marks on calendar bookings the engine is cancelling or moving right now.
pub fn change_marks(company_id: &CompanyId) -> String {
    format!("COMPANY#{company_id}#CHANGES")
}

pub fn change_mark_sk(backend_uid: &str) -> String {
    format!("UID#{backend_uid}")
}

/// An idempotency record, in the partition of the call that made the change (its audit trail).
pub fn operation_sk(intent: &str, subject: &str) -> String {
    format!("OP#{intent}#{subject}")
}

pub const APPOINTMENT_PREFIX: &str = "APPT#";

pub fn appointment_sk(id: &str) -> String {
    format!("{APPOINTMENT_PREFIX}{id}")
}

/// GSI1: a caller's appointments by end time (upcoming = ends after now).
pub fn appointment_phone_index(company_id: &CompanyId, phone: &str) -> String {
    format!("COMPANY#{company_id}#APPT#PHONE#{phone}")
}

/// GSI2: the appointment a calendar booking (its uid) belongs to.
pub fn appointment_uid_index(company_id: &CompanyId, uid: &str) -> String {
    format!("COMPANY#{company_id}#APPT#UID#{uid}")
}

/// GSI2 partition of cases whose hand-off has not completed (a sparse list across companies, read
/// only by the sweep).
pub const PENDING_HANDOFFS: &str = "HANDOFF#PENDING";

pub fn pending_handoff_sk(created_at: &str, company_id: &CompanyId, call_id: &CallId) -> String {
    format!("{created_at}#{company_id}#{call_id}")
}

pub const NOTICE_PREFIX: &str = "NOTICE#";

/// The notices of one appointment (`NOTICE#<appt>#`), by change number.
pub fn notice_prefix(appointment_id: &AppointmentId) -> String {
    format!("{NOTICE_PREFIX}{appointment_id}#")
}

/// One notice: the appointment and its change's number (zero-padded, so they sort).
pub fn notice_sk(appointment_id: &AppointmentId, change: u32) -> String {
    format!("{}{change:05}", notice_prefix(appointment_id))
}

/// GSI2 partition of notices not on the delivery queue yet (sparse, read only by the sweep).
pub const PENDING_NOTICES: &str = "NOTICE#PENDING";

pub fn pending_notice_sk(
    changed_at: &str,
    company_id: &CompanyId,
    appointment_id: &AppointmentId,
    change: u32,
) -> String {
    format!("{changed_at}#{company_id}#{appointment_id}#{change:05}")
}

/// An instant as text that sorts like the instant (fixed width: milliseconds, `Z`).
pub fn sortable(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
