//! The company's webhook for a change: our own JSON payload, signed exactly like case webhooks
//! (Standard Webhooks headers with a `webhook-id` stable per notice, plus `X-Signature`), with
//! `X-Event: appointment.booked|rescheduled|cancelled`.
//!
//! Presets and templates are not applied: they shape *tickets* for a ticket system (subject,
//! priority, description of a case), which an appointment is not. A receiver that wants
//! appointments reads this payload (documented in the README) and tells the events apart by
//! `event` or the `X-Event` header.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::{Value, json};

use crate::appointments::record::ChangedBy;
use crate::delivery::webhook::{WebhookRequest, signed_headers};
use crate::notices::facts::NoticeFacts;
use crate::tenancy::output::WebhookOutput;

/// An instant as receivers want it: UTC, local wall-clock time with its offset, and the zone.
fn moment(t: DateTime<Utc>, tz: Tz) -> Value {
    json!({
        "utc": t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "local": t.with_timezone(&tz).to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
        "time_zone": tz.name(),
    })
}

/// The payload of a notice.
pub fn payload(facts: &NoticeFacts<'_>) -> Value {
    let notice = facts.notice;
    let a = &notice.appointment;
    let tz = facts.tz();
    let (by, call_id, operator) = match &notice.changed_by {
        ChangedBy::Caller { call_id } => ("caller", Some(call_id.to_string()), None),
        ChangedBy::Operator { name } => ("operator", None, Some(name.clone())),
        ChangedBy::Staff => ("staff", None, None),
    };
    json!({
        "event": notice.event.name(),
        "notice_id": notice.reference().webhook_id(),
        "occurred_at": notice.occurred_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "company": {"id": notice.company_id, "name": facts.company},
        "appointment": {
            "id": a.appointment_id,
            "status": a.status,
            "service": {"id": a.service_id, "name": facts.service},
            "branch": {"id": a.branch_id, "name": facts.branch, "address": facts.address},
            "staff": a.staff_id.as_ref().map(|id| json!({"id": id, "name": facts.staff})),
            "customer": {
                "name": a.customer.name,
                "phone": a.customer.phone,
                "email": a.customer.email,
            },
            "start": moment(a.start, tz),
            "end": moment(a.end, tz),
            "previous_start": notice.previous.map(|p| moment(p.start, tz)),
            "previous_end": notice.previous.map(|p| moment(p.end, tz)),
            "reason": notice.reason,
            "call_id": call_id.clone().unwrap_or_else(|| a.call_id.to_string()),
            "booked_in_call": a.call_id,
        },
        "change": {
            "number": notice.change,
            "by": by,
            "call_id": call_id,
            "operator": operator,
        },
    })
}

/// The signed request to one output's webhook; `timestamp` is the signing time (epoch seconds).
pub fn build_request(facts: &NoticeFacts<'_>, output: &WebhookOutput, timestamp: i64) -> WebhookRequest {
    let body = payload(facts).to_string();
    let headers = signed_headers(
        Vec::new(),
        facts.notice.event.name(),
        Vec::new(),
        output,
        &facts.notice.reference().webhook_id(),
        timestamp,
        &body,
    );
    WebhookRequest {
        url: output.url.clone(),
        body,
        headers,
        external_id_path: None,
    }
}
