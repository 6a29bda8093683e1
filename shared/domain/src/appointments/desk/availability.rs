//! Finding a time: is the wish free (else alternatives), what else is there, and the next free
//! time — each from one calendar fetch for the search window.

use chrono::{DateTime, NaiveTime, Utc};
use serde_json::json;

use crate::appointments::alternatives::Offer;
use crate::appointments::calendar::hours::BranchCalendar;
use crate::appointments::calendar::local_time::{local_datetime, to_instant_or_after_gap};
use crate::appointments::desk::args::{self, Args};
use crate::appointments::desk::reply::{Reply, Status, offers_json};
use crate::appointments::desk::{Answered, BookingDesk, DeskCall, lookup};
use crate::appointments::setup::{Appointments, Branch, Service};
use crate::appointments::speech::parse::{QuestionKind, TimeWish, Wish, parse_wish};
use crate::appointments::speech::speak::{join_oder, speak_confirmation, speak_wish};

/// Where a wish is read from: an exact start, or date and time text (a window word included).
pub(super) struct WishArgs {
    pub datetime: &'static [&'static str],
    pub date: &'static [&'static str],
    pub time: &'static [&'static str],
}

pub(super) const WISH: WishArgs = WishArgs {
    datetime: args::DATETIME,
    date: args::DATE,
    time: args::TIME,
};

/// The caller's wish, `None` when nothing was said; a question when it cannot be placed.
pub(super) fn wish_from(
    args: Args<'_>,
    names: &WishArgs,
    calendar: &BranchCalendar,
    now: DateTime<Utc>,
) -> Result<Option<Wish>, Reply> {
    if let Some(at) = args.instant(names.datetime, calendar.tz) {
        return match at {
            Ok(at) => {
                let local = local_datetime(calendar.tz, at);
                Ok(Some(Wish {
                    date: local.date(),
                    time: TimeWish::Exact(local.time()),
                }))
            }
            Err(_) => Err(Reply::question(
                "Den Zeitpunkt habe ich nicht verstanden. An welchem Tag und um wie viel Uhr möchten Sie kommen?",
            )
            .with("field", names.datetime[0])),
        };
    }
    let date = args.text(names.date);
    let time = match (args.text(names.time), args.text(args::WINDOW)) {
        (Some(t), Some(w)) => Some(format!("{w} {t}")),
        (t, w) => t.or(w),
    };
    if date.is_none() && time.is_none() {
        return Ok(None);
    }
    parse_wish(date.as_deref(), time.as_deref(), now, calendar)
        .map(Some)
        .map_err(|q| Reply::question(q.text).with("question", q.kind))
}

/// For the next free time: a time of day without a day ("nachmittags") means the next day it
/// can still happen: today while it lasts, otherwise from tomorrow on.
fn next_wish(
    args: Args<'_>,
    names: &WishArgs,
    calendar: &BranchCalendar,
    now: DateTime<Utc>,
) -> Result<Option<Wish>, Reply> {
    let time = match (args.text(names.time), args.text(args::WINDOW)) {
        (Some(t), Some(w)) => Some(format!("{w} {t}")),
        (t, w) => t.or(w),
    };
    match (args.text(names.date), time) {
        (None, Some(time)) => match parse_wish(None, Some(&time), now, calendar) {
            Err(q) if q.kind == QuestionKind::InPast => parse_wish(Some("morgen"), Some(&time), now, calendar)
                .map(Some)
                .map_err(|q| Reply::question(q.text).with("question", q.kind)),
            other => other
                .map(Some)
                .map_err(|q| Reply::question(q.text).with("question", q.kind)),
        },
        _ => wish_from(args, names, calendar, now),
    }
}

pub(super) fn service_json(service: &Service) -> serde_json::Value {
    json!({
        "id": service.id,
        "name": service.name,
        "duration_minutes": service.rules.duration.num_minutes(),
    })
}

/// "am Dienstag, dem 8. Dezember, um halb drei (14:30 Uhr)" for an instant at the branch.
pub(super) fn confirm_at(calendar: &BranchCalendar, at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let local = local_datetime(calendar.tz, at);
    speak_confirmation(local.date(), local.time(), calendar.today(now), calendar)
}

/// "morgen um halb drei, am Donnerstag, dem 10. Dezember, um 14 Uhr oder …".
pub(super) fn spoken_offers(offers: &[Offer]) -> String {
    join_oder(&offers.iter().map(|o| o.spoken.clone()).collect::<Vec<_>>())
}

/// The sentence offering other times, or the callback offer when there are none.
pub(super) fn offer_sentence(offers: &[Offer]) -> String {
    match offers.len() {
        0 => "Im Moment finde ich keinen anderen freien Termin. Dürfen wir Sie zurückrufen, sobald wir etwas für Sie haben?"
            .into(),
        1 => format!("Ich kann Ihnen {} anbieten. Passt Ihnen das?", spoken_offers(offers)),
        _ => format!(
            "Ich kann Ihnen {} anbieten. Welcher Termin passt Ihnen am besten?",
            spoken_offers(offers)
        ),
    }
}

