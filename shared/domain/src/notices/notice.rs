//! The notice of one appointment change: decided from the appointment alone, frozen when the
//! change is written (the outbox item), delivered later from that snapshot only.
//!
//! Which changes are announced, decided: a change made by a caller (through the voice agent) or
//! by an operator produces a notice, to the caller and to the company. A change made by staff in
//! the calendar itself (learnt from a Cal.com webhook) does not: the company made it, and Cal.com
//! mails its own attendees about it, so a notice from us would be a second, differently worded
//! message about the same thing.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::appointments::calendar::local_time::Span;
use crate::appointments::record::{Appointment, AppointmentStatus, ChangeKind, ChangedBy};
use crate::case::{Alerts, ChannelState};
use crate::ids::{AppointmentId, CompanyId};

/// What happened to the appointment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeEvent {
    Booked,
    Rescheduled,
    Cancelled,
}

impl NoticeEvent {
    /// The event's name in webhook payloads and the `X-Event` header.
    pub fn name(self) -> &'static str {
        match self {
            NoticeEvent::Booked => "appointment.booked",
            NoticeEvent::Rescheduled => "appointment.rescheduled",
            NoticeEvent::Cancelled => "appointment.cancelled",
        }
    }
}

impl From<ChangeKind> for NoticeEvent {
    fn from(kind: ChangeKind) -> Self {
        match kind {
            ChangeKind::Booked => NoticeEvent::Booked,
            ChangeKind::Rescheduled => NoticeEvent::Rescheduled,
            ChangeKind::Cancelled => NoticeEvent::Cancelled,
        }
    }
}

/// Which notice: an appointment's change, by its number (its index in the history).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct NoticeRef {
    pub company_id: CompanyId,
    pub appointment_id: AppointmentId,
    pub change: u32,
}

impl NoticeRef {
    /// `<appointment>#<change>`, for logs and spans.
    pub fn label(&self) -> String {
        format!("{}#{}", self.appointment_id, self.change)
    }

    /// The Standard Webhooks message id of this notice: the same on every retry, so a receiver
    /// can drop a repeat.
    pub fn webhook_id(&self) -> String {
        format!("msg_appt_{}_{}", self.appointment_id, self.change)
    }
}

/// One change of an appointment as it is announced: what happened, when, by whom, and the
/// appointment as it was right after it. Self-contained: a later change writes a notice of its
/// own and never alters what this one says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppointmentNotice {
    pub company_id: CompanyId,
    pub appointment_id: AppointmentId,
    /// The change's index in the appointment's history: the calendar entry's `SEQUENCE`.
    pub change: u32,
    pub event: NoticeEvent,
    pub occurred_at: DateTime<Utc>,
    pub changed_by: ChangedBy,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The appointment right after the change, without its history (the notice is about one
    /// change; the history only grows).
    pub appointment: Appointment,
    /// Where a rescheduled appointment was before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<Span>,
}

impl AppointmentNotice {
    /// The notice of the appointment's latest change, if that change is announced (see the
    /// module's decision: callers' and operators' changes are, staff changes are not).
    pub fn for_change(appointment: &Appointment) -> Option<AppointmentNotice> {
        let last = appointment.history.last()?;
        if matches!(last.by, ChangedBy::Staff) {
            return None;
        }
        let change = u32::try_from(appointment.history.len() - 1).ok()?;
        let event = NoticeEvent::from(last.kind);
        // A move keeps the length: the time before it is `from` plus the same duration.
        let previous = match event {
            NoticeEvent::Rescheduled => last
                .from
                .and_then(|from| Span::new(from, from + (appointment.end - appointment.start))),
            _ => None,
        };
        let mut snapshot = appointment.clone();
        snapshot.history.clear();
        Some(AppointmentNotice {
            company_id: appointment.company_id.clone(),
            appointment_id: appointment.appointment_id.clone(),
            change,
            event,
            occurred_at: last.at,
            changed_by: last.by.clone(),
            reason: last.reason.clone(),
            appointment: snapshot,
            previous,
        })
    }

