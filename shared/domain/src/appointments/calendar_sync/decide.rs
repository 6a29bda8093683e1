//! What a booking webhook means for the appointments we keep: pure, from the webhook, the
//! appointment it was matched to (and how), and the engine's mark on that booking, if any.
//!
//! | webhook | our appointment | decision |
//! |---|---|---|
//! | created / requested | found by uid, or our ids in the metadata | ours echoed back: unchanged |
//! | created | found by uid, pending, now accepted | the host confirmed it: status booked |
//! | rescheduled | holds the new uid | our own move (or a replay): unchanged |
//! | rescheduled | holds the old uid, the engine's mark says "moving it" | our own move in flight: unchanged |
//! | rescheduled | holds the old uid, no mark | staff moved it: new uid, start, end; history entry by staff |
//! | cancelled / rejected | holds the uid, already cancelled | unchanged |
//! | cancelled | holds the uid, the engine's mark says "cancelling it" | our own cancellation in flight: unchanged |
//! | cancelled / rejected | holds the uid, no mark | staff cancelled (declined) it: cancelled, entry by staff |
//! | any | only our ids match (another uid) | unmatched: logged, nothing changed |
//! | any | nothing | not ours (booked on Cal.com's own page): nothing to update |
//!
//! Cal.com sends a webhook before it answers the request that caused it (it awaits the delivery),
//! so our own cancellation or move arrives while the engine still waits for Cal.com's answer and
//! our record still holds the old state: only the engine's mark tells it from a staff change.
//! A change of a booking we do not hold by uid is never applied through our ids alone: changes
//! arriving out of order would otherwise move an appointment back to an older time.

use chrono::{DateTime, Utc};

use crate::appointments::calendar_sync::ports::{PendingChange, PendingKind};
use crate::appointments::calendar_sync::webhook::{BookingChange, CalcomStatus, Trigger};
use crate::appointments::record::{Appointment, AppointmentStatus, Change, ChangeKind, ChangedBy};
use crate::ids::{AppointmentId, CompanyId};

/// Our appointment for a webhook's booking, and how it was found.
#[derive(Debug, Clone, PartialEq)]
pub enum Found {
    /// It holds the webhook's `uid`.
    ByUid(Appointment),
    /// It holds the reschedule's `rescheduleUid` (the booking before the move).
    ByPreviousUid(Appointment),
    /// Only the booking's metadata names it; it holds another uid.
    ByOurIds(Appointment),
    Nothing,
}

/// Why nothing changes although the booking is ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unchanged {
    /// Our own booking seen again.
    OwnBooking,
    /// A cancellation or move the engine is making right now (it writes the record itself).
    OwnChange,
    /// The record already says what the webhook says (our own change written, or a replay).
    AlreadyApplied,
}

impl Unchanged {
    pub fn as_str(self) -> &'static str {
        match self {
            Unchanged::OwnBooking => "own_booking",
            Unchanged::OwnChange => "own_change",
            Unchanged::AlreadyApplied => "already_applied",
        }
    }
}

/// A change made in the calendar by someone else than the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaffChange {
    Rescheduled,
    Cancelled,
    /// The host declined a requested booking.
    Rejected,
    /// The host confirmed a requested booking.
    Confirmed,
}

