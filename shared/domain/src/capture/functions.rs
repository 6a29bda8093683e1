//! `POST /retell/functions`: the custom functions the agent calls during a call. `finalize_ticket`
//! and `request_callback` capture the call's case (one per call); the booking functions go to the
//! booking desk of the appointments context. Every call is kept as a call event with what it
//! answered, so the call's audit trail shows what the caller was told — and `call_analyzed` in
//! appointment mode can tell whether a caller who wanted an appointment got one.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::appointments::desk::{Args, BookingDesk, BookingFunction, DeskCall, Reply, Status};
use crate::appointments::ports::AppointmentStore;
use crate::appointments::record::CallOutcome;
use crate::call_event::{CallEvent, CallEventReader};
use crate::capture::draft;
use crate::capture::error::IngestError;
use crate::capture::retell::payload::{Call, FunctionCall, parse_json, require, value_text};
use crate::capture::service::{AckStatus, FinalizeReply, Ingest};
use crate::case::CaseType;
use crate::deadline::Deadline;
use crate::error::chain;
use crate::ids::{AppointmentId, CallId, TicketRef};
use crate::notices::notice::NoticeEvent;
use crate::phone::to_e164;
use crate::tenancy::Tenant;

/// What the booking functions and appointment-mode calls need besides capture's ports.
#[derive(Clone)]
pub struct Booking {
    pub desk: Arc<BookingDesk>,
    pub appointments: Arc<dyn AppointmentStore>,
    pub events: Arc<dyn CallEventReader>,
}

/// A function the agent may call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    FinalizeTicket,
    RequestCallback,
    Booking(BookingFunction),
}

impl Function {
    /// By name; a version suffix (`check_availability_v17`) is stripped as the original did.
    pub fn from_name(name: &str) -> Option<Self> {
        let name = without_version(name);
        match name {
            "finalize_ticket" => Some(Function::FinalizeTicket),
            "request_callback" | "callback_request" | "schedule_callback" => Some(Function::RequestCallback),
            other => BookingFunction::from_name(other).map(Function::Booking),
        }
    }

    /// Every name our function definitions use.
    pub fn supported() -> Vec<&'static str> {
        let mut names = vec!["finalize_ticket", "request_callback"];
        names.extend(BookingFunction::ALL.iter().map(|f| f.name()));
        names
    }
}

fn without_version(name: &str) -> &str {
    match name.rsplit_once("_v") {
        Some((base, version)) if !version.is_empty() && version.bytes().all(|b| b.is_ascii_digit()) => base,
        _ => name,
    }
}

/// Tells two calls of one function apart in the audit trail; a retry with the same arguments is
/// the same event.
fn args_digest(args: &Map<String, Value>) -> String {
    let text = serde_json::to_string(args).unwrap_or_default();
    hex::encode(&Sha256::digest(text.as_bytes())[..8])
}

/// The functions that mean the caller wants an appointment made, moved or cancelled.
fn wants_change(function: BookingFunction) -> bool {
    !matches!(
        function,
        BookingFunction::QueryAppointments | BookingFunction::ListServices | BookingFunction::GetOpeningHours
    )
}

impl Ingest {
    /// Answers one custom function call. Errors are for requests that are not Retell's
    /// (signature, shape, unknown function) or a store a retry can reach; everything about the
    /// caller's request is a speakable answer.
    pub async fn function(
        &self,
        body: &[u8],
        signature: Option<&str>,
        deadline: Deadline,
    ) -> Result<Value, IngestError> {
        self.authenticate(body, signature)?;
        let request: FunctionCall = parse_json(body)?;
        let name = require(request.name.as_deref(), "name")?;
        let function = Function::from_name(name).ok_or_else(|| IngestError::UnknownFunction(name.to_string()))?;
        let call = request.call.ok_or_else(|| {
            IngestError::bad_request(
                "call",
                "missing required field `call` (configure the function without \"Payload: args only\")",
            )
        })?;
        let call_id = CallId::new(require(call.call_id.as_deref(), "call.call_id")?);
        let args = request.args.unwrap_or_default();
        match function {
            Function::FinalizeTicket => self.finalize(&call, &call_id, &args, body).await,
            Function::RequestCallback => self.request_callback(&call, &call_id, &args, body).await,
            Function::Booking(f) => Ok(json!(
                self.booking_function(f, &call, &call_id, &args, body, deadline).await?
            )),
        }
    }