    pub fn reference(&self) -> NoticeRef {
        NoticeRef {
            company_id: self.company_id.clone(),
            appointment_id: self.appointment_id.clone(),
            change: self.change,
        }
    }

    /// Booked but not confirmed by the host yet (Cal.com event types that require it): said as
    /// "angefragt", never "bestätigt".
    pub fn is_pending(&self) -> bool {
        self.event == NoticeEvent::Booked && self.appointment.status == AppointmentStatus::Pending
    }
}

/// Where a notice stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeStatus {
    #[default]
    Pending,
    /// Every channel delivered.
    Sent,
    /// Given up after the last attempt (admins alerted).
    Failed,
}

/// One way a notice goes out: the caller's confirmation, or an output's e-mail or webhook.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NoticeChannel {
    Caller,
    Email { output: String },
    Webhook { output: String },
}

impl NoticeChannel {
    /// The channel's key in the notice's delivery state (`caller`, `email:<output>`,
    /// `webhook:<output>`; output ids are slugs, so the key is unambiguous).
    pub fn key(&self) -> String {
        match self {
            NoticeChannel::Caller => "caller".into(),
            NoticeChannel::Email { output } => format!("email:{output}"),
            NoticeChannel::Webhook { output } => format!("webhook:{output}"),
        }
    }
}

/// A notice's delivery state, kept on the notice item.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct NoticeState {
    pub status: NoticeStatus,
    /// When it was put on the delivery queue (the sweep's list holds it until then).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handed_off_at: Option<DateTime<Utc>>,
    /// By [`NoticeChannel::key`]: delivered (`sent_at`), or an e-mail's progress so far.
    pub channels: BTreeMap<String, ChannelState>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    pub alerts: Alerts,
}

impl NoticeState {
    pub fn sent(&self, channel: &NoticeChannel) -> bool {
        self.channels.get(&channel.key()).is_some_and(|c| c.sent_at.is_some())
    }

    pub fn channel(&self, channel: &NoticeChannel) -> Option<&ChannelState> {
        self.channels.get(&channel.key())
    }
}

