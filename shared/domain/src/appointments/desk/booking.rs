//! Booking a time the caller chose: exactly that start (never a nearby one), for a named person
//! reachable by phone, idempotent per call, service and start (a Retell retry gets the same
//! booking). "Gebucht" is said only after the calendar confirmed it.

use crate::appointments::backend::{Attendee, BackendError};
use crate::appointments::calendar::local_time::to_instant;
use crate::appointments::desk::args::{self, Args};
use crate::appointments::desk::availability::{WISH, confirm_at, offer_sentence, service_json, wish_from};
use crate::appointments::desk::reply::{Reply, Status, offers_json};
use crate::appointments::desk::{Answered, BookingDesk, DeskCall, lookup};
use crate::appointments::engine::{BookOutcome, BookRequest};
use crate::appointments::record::{Appointment, AppointmentStatus};
use crate::appointments::setup::Appointments;
use crate::appointments::speech::parse::TimeWish;
use crate::phone::to_e164;
use crate::tenancy::validate::is_valid_email;

impl BookingDesk {
    pub(super) async fn book(&self, setup: &Appointments, args: Args<'_>, call: &DeskCall<'_>) -> Answered {
        let (service, staff, branch) = Self::target(setup, args)?;
        let calendar = &branch.calendar;
        let now = self.now();
        let start = match wish_from(args, &WISH, calendar, now)? {
            Some(wish) => match wish.time {
                TimeWish::Exact(time) => to_instant(calendar.tz, wish.date.and_time(time)),
                _ => None,
            },
            None => None,
        };
        let Some(start) = start else {
            return Ok(
                Reply::question("Zu welcher Uhrzeit genau soll ich den Termin eintragen?").with("field", "uhrzeit"),
            );
        };
        let Some(name) = args.text(args::NAME) else {
            return Ok(
                Reply::question("Auf welchen Namen darf ich den Termin eintragen?").with("field", "customer_name")
            );
        };
        let said_phone = args.text(args::PHONE);
        let phone = call
            .caller_number
            .map(str::to_string)
            .or_else(|| said_phone.as_deref().and_then(|p| to_e164(p, call.tenant.region)));
        let Some(phone) = phone else {
            let message = if said_phone.is_some() {
                "Die Telefonnummer habe ich nicht richtig verstanden. Können Sie sie bitte noch einmal langsam sagen?"
            } else {
                "Unter welcher Telefonnummer können wir Sie erreichen?"
            };
            return Ok(Reply::question(message).with("field", "customer_phone"));
        };
        let email = match args.text(args::EMAIL) {
            Some(e) if is_valid_email(&e.to_lowercase()) => Some(e.to_lowercase()),
            Some(_) => {
                return Ok(Reply::question(
                    "Die E-Mail-Adresse habe ich nicht richtig verstanden. Können Sie sie bitte buchstabieren? \
                     Wir können den Termin auch ohne E-Mail-Adresse eintragen.",
                )
                .with("field", "customer_email"));
            }
            None => None,
        };
        let request = BookRequest {
            service: service.id.clone(),
            staff: staff.clone(),
            start,
            attendee: Attendee {
                name,
                phone: Some(phone),
                email,
                language: call.tenant.config.locale.split('-').next().unwrap_or("de").to_string(),
            },
        };
        let caller = call.caller();
        let outcome = self
            .patiently(call.deadline, || self.engine.book(&caller, &request, call.deadline))
            .await?;
        let reply = match outcome {
            BookOutcome::Booked { appointment, repeated } => {
                if !repeated {
                    self.changed(&appointment).await;
                }
                booked(setup, &appointment, calendar, now).with("repeated", repeated)
            }
            BookOutcome::Taken(answer) => {
                let offers = answer.offers().to_vec();
                Reply::new(
                    Status::Taken,
                    format!(
                        "Der Termin {} ist leider gerade vergeben worden. {}",
                        confirm_at(calendar, start, now),
                        offer_sentence(&offers)
                    ),
                )
                .with("offers", offers_json(&offers))
            }
            BookOutcome::NotBookable(reason, answer) => {
                let offers = answer.offers().to_vec();
                let why = match reason {
                    BackendError::InPast => "Dieser Zeitpunkt liegt schon in der Vergangenheit.",
                    _ => {
                        "Zu diesem Zeitpunkt kann ich leider nicht buchen, er ist zu kurzfristig oder zu weit im Voraus."
                    }
                };
                Reply::new(Status::Alternatives, format!("{why} {}", offer_sentence(&offers)))
                    .with("offers", offers_json(&offers))
            }
        };
        Ok(reply.with("service", service_json(service)))
    }
}

/// "Ihr Termin ist gebucht: Krankengymnastik bei Frau Weber am Dienstag, dem 8. Dezember, um halb
/// drei (14:30 Uhr)."
fn booked(
    setup: &Appointments,
    appointment: &Appointment,
    calendar: &crate::appointments::calendar::hours::BranchCalendar,
    now: chrono::DateTime<chrono::Utc>,
) -> Reply {
    let what = describe(setup, appointment, calendar, now);
    let (status, message) = if appointment.status == AppointmentStatus::Pending {
        (
            Status::Requested,
            format!("Ich habe Ihren Terminwunsch eingetragen: {what}. Wir bestätigen ihn Ihnen noch."),
        )
    } else {
        (Status::Booked, format!("Ihr Termin ist gebucht: {what}."))
    };
    let confirmation = match &appointment.customer.email {
        Some(_) => " Eine Bestätigung schicken wir Ihnen per E-Mail.",
        None => "",
    };
    Reply::new(status, format!("{message}{confirmation}")).with("appointment", appointment_json(setup, appointment))
}

/// "Krankengymnastik bei Frau Weber am Dienstag, dem 8. Dezember, um halb drei (14:30 Uhr)".
pub(super) fn describe(
    setup: &Appointments,
    appointment: &Appointment,
    calendar: &crate::appointments::calendar::hours::BranchCalendar,
    now: chrono::DateTime<chrono::Utc>,
) -> String {
    let service = setup
        .service(&appointment.service_id)
        .map_or_else(|| appointment.service_id.to_string(), |s| s.name.clone());
    let with = lookup::staff_name(setup, appointment.staff_id.as_deref())
        .map(|name| format!(" bei {name}"))
        .unwrap_or_default();
    format!("{service}{with} {}", confirm_at(calendar, appointment.start, now))
}

/// The machine fields of an appointment.
pub(super) fn appointment_json(setup: &Appointments, appointment: &Appointment) -> serde_json::Value {
    let zone = appointment.time_zone.0;
    serde_json::json!({
        "appointment_id": appointment.appointment_id,
        "booking_id": appointment.backend_uid,
        "service_id": appointment.service_id,
        "service": setup.service(&appointment.service_id).map(|s| s.name.clone()),
        "staff": lookup::staff_name(setup, appointment.staff_id.as_deref()),
        "start": appointment.start,
        "end": appointment.end,
        "local_start": appointment.start.with_timezone(&zone).fixed_offset(),
        "time_zone": zone.name(),
        "status": appointment.status,
    })
}
