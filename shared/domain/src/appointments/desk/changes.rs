//! The caller's own appointments: listing them (by their phone number), cancelling and moving.
//! Only the number an appointment was booked with may change it on the phone; the company's
//! notice rule and fees are read out, and a fee needs the caller's yes before anything happens.
//! A move is two calls: the proposal (is the new time free, at what fee), then the confirmation.

use chrono::{DateTime, Utc};

use crate::appointments::calendar::hours::BranchCalendar;
use crate::appointments::calendar::local_time::{local_datetime, to_instant};
use crate::appointments::desk::args::{self, Args};
use crate::appointments::desk::availability::{WishArgs, confirm_at, offer_sentence, wish_from};
use crate::appointments::desk::booking::{appointment_json, describe};
use crate::appointments::desk::reply::{Reply, Status, offers_json, speak_euro};
use crate::appointments::desk::{Answered, BookingDesk, DeskCall, Stop};
use crate::appointments::engine::{CancelOutcome, MoveOutcome, MoveProposal, Refusal, Terms};
use crate::appointments::record::Appointment;
use crate::appointments::setup::Appointments;
use crate::appointments::speech::parse::{TimeWish, Wish};
use crate::appointments::speech::speak::{join_with, speak_move_target};
use crate::ids::AppointmentId;

const OLD: WishArgs = WishArgs {
    datetime: &[],
    date: args::OLD_DATE,
    time: args::OLD_TIME,
};

const NEW: WishArgs = WishArgs {
    datetime: args::NEW_DATETIME,
    date: args::NEW_DATE,
    time: args::NEW_TIME,
};

fn calendar_of<'a>(setup: &'a Appointments, appointment: &Appointment) -> Option<&'a BranchCalendar> {
    setup.branch(&appointment.branch_id).map(|b| &b.calendar)
}

/// "auf Freitag, den 4. Dezember, um 10 Uhr".
fn move_target(calendar: &BranchCalendar, at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let local = local_datetime(calendar.tz, at);
    speak_move_target(local.date(), local.time(), calendar.today(now), calendar)
}

fn unknown_caller() -> Reply {
    Reply::new(
        Status::Refused,
        "Ihre Rufnummer wird nicht übertragen, deshalb kann ich Ihre Termine am Telefon nicht nachsehen oder ändern. \
         Soll ich veranlassen, dass wir Sie zurückrufen?",
    )
    .with("reason", "number_withheld")
}

fn hours(h: f64) -> String {
    match h.floor() as i64 {
        i64::MIN..=0 => "weniger als einer Stunde".into(),
        1 => "einer Stunde".into(),
        n => format!("{n} Stunden"),
    }
}

/// Why the caller may not do it themselves, and the callback offer.
fn refused(refusal: Refusal, what: &str, cancel: bool) -> Reply {
    let verb = if cancel { "absagen" } else { "verschieben" };
    let noun = if cancel { "Absagen" } else { "Verschiebungen" };
    let (message, reason) = match refusal {
        Refusal::NotTheirs => (
            "Diesen Termin kann ich am Telefon nur für die Rufnummer ändern, mit der er gebucht wurde. \
             Soll ich veranlassen, dass wir Sie zurückrufen?"
                .to_string(),
            "number_mismatch",
        ),
        Refusal::TooLate {
            hours_before,
            notice_hours,
        } => (
            format!(
                "{noun} sind am Telefon bis {notice_hours} Stunden vor dem Termin möglich. Ihr Termin, {what}, \
                 beginnt schon in {}, deshalb kann ich ihn nicht mehr {verb}. Soll ich veranlassen, dass wir Sie zurückrufen?",
                hours(hours_before)
            ),
            "too_late",
        ),
        Refusal::AlreadyCancelled => (
            format!("Der Termin, {what}, ist bereits abgesagt."),
            "already_cancelled",
        ),
        Refusal::InThePast => (
            format!("Der Termin, {what}, liegt schon in der Vergangenheit."),
            "in_the_past",
        ),
    };
    let reply = Reply::new(Status::Refused, message).with("reason", reason);
    if matches!(refusal, Refusal::AlreadyCancelled | Refusal::InThePast) {
        Reply {
            callback_offered: false,
            ..reply
        }
    } else {
        reply
    }
}