/// A notice with its delivery state, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredNotice {
    pub notice: AppointmentNotice,
    pub state: NoticeState,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::appointments::backend::CalendarRef;
    use crate::appointments::record::{AppointmentCustomer, Change};
    use crate::ids::{BranchId, CallId, ServiceId};
    use chrono::{TimeDelta, TimeZone};

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, h, m, 0).unwrap()
    }

    fn booked() -> Appointment {
        Appointment {
            company_id: CompanyId::new("praxis"),
            appointment_id: AppointmentId::new("01JAPPT"),
            branch_id: BranchId::new("lister-platz"),
            service_id: ServiceId::new("erstbefund"),
            staff_id: None,
            customer: AppointmentCustomer {
                name: "Jonas Weber".into(),
                phone: Some("+4951112345678".into()),
                email: Some("jonas@example.org".into()),
            },
            call_id: CallId::new("call_1"),
            calendar: CalendarRef::CalCom { event_type_id: 7 },
            backend_uid: "uid-1".into(),
            start: at(13, 30),
            end: at(14, 0),
            time_zone: Default::default(),
            status: AppointmentStatus::Booked,
            history: vec![Change {
                at: at(9, 0),
                kind: ChangeKind::Booked,
                by: ChangedBy::Caller {
                    call_id: CallId::new("call_1"),
                },
                from: None,
                to: Some(at(13, 30)),
                reason: None,
            }],
            calls: Default::default(),
            created_at: at(9, 0),
            updated_at: at(9, 0),
            version: 0,
        }
    }

    fn change(a: &mut Appointment, kind: ChangeKind, by: ChangedBy, to: Option<DateTime<Utc>>) {
        let from = a.start;
        a.history.push(Change {
            at: at(10, a.history.len() as u32),
            kind,
            by,
            from: Some(from),
            to,
            reason: Some("Termin passt nicht".into()),
        });
        if let Some(to) = to {
            let length = a.end - a.start;
            a.start = to;
            a.end = to + length;
        }
        if kind == ChangeKind::Cancelled {
            a.status = AppointmentStatus::Cancelled;
        }
    }

    #[test]
    fn a_callers_booking_move_and_cancellation_are_notices_numbered_by_their_change() {
        let mut a = booked();
        let first = AppointmentNotice::for_change(&a).expect("a booking is announced");
        assert_eq!(
            (first.change, first.event, first.previous),
            (0, NoticeEvent::Booked, None)
        );
        assert_eq!(first.occurred_at, at(9, 0));
        assert!(first.appointment.history.is_empty(), "the snapshot carries no history");

        let caller = ChangedBy::Caller {
            call_id: CallId::new("call_2"),
        };
        change(&mut a, ChangeKind::Rescheduled, caller.clone(), Some(at(15, 0)));
        let moved = AppointmentNotice::for_change(&a).unwrap();
        assert_eq!((moved.change, moved.event), (1, NoticeEvent::Rescheduled));
        assert_eq!(moved.previous, Span::new(at(13, 30), at(14, 0)), "where it was before");
        assert_eq!(
            (moved.appointment.start, moved.appointment.end),
            (at(15, 0), at(15, 30))
        );
        assert_eq!(moved.reason.as_deref(), Some("Termin passt nicht"));

        change(&mut a, ChangeKind::Cancelled, caller, None);
        let cancelled = AppointmentNotice::for_change(&a).unwrap();
        assert_eq!((cancelled.change, cancelled.event), (2, NoticeEvent::Cancelled));
        assert_eq!(cancelled.previous, None);
        assert_eq!(cancelled.appointment.status, AppointmentStatus::Cancelled);
        // The earlier notices are unchanged by what came later.
        assert_eq!(first.appointment.start, at(13, 30));
        assert_eq!(moved.appointment.status, AppointmentStatus::Booked);
    }

    #[test]
    fn staff_changes_are_not_announced_but_operators_changes_are() {
        let mut a = booked();
        change(&mut a, ChangeKind::Rescheduled, ChangedBy::Staff, Some(at(16, 0)));
        assert_eq!(
            AppointmentNotice::for_change(&a),
            None,
            "Cal.com mails its own attendees"
        );
        change(
            &mut a,
            ChangeKind::Cancelled,
            ChangedBy::Operator { name: "Petra".into() },
            None,
        );
        let notice = AppointmentNotice::for_change(&a).unwrap();
        assert_eq!(notice.change, 2, "the staff change still counts for the number");
        assert_eq!(notice.changed_by, ChangedBy::Operator { name: "Petra".into() });
        let mut empty = booked();
        empty.history.clear();
        assert_eq!(AppointmentNotice::for_change(&empty), None);
    }

    #[test]
    fn a_pending_booking_is_a_request_and_references_are_stable() {
        let mut a = booked();
        a.status = AppointmentStatus::Pending;
        let n = AppointmentNotice::for_change(&a).unwrap();
        assert!(n.is_pending());
        assert_eq!(n.reference().label(), "01JAPPT#0");
        assert_eq!(n.reference().webhook_id(), "msg_appt_01JAPPT_0");
        let round: AppointmentNotice = serde_json::from_value(serde_json::to_value(&n).unwrap()).unwrap();
        assert_eq!(round, n);
        assert_eq!(n.appointment.end - n.appointment.start, TimeDelta::minutes(30));
    }

    #[test]
    fn channel_keys_name_the_output() {
        assert_eq!(NoticeChannel::Caller.key(), "caller");
        assert_eq!(
            NoticeChannel::Email {
                output: "empfang".into()
            }
            .key(),
            "email:empfang"
        );
        assert_eq!(NoticeChannel::Webhook { output: "crm".into() }.key(), "webhook:crm");
    }
}