    async fn finalize(
        &self,
        call: &Call,
        call_id: &CallId,
        args: &Map<String, Value>,
        body: &[u8],
    ) -> Result<Value, IngestError> {
        let problem = args.get("problem_description").and_then(value_text);
        let problem = require(problem.as_deref(), "args.problem_description")?;
        let mut record = self.event_record("function:finalize_ticket", call, call_id, None, body);
        let Some(tenant) = self.tenant_for(call.agent_id.as_deref(), call.company_number()).await? else {
            self.record_unrouted(record, body).await?;
            self.count_unrouted();
            return Ok(json!(FinalizeReply {
                success: false,
                ticket_id: None,
                message: "Ich konnte das Ticket gerade nicht anlegen. Ihre Angaben sind gespeichert, wir melden uns bei Ihnen.".into(),
                idempotent: false,
            }));
        };
        record.company_id = Some(tenant.company_id().clone());
        record.outcome = Some("captured".into());
        let draft = draft::from_finalize(&tenant, call, call_id, args, problem, self.ports.clock.now());
        let captured = self.capture(&tenant, draft, &record).await?;
        self.count_capture(captured.status, tenant.company_id());
        let ticket = captured.case.ticket_ref.clone().unwrap_or_default();
        Ok(json!(FinalizeReply {
            success: true,
            message: format!(
                "Ich habe Ihr Ticket mit der Nummer {ticket} angelegt. Unser Service-Team meldet sich so schnell wie möglich bei Ihnen."
            ),
            ticket_id: Some(ticket),
            idempotent: captured.status != AckStatus::Captured,
        }))
    }

    /// A callback case through capture → enrichment → delivery like any other.
    async fn request_callback(
        &self,
        call: &Call,
        call_id: &CallId,
        args: &Map<String, Value>,
        body: &[u8],
    ) -> Result<Value, IngestError> {
        let mut record = self.event_record("function:request_callback", call, call_id, None, body);
        record.discriminator = Some(args_digest(args));
        let Some(tenant) = self.tenant_for(call.agent_id.as_deref(), call.company_number()).await? else {
            // Kept with its body for an operator, who calls back.
            self.record_unrouted(record, body).await?;
            return Ok(json!({"success": true, "status": "callback_requested",
                "message": "Ich habe Ihren Rückrufwunsch notiert. Wir melden uns bei Ihnen."}));
        };
        record.company_id = Some(tenant.company_id().clone());
        let args_view = Args(args);
        let given = args_view.text(crate::appointments::desk::args::PHONE);
        let reachable = caller_number(&tenant, call).is_some()
            || given.as_deref().and_then(|p| to_e164(p, tenant.region)).is_some();
        if !reachable {
            record.outcome = Some("question: callback number".into());
            self.record_quietly(&record).await;
            let reply = Reply::question("Unter welcher Telefonnummer dürfen wir Sie zurückrufen?")
                .with("field", "phone_number");
            return Ok(json!(reply));
        }
        record.outcome = Some("captured (callback)".into());
        let draft = draft::from_callback(&tenant, call, call_id, args, self.ports.clock.now());
        let captured = self.capture(&tenant, draft, &record).await?;
        let ticket = captured.case.ticket_ref.clone().unwrap_or_default();
        let when = args_view
            .text(&["preferred_time_window", "zeitfenster", "rueckrufzeit", "preferred_time"])
            .map(|w| format!(" Wir versuchen, Sie im gewünschten Zeitraum zu erreichen: {w}."))
            .unwrap_or_else(|| " Wir rufen Sie so bald wie möglich zurück.".into());
        Ok(json!({
            "success": true,
            "status": "callback_requested",
            "ticket_id": ticket,
            "idempotent": captured.status != AckStatus::Captured,
            "message": format!("Ich habe Ihren Rückrufwunsch unter der Nummer {ticket} aufgenommen.{when}"),
        }))
    }