impl BookingDesk {
    /// Service, preferred staff and branch of a request (questions when unclear).
    pub(super) fn target<'s>(
        setup: &'s Appointments,
        args: Args<'_>,
    ) -> Result<
        (
            &'s Service,
            Option<crate::appointments::calendar::slots::StaffId>,
            &'s Branch,
        ),
        Reply,
    > {
        let service = lookup::service(setup, args.text(args::SERVICE).as_deref())?;
        let staff = lookup::staff(setup, service, args.text(args::STAFF).as_deref())?;
        let branch = setup.branch(&service.branch).ok_or_else(Reply::unavailable)?;
        Ok((service, staff, branch))
    }

    pub(super) async fn check_availability(
        &self,
        setup: &Appointments,
        args: Args<'_>,
        call: &DeskCall<'_>,
    ) -> Answered {
        let (service, staff, branch) = Self::target(setup, args)?;
        let Some(wish) = wish_from(args, &WISH, &branch.calendar, self.now())? else {
            return Ok(
                Reply::question("An welchem Tag und um wie viel Uhr möchten Sie kommen?").with("field", "datum"),
            );
        };
        let caller = call.caller();
        let answer = self
            .patiently(call.deadline, || {
                self.engine
                    .availability(&caller, &service.id, staff.as_ref(), &wish, call.deadline)
            })
            .await?;
        let today = branch.calendar.today(self.now());
        Ok(Reply::from_answer(answer)
            .with("service", service_json(service))
            .with("requested", speak_wish(&wish, today, &branch.calendar)))
    }

    pub(super) async fn get_alternatives(&self, setup: &Appointments, args: Args<'_>, call: &DeskCall<'_>) -> Answered {
        let (service, staff, branch) = Self::target(setup, args)?;
        let today = branch.calendar.today(self.now());
        let wish = wish_from(args, &WISH, &branch.calendar, self.now())?.unwrap_or(Wish {
            date: today,
            time: TimeWish::Unspecified,
        });
        let caller = call.caller();
        let answer = self
            .patiently(call.deadline, || {
                self.engine
                    .alternatives(&caller, &service.id, staff.as_ref(), &wish, call.deadline)
            })
            .await?;
        let limit = args
            .number(args::MAX_ALTERNATIVES)
            .filter(|n| *n >= 1.0)
            .map_or(usize::MAX, |n| n as usize);
        let offers: Vec<Offer> = answer.offers().iter().take(limit).cloned().collect();
        let reply = if offers.is_empty() {
            Reply::new(Status::NothingFree, answer.message)
        } else {
            Reply::new(Status::Alternatives, offer_sentence(&offers))
        };
        Ok(reply
            .with("offers", offers_json(&offers))
            .with("service", service_json(service)))
    }

    pub(super) async fn find_next_available(
        &self,
        setup: &Appointments,
        args: Args<'_>,
        call: &DeskCall<'_>,
    ) -> Answered {
        let (service, staff, branch) = Self::target(setup, args)?;
        let calendar = &branch.calendar;
        let names = WishArgs {
            datetime: &[],
            date: args::AFTER,
            time: args::TIME,
        };
        let names = if args.text(args::AFTER).is_some() {
            names
        } else {
            WishArgs {
                date: args::DATE,
                ..names
            }
        };
        let now = self.now();
        let midnight = |w: &Wish| to_instant_or_after_gap(calendar.tz, w.date.and_time(NaiveTime::MIN)).unwrap_or(now);
        let (after, window) = match next_wish(args, &names, calendar, now)? {
            None => (now, None),
            Some(w) => match w.time {
                TimeWish::Exact(t) => (
                    to_instant_or_after_gap(calendar.tz, w.date.and_time(t)).unwrap_or(now),
                    None,
                ),
                TimeWish::Window { from, to } => (midnight(&w), Some((from, to))),
                TimeWish::Unspecified => (midnight(&w), None),
            },
        };
        let caller = call.caller();
        let offer = self
            .patiently(call.deadline, || {
                self.engine.next_available(
                    &caller,
                    &service.id,
                    staff.as_ref(),
                    after.max(now),
                    window,
                    call.deadline,
                )
            })
            .await?;
        let Some(offer) = offer else {
            return Ok(Reply::new(
                Status::NothingFree,
                "In den nächsten zwei Wochen finde ich dafür leider keinen freien Termin. \
                 Dürfen wir Sie zurückrufen, sobald wir etwas für Sie haben?",
            )
            .with("offers", Vec::<serde_json::Value>::new())
            .with("service", service_json(service)));
        };
        let with = lookup::staff_name(setup, offer.staff.as_ref().map(|s| s.0.as_str()))
            .map(|name| format!(" bei {name}"))
            .unwrap_or_default();
        let message = format!(
            "Der nächste freie Termin ist {}{with}. Soll ich ihn für Sie eintragen?",
            confirm_at(calendar, offer.start, now)
        );
        let local = local_datetime(calendar.tz, offer.start);
        Ok(Reply::new(Status::NextAvailable, message)
            .with("next_available", offer.local_start)
            .with("formatted_date", local.format("%d.%m.%Y").to_string())
            .with("formatted_time", local.format("%H:%M").to_string())
            .with("offers", offers_json(std::slice::from_ref(&offer)))
            .with("service", service_json(service)))
    }
}