impl StaffChange {
    pub fn as_str(self) -> &'static str {
        match self {
            StaffChange::Rescheduled => "rescheduled",
            StaffChange::Cancelled => "cancelled",
            StaffChange::Rejected => "rejected",
            StaffChange::Confirmed => "confirmed",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    Unchanged {
        reason: Unchanged,
        appointment_id: Option<AppointmentId>,
    },
    /// Not a booking of ours: nothing to update (the free slots changed all the same).
    NotOurs,
    /// Our ids, but not the booking we hold for that appointment (out of order, or a booking
    /// whose record was never written): nothing is changed, an operator should look.
    Unmatched { appointment_id: AppointmentId },
    /// Write `appointment` over `expected_version`.
    Apply {
        appointment: Box<Appointment>,
        change: StaffChange,
        expected_version: u64,
    },
}

fn unchanged(reason: Unchanged, appointment: Option<&Appointment>) -> Decision {
    Decision::Unchanged {
        reason,
        appointment_id: appointment.map(|a| a.appointment_id.clone()),
    }
}

/// The record after a staff change: one history entry, the next version.
fn staff_changed(
    record: &Appointment,
    now: DateTime<Utc>,
    change: StaffChange,
    edit: impl FnOnce(&mut Appointment),
    entry: Option<Change>,
) -> Decision {
    let mut next = record.clone();
    edit(&mut next);
    next.history.extend(entry);
    next.updated_at = now;
    next.version = record.version + 1;
    Decision::Apply {
        appointment: Box::new(next),
        change,
        expected_version: record.version,
    }
}

fn is_marked(pending: Option<&PendingChange>, kind: PendingKind, uid: &str) -> bool {
    pending.is_some_and(|p| p.kind == kind && p.backend_uid == uid)
}

/// Decides what the webhook, received at `company`'s route, changes. `pending` is the engine's
/// unexpired mark on the booking the record holds (looked up only when found by a uid).
pub fn decide(
    company: &CompanyId,
    trigger: &Trigger,
    change: &BookingChange,
    found: &Found,
    pending: Option<&PendingChange>,
    now: DateTime<Utc>,
) -> Decision {
    // Another company's ids (two tenants sharing one Cal.com account) do not make it ours.
    let ours_by_metadata = change
        .ours
        .as_ref()
        .filter(|o| &o.company_id == company)
        .map(|o| o.appointment_id.clone());
    match (trigger, found) {
        (Trigger::Other(_), _) => Decision::NotOurs,
        (_, Found::Nothing) => match (trigger, ours_by_metadata) {
            // Our booking's webhook can come before the engine has written the record.
            (Trigger::Created | Trigger::Requested, Some(id)) => Decision::Unchanged {
                reason: Unchanged::OwnBooking,
                appointment_id: Some(id),
            },
            (_, Some(id)) => Decision::Unmatched { appointment_id: id },
            (_, None) => Decision::NotOurs,
        },
        (Trigger::Created | Trigger::Requested, Found::ByOurIds(record)) => {
            unchanged(Unchanged::OwnBooking, Some(record))
        }
        (_, Found::ByOurIds(record)) => Decision::Unmatched {
            appointment_id: record.appointment_id.clone(),
        },
        (Trigger::Created, Found::ByUid(record))
            if record.status == AppointmentStatus::Pending && change.status == Some(CalcomStatus::Accepted) =>
        {
            staff_changed(
                record,
                now,
                StaffChange::Confirmed,
                |a| a.status = AppointmentStatus::Booked,
                None,
            )
        }
        (Trigger::Created | Trigger::Requested, Found::ByUid(record) | Found::ByPreviousUid(record)) => {
            unchanged(Unchanged::OwnBooking, Some(record))
        }
        (Trigger::Rescheduled, Found::ByUid(record)) => unchanged(Unchanged::AlreadyApplied, Some(record)),
        (Trigger::Rescheduled, Found::ByPreviousUid(record)) => {
            if is_marked(pending, PendingKind::Reschedule, &record.backend_uid) {
                return unchanged(Unchanged::OwnChange, Some(record));
            }
            let (Some(start), Some(end)) = (change.start, change.end) else {
                // The parser requires both for a reschedule; without them there is nothing to apply.
                return Decision::Unmatched {
                    appointment_id: record.appointment_id.clone(),
                };
            };
            let entry = Change {
                at: now,
                kind: ChangeKind::Rescheduled,
                by: ChangedBy::Staff,
                from: Some(record.start),
                to: Some(start),
                reason: None,
            };
            let status = match change.status {
                Some(CalcomStatus::Pending) => AppointmentStatus::Pending,
                _ => AppointmentStatus::Booked,
            };
            staff_changed(
                record,
                now,
                StaffChange::Rescheduled,
                |a| {
                    a.backend_uid = change.uid.clone();
                    a.start = start;
                    a.end = end;
                    a.status = status;
                },
                Some(entry),
            )
        }
        (Trigger::Cancelled | Trigger::Rejected, Found::ByUid(record) | Found::ByPreviousUid(record)) => {
            if record.status == AppointmentStatus::Cancelled {
                return unchanged(Unchanged::AlreadyApplied, Some(record));
            }
            if *trigger == Trigger::Cancelled && is_marked(pending, PendingKind::Cancel, &record.backend_uid) {
                return unchanged(Unchanged::OwnChange, Some(record));
            }
            let entry = Change {
                at: now,
                kind: ChangeKind::Cancelled,
                by: ChangedBy::Staff,
                from: Some(record.start),
                to: None,
                reason: change.reason.clone(),
            };
            let kind = match trigger {
                Trigger::Rejected => StaffChange::Rejected,
                _ => StaffChange::Cancelled,
            };
            staff_changed(
                record,
                now,
                kind,
                |a| a.status = AppointmentStatus::Cancelled,
                Some(entry),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeDelta, TimeZone};

    use super::*;
    use crate::appointments::backend::CalendarRef;
    use crate::appointments::calendar_sync::webhook::OurIds;
    use crate::appointments::record::AppointmentCustomer;
    use crate::ids::{BranchId, CallId, ServiceId};

    fn at(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 3, h, 0, 0).single().unwrap_or_default()
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).single().unwrap_or_default()
    }

    fn praxis() -> CompanyId {
        CompanyId::new("praxis")
    }

    fn record(status: AppointmentStatus) -> Appointment {
        Appointment {
            company_id: CompanyId::new("praxis"),
            appointment_id: AppointmentId::new("A1"),
            branch_id: BranchId::new("hannover"),
            service_id: ServiceId::new("beratung"),
            staff_id: None,
            customer: AppointmentCustomer::default(),
            call_id: CallId::new("call_1"),
            calendar: CalendarRef::CalCom { event_type_id: 1001 },
            backend_uid: "old".into(),
            start: at(9),
            end: at(9) + TimeDelta::minutes(30),
            time_zone: crate::locale::TimeZone::default(),
            status,
            history: Vec::new(),
            calls: Default::default(),
            created_at: now(),
            updated_at: now(),
            version: 4,
        }
    }

    fn change(uid: &str, previous: Option<&str>) -> BookingChange {
        BookingChange {
            uid: uid.into(),
            previous_uid: previous.map(str::to_string),
            event_type_id: Some(1001),
            start: Some(at(13)),
            end: Some(at(13) + TimeDelta::minutes(30)),
            status: Some(CalcomStatus::Accepted),
            reason: Some("Praxis geschlossen".into()),
            ours: Some(OurIds {
                company_id: CompanyId::new("praxis"),
                appointment_id: AppointmentId::new("A1"),
                call_id: None,
            }),
        }
    }

    fn mark(kind: PendingKind) -> PendingChange {
        PendingChange {
            backend_uid: "old".into(),
            kind,
            appointment_id: AppointmentId::new("A1"),
            call_id: CallId::new("call_2"),
            to: Some(at(13)),
            until: now() + TimeDelta::minutes(2),
        }
    }

    fn applied(d: Decision) -> (Appointment, StaffChange, u64) {
        match d {
            Decision::Apply {
                appointment,
                change,
                expected_version,
            } => (*appointment, change, expected_version),
            other => panic!("expected a change, got {other:?}"),
        }
    }

    #[test]
    fn a_staff_move_takes_the_new_uid_and_time_with_one_entry_by_staff() {
        let r = record(AppointmentStatus::Booked);
        let d = decide(
            &praxis(),
            &Trigger::Rescheduled,
            &change("new", Some("old")),
            &Found::ByPreviousUid(r.clone()),
            None,
            now(),
        );
        let (next, kind, expected) = applied(d);
        assert_eq!((kind, expected, next.version), (StaffChange::Rescheduled, 4, 5));
        assert_eq!(next.backend_uid, "new");
        assert_eq!((next.start, next.end), (at(13), at(13) + TimeDelta::minutes(30)));
        assert_eq!(next.history.len(), 1);
        let entry = &next.history[0];
        assert_eq!(entry.by, ChangedBy::Staff);
        assert_eq!(
            (entry.kind, entry.from, entry.to),
            (ChangeKind::Rescheduled, Some(at(9)), Some(at(13)))
        );
    }

    #[test]
    fn a_staff_cancellation_keeps_the_reason() {
        let r = record(AppointmentStatus::Booked);
        let d = decide(
            &praxis(),
            &Trigger::Cancelled,
            &change("old", None),
            &Found::ByUid(r),
            None,
            now(),
        );
        let (next, kind, _) = applied(d);
        assert_eq!(kind, StaffChange::Cancelled);
        assert_eq!(next.status, AppointmentStatus::Cancelled);
        assert_eq!(next.history[0].reason.as_deref(), Some("Praxis geschlossen"));
        assert_eq!(next.history[0].by, ChangedBy::Staff);
    }

    #[test]
    fn the_engines_mark_makes_a_change_our_own() {
        let r = record(AppointmentStatus::Booked);
        let moving = mark(PendingKind::Reschedule);
        let cancelling = mark(PendingKind::Cancel);
        let own = |d: Decision| {
            matches!(
                d,
                Decision::Unchanged {
                    reason: Unchanged::OwnChange,
                    ..
                }
            )
        };
        assert!(own(decide(
            &praxis(),
            &Trigger::Rescheduled,
            &change("new", Some("old")),
            &Found::ByPreviousUid(r.clone()),
            Some(&moving),
            now()
        )));
        assert!(own(decide(
            &praxis(),
            &Trigger::Cancelled,
            &change("old", None),
            &Found::ByUid(r.clone()),
            Some(&cancelling),
            now()
        )));
        // A mark for another kind of change does not hide a staff change.
        let d = decide(
            &praxis(),
            &Trigger::Cancelled,
            &change("old", None),
            &Found::ByUid(r),
            Some(&moving),
            now(),
        );
        assert_eq!(applied(d).1, StaffChange::Cancelled);
    }

    #[test]
    fn what_the_record_already_says_changes_nothing() {
        let mut moved = record(AppointmentStatus::Booked);
        moved.backend_uid = "new".into();
        let d = decide(
            &praxis(),
            &Trigger::Rescheduled,
            &change("new", Some("old")),
            &Found::ByUid(moved),
            None,
            now(),
        );
        assert!(
            matches!(
                d,
                Decision::Unchanged {
                    reason: Unchanged::AlreadyApplied,
                    ..
                }
            ),
            "{d:?}"
        );
        let cancelled = record(AppointmentStatus::Cancelled);
        for trigger in [Trigger::Cancelled, Trigger::Rejected] {
            let d = decide(
                &praxis(),
                &trigger,
                &change("old", None),
                &Found::ByUid(cancelled.clone()),
                None,
                now(),
            );
            assert!(
                matches!(
                    d,
                    Decision::Unchanged {
                        reason: Unchanged::AlreadyApplied,
                        ..
                    }
                ),
                "{d:?}"
            );
        }
    }

    #[test]
    fn our_booking_echoed_back_changes_nothing_even_before_its_record_exists() {
        for found in [Found::Nothing, Found::ByUid(record(AppointmentStatus::Booked))] {
            for trigger in [Trigger::Created, Trigger::Requested] {
                let d = decide(&praxis(), &trigger, &change("old", None), &found, None, now());
                assert_eq!(
                    d,
                    Decision::Unchanged {
                        reason: Unchanged::OwnBooking,
                        appointment_id: Some(AppointmentId::new("A1"))
                    }
                );
            }
        }
    }

    #[test]
    fn the_host_confirming_a_requested_booking_books_it() {
        let d = decide(
            &praxis(),
            &Trigger::Created,
            &change("old", None),
            &Found::ByUid(record(AppointmentStatus::Pending)),
            None,
            now(),
        );
        let (next, kind, _) = applied(d);
        assert_eq!((kind, next.status), (StaffChange::Confirmed, AppointmentStatus::Booked));
        assert!(next.history.is_empty(), "a confirmation is no change of time");
    }

    #[test]
    fn bookings_we_do_not_hold_are_never_changed() {
        let mut foreign = change("x", Some("y"));
        foreign.ours = None;
        for trigger in [Trigger::Created, Trigger::Rescheduled, Trigger::Cancelled] {
            assert_eq!(
                decide(&praxis(), &trigger, &foreign, &Found::Nothing, None, now()),
                Decision::NotOurs
            );
        }
        // Another company's ids (a Cal.com account two tenants share) are not ours.
        let mut theirs = change("x", None);
        theirs.ours = Some(OurIds {
            company_id: CompanyId::new("kanzlei"),
            appointment_id: AppointmentId::new("K1"),
            call_id: None,
        });
        for trigger in [Trigger::Created, Trigger::Cancelled] {
            assert_eq!(
                decide(&praxis(), &trigger, &theirs, &Found::Nothing, None, now()),
                Decision::NotOurs
            );
        }
        // Our ids, but the record holds another booking: changes out of order are not applied.
        let d = decide(
            &praxis(),
            &Trigger::Rescheduled,
            &change("newer", Some("new")),
            &Found::ByOurIds(record(AppointmentStatus::Booked)),
            None,
            now(),
        );
        assert_eq!(
            d,
            Decision::Unmatched {
                appointment_id: AppointmentId::new("A1")
            }
        );
    }
}