    async fn booking_function(
        &self,
        function: BookingFunction,
        call: &Call,
        call_id: &CallId,
        args: &Map<String, Value>,
        body: &[u8],
        deadline: Deadline,
    ) -> Result<Reply, IngestError> {
        let mut record = self.event_record(&format!("function:{}", function.name()), call, call_id, None, body);
        record.discriminator = Some(args_digest(args));
        let Some(tenant) = self.tenant_for(call.agent_id.as_deref(), call.company_number()).await? else {
            self.record_unrouted(record, body).await?;
            self.count_unrouted();
            return Ok(Reply::unavailable());
        };
        record.company_id = Some(tenant.company_id().clone());
        let reply = match &self.booking {
            Some(booking) => {
                let number = caller_number(&tenant, call);
                let desk_call = DeskCall {
                    tenant: &tenant,
                    call_id,
                    caller_number: number.as_deref(),
                    deadline,
                };
                booking.desk.call(function, Args(args), &desk_call).await
            }
            None => Reply::new(
                Status::NotOffered,
                "Termine kann ich am Telefon leider nicht vereinbaren. Soll ich veranlassen, dass wir Sie zurückrufen?",
            ),
        };
        record.outcome = Some(outcome_of(&reply));
        self.record_quietly(&record).await;
        let counted = match reply.status {
            Status::Booked | Status::Requested => Some(crate::metrics::names::BOOKINGS),
            Status::Taken | Status::Unavailable => Some(crate::metrics::names::BOOKING_FAILURES),
            Status::Alternatives => Some(crate::metrics::names::ALTERNATIVES_OFFERED),
            _ => None,
        };
        if let Some(name) = counted {
            self.metrics
                .put(&[crate::metrics::Measurement::one(name, Some(tenant.company_id()))]);
        }
        Ok(reply)
    }

    /// The call's audit entry; the caller's answer does not wait on it failing (the change
    /// itself is recorded with the appointment).
    async fn record_quietly(&self, record: &CallEvent) {
        if let Err(err) = self.ports.cases.record_event(record).await {
            tracing::warn!(error = %chain(&err), event = %record.event, "could not record the function call");
        }
    }

    /// `call_analyzed` of an appointment-mode call: the outcome goes onto every appointment the
    /// call changed; a caller who wanted a change and got none becomes a callback case.
    pub(crate) async fn analyzed_booking_call(
        &self,
        tenant: &Tenant,
        call: &Call,
        call_id: &CallId,
        mut record: CallEvent,
        voicemail: bool,
    ) -> Result<(AckStatus, Option<TicketRef>), IngestError> {
        let record_cost = record.cost.clone();
        let Some(booking) = &self.booking else {
            self.ports.cases.record_event(&record).await?;
            self.count_call(tenant.company_id(), false, false, record.cost.as_ref());
            return Ok((AckStatus::Acknowledged, None));
        };
        let company = tenant.company_id();
        let events = booking.events.call_events(Some(company), call_id).await?;
        // Retell's retry of this event finds it recorded: the call is counted once.
        let repeated = events.iter().any(|e| e.event == "call_analyzed");
        let booked = events.iter().any(|e| e.event == NoticeEvent::Booked.name());
        let count = |ticket: bool| {
            if repeated {
                return;
            }
            self.count_call(company, ticket, booked, record_cost.as_ref());
            if let Some(accepted) = alternatives_accepted(&events) {
                self.metrics.put(&[crate::metrics::Measurement::flag(
                    crate::metrics::names::ALTERNATIVES_ACCEPTED,
                    accepted,
                    Some(company),
                )]);
            }
        };
        let changed: BTreeSet<AppointmentId> = events
            .iter()
            .filter(|e| e.event.starts_with("appointment."))
            .filter_map(|e| e.discriminator.as_deref()?.split('#').next().map(AppointmentId::new))
            .collect();
        let analysis = call.call_analysis.as_ref();
        let custom = analysis.and_then(|a| a.custom_analysis_data.as_ref());
        let said_so = custom
            .and_then(|c| {
                ["appointment_wanted", "termin_gewuenscht", "wants_appointment"]
                    .iter()
                    .find_map(|k| c.get(*k).and_then(draft::yes_no))
            })
            .unwrap_or(false);
        let wanted = said_so
            || events.iter().any(|e| {
                e.event
                    .strip_prefix("function:")
                    .and_then(BookingFunction::from_name)
                    .is_some_and(wants_change)
            });
        let outcome = CallOutcome {
            analyzed_at: self.ports.clock.now(),
            summary: analysis.and_then(|a| a.call_summary.clone()),
            sentiment: analysis.and_then(|a| a.user_sentiment.clone()),
            successful: analysis.and_then(|a| a.call_successful),
            disconnection_reason: call.disconnection_reason.clone(),
        };
        for id in &changed {
            if !booking
                .appointments
                .record_call_outcome(company, id, call_id, &outcome)
                .await?
            {
                tracing::warn!(appointment_id = %id, "call event names an appointment that does not exist");
            }
        }
        let base = record.outcome.take().unwrap_or_default();
        if !changed.is_empty() || !wanted || voicemail {
            record.outcome = Some(format!("{base}: {} appointment(s) changed", changed.len()));
            self.ports.cases.record_event(&record).await?;
            count(false);
            return Ok((AckStatus::Acknowledged, None));
        }
        record.outcome = Some(format!("{base}: wanted an appointment, got none: callback case"));
        let mut draft = draft::from_analysis(tenant, call, call_id, self.ports.clock.now());
        draft.case_type = CaseType::Callback;
        draft.subject = "Rückrufbitte: Terminwunsch ohne Termin".into();
        draft.description = format!(
            "Der Anrufer wollte einen Termin vereinbaren oder ändern; im Gespräch kam keiner zustande.\n\n{}",
            draft.description
        );
        let captured = self.capture(tenant, draft, &record).await?;
        count(true);
        Ok((captured.status, captured.case.ticket_ref))
    }
}