fn fee_sentence(fee: Option<f64>, cancel: bool) -> String {
    match fee {
        Some(fee) if cancel => format!(
            " Für die kurzfristige Absage fällt eine Gebühr von {} an.",
            speak_euro(fee)
        ),
        Some(fee) => format!(
            " Für die kurzfristige Verschiebung fällt eine Gebühr von {} an.",
            speak_euro(fee)
        ),
        None => String::new(),
    }
}

impl BookingDesk {
    pub(super) async fn query(&self, setup: &Appointments, args: Args<'_>, call: &DeskCall<'_>) -> Answered {
        let Some(number) = call.caller_number else {
            return Ok(unknown_caller());
        };
        let now = self.now();
        let mut upcoming = self.engine.upcoming(call.tenant, number).await?;
        if let Some(date) = self.said_date(setup, args, &OLD)? {
            upcoming.retain(|a| calendar_of(setup, a).is_some_and(|c| local_datetime(c.tz, a.start).date() == date));
        }
        let spoken: Vec<String> = upcoming
            .iter()
            .filter_map(|a| Some(describe(setup, a, calendar_of(setup, a)?, now)))
            .collect();
        let message = match spoken.as_slice() {
            [] => "Unter Ihrer Rufnummer finde ich keinen anstehenden Termin.".to_string(),
            [one] => format!("Sie haben einen Termin: {one}."),
            many => format!("Sie haben {} Termine: {}.", many.len(), join_with(many, "und")),
        };
        let status = if upcoming.is_empty() {
            Status::NoAppointments
        } else {
            Status::Appointments
        };
        let list: Vec<_> = upcoming
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let mut v = appointment_json(setup, a);
                if let Some(obj) = v.as_object_mut() {
                    obj.insert("number".into(), (i + 1).into());
                }
                v
            })
            .collect();
        Ok(Reply::new(status, message).with("appointments", list))
    }

    /// The date the caller named, if any (only the day counts for finding an appointment).
    fn said_date(
        &self,
        setup: &Appointments,
        args: Args<'_>,
        names: &WishArgs,
    ) -> Result<Option<chrono::NaiveDate>, Stop> {
        let Some(calendar) = setup.branches.first().map(|b| &b.calendar) else {
            return Ok(None);
        };
        Ok(wish_from(args, names, calendar, self.now())?.map(|w| w.date))
    }

    /// Which of the caller's appointments is meant: by id, by the date said, or the only one.
    async fn which(
        &self,
        setup: &Appointments,
        args: Args<'_>,
        call: &DeskCall<'_>,
        verb: &str,
    ) -> Result<AppointmentId, Stop> {
        if let Some(id) = args.text(args::APPOINTMENT_ID) {
            return Ok(AppointmentId::new(id));
        }
        let Some(number) = call.caller_number else {
            return Err(unknown_caller().into());
        };
        let now = self.now();
        let upcoming = self.engine.upcoming(call.tenant, number).await?;
        let said = self.said_date(setup, args, &OLD)?;
        let candidates: Vec<&Appointment> = upcoming
            .iter()
            .filter(|a| {
                said.is_none_or(|d| calendar_of(setup, a).is_some_and(|c| local_datetime(c.tz, a.start).date() == d))
            })
            .collect();
        let spoken = |list: &[&Appointment]| -> Vec<String> {
            list.iter()
                .filter_map(|a| Some(describe(setup, a, calendar_of(setup, a)?, now)))
                .collect()
        };
        match candidates.as_slice() {
            [one] => Ok(one.appointment_id.clone()),
            [] if upcoming.is_empty() => Err(Reply::new(
                Status::NoAppointments,
                "Unter Ihrer Rufnummer finde ich keinen anstehenden Termin.",
            )
            .into()),
            [] => Err(Reply::new(
                Status::NotFound,
                format!(
                    "An diesem Tag finde ich keinen Termin unter Ihrer Rufnummer. Sie haben {}. Welchen möchten Sie {verb}?",
                    join_with(&spoken(&upcoming.iter().collect::<Vec<_>>()), "und")
                ),
            )
            .into()),
            many => Err(Reply::question(format!(
                "Sie haben {} Termine: {}. Welchen möchten Sie {verb}?",
                many.len(),
                join_with(&spoken(many), "und")
            ))
            .with(
                "appointments",
                many.iter().map(|a| appointment_json(setup, a)).collect::<Vec<_>>(),
            )
            .into()),
        }
    }

    pub(super) async fn cancel(&self, setup: &Appointments, args: Args<'_>, call: &DeskCall<'_>) -> Answered {
        let id = self.which(setup, args, call, "absagen").await?;
        let now = self.now();
        let caller = call.caller();
        let terms = self.engine.change_terms(&caller, &id, true).await?;
        let fee = match terms {
            Terms::NotFound => return Ok(not_found()),
            Terms::Refused { refusal, appointment } => {
                return Ok(refused(refusal, &self.what(setup, &appointment, now), true));
            }
            Terms::Allowed { appointment, fee_eur } => {
                if fee_eur.is_some() && args.flag(args::CONFIRM) != Some(true) {
                    return Ok(Reply::new(
                        Status::ConfirmFee,
                        format!(
                            "Ihr Termin ist {}.{} Möchten Sie ihn trotzdem absagen?",
                            self.what(setup, &appointment, now),
                            fee_sentence(fee_eur, true)
                        ),
                    )
                    .with("fee_eur", fee_eur)
                    .with("appointment", appointment_json(setup, &appointment)));
                }
                fee_eur
            }
        };
        let reason = args.text(args::REASON).unwrap_or_default();
        let outcome = self
            .patiently(call.deadline, || {
                self.engine.cancel(&caller, &id, &reason, call.deadline)
            })
            .await?;
        Ok(match outcome {
            CancelOutcome::Cancelled {
                appointment,
                fee_eur,
                repeated,
            } => {
                if !repeated {
                    self.changed(&appointment).await;
                }
                Reply::new(
                    Status::Cancelled,
                    format!(
                        "Ihr Termin, {}, ist abgesagt.{}",
                        self.what(setup, &appointment, now),
                        fee_sentence(fee_eur.or(fee), true)
                    ),
                )
                .with("fee_eur", fee_eur)
                .with("repeated", repeated)
                .with("appointment", appointment_json(setup, &appointment))
            }
            CancelOutcome::Refused(refusal) => refused(refusal, "dieser Termin", true),
            CancelOutcome::NotFound => not_found(),
        })
    }

    pub(super) async fn reschedule(&self, setup: &Appointments, args: Args<'_>, call: &DeskCall<'_>) -> Answered {
        let id = self.which(setup, args, call, "verschieben").await?;
        let now = self.now();
        let caller = call.caller();
        let current = match self.engine.change_terms(&caller, &id, false).await? {
            Terms::NotFound => return Ok(not_found()),
            Terms::Refused { refusal, appointment } => {
                return Ok(refused(refusal, &self.what(setup, &appointment, now), false));
            }
            Terms::Allowed { appointment, .. } => appointment,
        };
        let Some(calendar) = calendar_of(setup, &current) else {
            return Ok(Reply::unavailable());
        };
        let Some(wish) = wish_from(args, &NEW, calendar, now)? else {
            return Ok(Reply::question(format!(
                "Ihr Termin ist {}. Auf welchen Tag und welche Uhrzeit möchten Sie ihn verschieben?",
                self.what(setup, &current, now)
            ))
            .with("field", "new_datum")
            .with("appointment", appointment_json(setup, &current)));
        };
        if args.flag(args::CONFIRM) == Some(true)
            && let TimeWish::Exact(time) = wish.time
            && let Some(to) = to_instant(calendar.tz, wish.date.and_time(time))
        {
            return self.confirm_move(setup, args, call, &id, to).await;
        }
        self.propose_move(setup, call, &current, &wish).await
    }

    async fn propose_move(
        &self,
        setup: &Appointments,
        call: &DeskCall<'_>,
        current: &Appointment,
        wish: &Wish,
    ) -> Answered {
        let now = self.now();
        let caller = call.caller();
        let proposal = self
            .patiently(call.deadline, || {
                self.engine
                    .propose_move(&caller, &current.appointment_id, wish, call.deadline)
            })
            .await?;
        let calendar = calendar_of(setup, current).ok_or_else(Reply::unavailable)?;
        Ok(match proposal {
            MoveProposal::Possible { offer, fee_eur } => Reply::new(
                Status::MovePossible,
                format!(
                    "Ich kann Ihren Termin, {}, {} verschieben.{} Soll ich ihn so verschieben?",
                    self.what(setup, current, now),
                    move_target(calendar, offer.start, now),
                    fee_sentence(fee_eur, false)
                ),
            )
            .with("fee_eur", fee_eur)
            .with("new_start", offer.local_start)
            .with("offers", offers_json(std::slice::from_ref(&offer)))
            .with("appointment", appointment_json(setup, current)),
            MoveProposal::Taken(answer) => {
                let offers = answer.offers().to_vec();
                let status = if offers.is_empty() {
                    Status::NothingFree
                } else {
                    Status::Alternatives
                };
                Reply::new(status, answer.message).with("offers", offers_json(&offers))
            }
            MoveProposal::Refused(refusal) => refused(refusal, &self.what(setup, current, now), false),
            MoveProposal::NotFound => not_found(),
        })
    }

    async fn confirm_move(
        &self,
        setup: &Appointments,
        args: Args<'_>,
        call: &DeskCall<'_>,
        id: &AppointmentId,
        to: DateTime<Utc>,
    ) -> Answered {
        let now = self.now();
        let caller = call.caller();
        let reason = args.text(args::REASON).unwrap_or_default();
        let outcome = self
            .patiently(call.deadline, || {
                self.engine.confirm_move(&caller, id, to, &reason, call.deadline)
            })
            .await?;
        Ok(match outcome {
            MoveOutcome::Moved {
                appointment,
                fee_eur,
                repeated,
            } => {
                if !repeated {
                    self.changed(&appointment).await;
                }
                Reply::new(
                    Status::Moved,
                    format!(
                        "Ihr Termin ist verschoben: {}.{}{}",
                        self.what(setup, &appointment, now),
                        fee_sentence(fee_eur, false),
                        if appointment.customer.email.is_some() {
                            " Die geänderte Bestätigung schicken wir Ihnen per E-Mail."
                        } else {
                            ""
                        }
                    ),
                )
                .with("fee_eur", fee_eur)
                .with("repeated", repeated)
                .with("appointment", appointment_json(setup, &appointment))
            }
            MoveOutcome::Taken(answer) => {
                let offers = answer.offers().to_vec();
                let calendar = setup.branches.first().map(|b| &b.calendar);
                let when = calendar.map_or_else(String::new, |c| format!(" {}", confirm_at(c, to, now)));
                Reply::new(
                    Status::Taken,
                    format!(
                        "Der Termin{when} ist leider gerade vergeben worden. {}",
                        offer_sentence(&offers)
                    ),
                )
                .with("offers", offers_json(&offers))
            }
            MoveOutcome::Refused(refusal) => refused(refusal, "dieser Termin", false),
            MoveOutcome::NotFound => not_found(),
        })
    }

    /// "Krankengymnastik am Dienstag, dem 8. Dezember, um 14:30 Uhr".
    fn what(&self, setup: &Appointments, appointment: &Appointment, now: DateTime<Utc>) -> String {
        match calendar_of(setup, appointment) {
            Some(calendar) => describe(setup, appointment, calendar, now),
            None => appointment.service_id.to_string(),
        }
    }
}

fn not_found() -> Reply {
    Reply::new(
        Status::NotFound,
        "Diesen Termin finde ich leider nicht. Können Sie mir sagen, an welchem Tag er ist?",
    )
}