/// Whether a call that was offered other times (its wish was taken or not free) booked after
/// the first offer; `None` when it was offered none.
fn alternatives_accepted(events: &[CallEvent]) -> Option<bool> {
    let offered = |e: &&CallEvent| {
        e.event.starts_with("function:")
            && e.outcome
                .as_deref()
                .is_some_and(|o| o.starts_with("alternatives") || o.starts_with("taken"))
    };
    let first_offer = events.iter().filter(offered).map(|e| e.received_at).min()?;
    Some(
        events
            .iter()
            .any(|e| e.event == NoticeEvent::Booked.name() && e.received_at >= first_offer),
    )
}

/// The caller's number in E.164, or `None` when withheld or not a number.
fn caller_number(tenant: &Tenant, call: &Call) -> Option<String> {
    call.customer_number().and_then(|n| to_e164(n, tenant.region))
}

/// What the audit trail keeps of an answer: its status and, if any, the appointment.
fn outcome_of(reply: &Reply) -> String {
    let status = serde_json::to_value(reply.status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    match reply
        .data
        .get("appointment")
        .and_then(|a| a.get("appointment_id"))
        .and_then(Value::as_str)
    {
        Some(id) => format!("{status} ({id})"),
        None => status,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alternatives_count_as_accepted_only_when_the_call_booked_after_the_first_offer() {
        use chrono::{TimeZone, Utc};
        let at = |minute: u32| Utc.with_ymd_and_hms(2026, 12, 1, 10, minute, 0).unwrap();
        let event = |name: &str, outcome: &str, minute: u32| {
            let mut e = CallEvent::new(None, &CallId::new("call_1"), name, at(minute));
            e.outcome = Some(outcome.into());
            e
        };
        let offer = event("function:check_availability", "alternatives", 1);
        let taken = event("function:book_appointment", "taken", 1);
        let free = event("function:check_availability", "available", 1);
        let booked = |minute| event("appointment.booked", "appt_1 booked for …", minute);
        assert_eq!(
            alternatives_accepted(&[free.clone(), booked(2)]),
            None,
            "nothing offered"
        );
        assert_eq!(alternatives_accepted(std::slice::from_ref(&offer)), Some(false));
        assert_eq!(
            alternatives_accepted(&[booked(0), offer.clone()]),
            Some(false),
            "booked before the offer"
        );
        assert_eq!(alternatives_accepted(&[offer, booked(2)]), Some(true));
        assert_eq!(alternatives_accepted(&[taken, booked(3)]), Some(true));
    }

    #[test]
    fn names_with_versions_and_aliases() {
        assert_eq!(
            Function::from_name("finalize_ticket_v3"),
            Some(Function::FinalizeTicket)
        );
        assert_eq!(
            Function::from_name("check_availability_v17"),
            Some(Function::Booking(BookingFunction::CheckAvailability))
        );
        assert_eq!(Function::from_name("request_callback"), Some(Function::RequestCallback));
        assert_eq!(Function::from_name("order_pizza"), None);
        assert_eq!(Function::supported().len(), 11);
    }
}
