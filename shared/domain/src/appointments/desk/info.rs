//! What the company offers and when it is open, in sentences the agent can read out.

use chrono::{DateTime, Datelike, Utc, Weekday};
use serde_json::json;

use crate::appointments::calendar::hours::{BranchCalendar, OpenInterval};
use crate::appointments::desk::args::{self, Args};
use crate::appointments::desk::availability::{WISH, wish_from};
use crate::appointments::desk::reply::{Reply, Status};
use crate::appointments::desk::{Answered, lookup};
use crate::appointments::setup::Appointments;
use crate::appointments::speech::speak::{join_with, month_name, speak_range_hours, weekday_name};

const WEEK: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

pub(super) fn list_services(setup: &Appointments) -> Reply {
    let spoken: Vec<String> = setup
        .services
        .iter()
        .map(|s| format!("{} ({} Minuten)", s.name, s.rules.duration.num_minutes()))
        .collect();
    let services: Vec<_> = setup
        .services
        .iter()
        .map(|s| {
            json!({
                "id": s.id,
                "name": s.name,
                "duration_minutes": s.rules.duration.num_minutes(),
                "synonyms": s.synonyms,
                "staff": s.staff.iter().filter_map(|id| lookup::staff_name(setup, Some(&id.0))).collect::<Vec<_>>(),
            })
        })
        .collect();
    Reply::new(
        Status::Services,
        format!("Wir bieten {} an.", join_with(&spoken, "und")),
    )
    .with("services", services)
}

/// "von 7:30 bis 12:30 Uhr und von 13:30 bis 19 Uhr".
fn intervals(hours: &[OpenInterval]) -> String {
    let parts: Vec<String> = hours
        .iter()
        .map(|iv| format!("von {}", speak_range_hours(iv.start(), iv.end())))
        .collect();
    join_with(&parts, "und")
}

/// The usual week, consecutive days with the same hours together: "Montag bis Donnerstag von 7:30
/// bis 12:30 Uhr und von 13:30 bis 19 Uhr, Freitag von … und Samstag von 9 bis 12 Uhr".
pub fn weekly_sentence(calendar: &BranchCalendar) -> String {
    let mut groups: Vec<(Weekday, Weekday, &[OpenInterval])> = Vec::new();
    for day in WEEK {
        let hours = calendar.hours.on(day);
        match groups.last_mut() {
            Some((_, last, h)) if *h == hours && last.succ() == day => *last = day,
            _ => groups.push((day, day, hours)),
        }
    }
    let parts: Vec<String> = groups
        .iter()
        .filter(|(_, _, hours)| !hours.is_empty())
        .map(|(first, last, hours)| {
            let days = match (*first, *last) {
                (a, b) if a == b => weekday_name(a).to_string(),
                (a, b) if a.succ() == b => format!("{} und {}", weekday_name(a), weekday_name(b)),
                (a, b) => format!("{} bis {}", weekday_name(a), weekday_name(b)),
            };
            format!("{days} {}", intervals(hours))
        })
        .collect();
    if parts.is_empty() {
        return "Wir haben derzeit keine festen Öffnungszeiten.".into();
    }
    format!("Wir haben {} geöffnet.", join_with(&parts, "und"))
}

/// Days listed for the agent at the start of a call, so it never has to work out a date itself.
const DAYS_AHEAD: i64 = 14;

/// Dynamic variables for Retell's `call_inbound` in a company that books appointments (all
/// strings): today in words, the next 14 days with weekdays and ISO dates, today's and the
/// week's opening hours of the first branch, and the services.
pub fn booking_variables(setup: &Appointments, now: DateTime<Utc>) -> serde_json::Map<String, serde_json::Value> {
    let mut vars = serde_json::Map::new();
    let Some(branch) = setup.branches.first() else {
        return vars;
    };
    let calendar = &branch.calendar;
    let today = calendar.today(now);
    let long = |d: chrono::NaiveDate| {
        format!(
            "{}, {}. {} {}",
            weekday_name(d.weekday()),
            d.day(),
            month_name(d.month()),
            d.year()
        )
    };
    let days: Vec<String> = (0..DAYS_AHEAD)
        .map(|i| {
            let d = today + chrono::TimeDelta::days(i);
            let relative = match i {
                0 => ", heute",
                1 => ", morgen",
                2 => ", übermorgen",
                _ => "",
            };
            let closed = if calendar.is_open_on(d) { "" } else { ", geschlossen" };
            format!("{} ({}{relative}{closed})", long(d), d.format("%Y-%m-%d"))
        })
        .collect();
    let mut put = |k: &str, v: String| {
        vars.insert(k.to_string(), serde_json::Value::String(v));
    };
    put("today_in_words", format!("Heute ist {}.", long(today)));
    put("tomorrow", long(today + chrono::TimeDelta::days(1)));
    put("day_after_tomorrow", long(today + chrono::TimeDelta::days(2)));
    put("next_14_days", days.join("; "));
    put("opening_hours_today", calendar.today_sentence(now));
    put("opening_hours", weekly_sentence(calendar));
    put("branch_name", branch.name.clone());
    put(
        "services",
        join_with(
            &setup.services.iter().map(|s| s.name.clone()).collect::<Vec<_>>(),
            "und",
        ),
    );
    vars
}

pub(super) fn opening_hours(setup: &Appointments, args: Args<'_>, now: DateTime<Utc>) -> Answered {
    let Some(branch) = lookup::branch(setup, args.text(args::BRANCH).as_deref()) else {
        return Ok(Reply::unavailable());
    };
    let calendar = &branch.calendar;
    let today = calendar.today(now);
    let reply = match wish_from(args, &WISH, calendar, now)? {
        Some(wish) => {
            let closure = calendar
                .closure_on(wish.date)
                .and_then(|c| c.reason())
                .map(str::to_string);
            Reply::new(Status::OpeningHours, calendar.hours_sentence(wish.date, today))
                .with("date", wish.date)
                .with("open", calendar.is_open_on(wish.date))
                .with("closure", closure)
        }
        None => Reply::new(
            Status::OpeningHours,
            format!(
                "{} {}",
                calendar.hours_sentence(today, today),
                weekly_sentence(calendar)
            ),
        ),
    };
    Ok(reply
        .with(
            "branch",
            json!({"id": branch.id, "name": branch.name, "address": branch.address}),
        )
        .with("time_zone", calendar.tz.name()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::appointments::desk::tests::praxis;

    #[test]
    fn the_week_in_one_sentence() {
        let setup = praxis();
        assert_eq!(
            weekly_sentence(&setup.branches[0].calendar),
            "Wir haben Montag bis Donnerstag von 7:30 bis 12:30 Uhr und von 13:30 bis 19 Uhr, \
             Freitag von 7:30 bis 12:30 Uhr und von 13:30 bis 16 Uhr und Samstag von 9 bis 12 Uhr geöffnet."
        );
    }

    #[test]
    fn call_start_variables_name_every_date() {
        use chrono::TimeZone;
        // Tuesday 2026-12-22 10:00 in Hannover: Christmas closures ahead.
        let now = Utc.with_ymd_and_hms(2026, 12, 22, 9, 0, 0).unwrap();
        let v = booking_variables(&praxis(), now);
        assert_eq!(v["today_in_words"], "Heute ist Dienstag, 22. Dezember 2026.");
        assert_eq!(v["tomorrow"], "Mittwoch, 23. Dezember 2026");
        let days = v["next_14_days"].as_str().unwrap();
        assert!(days.starts_with("Dienstag, 22. Dezember 2026 (2026-12-22, heute); Mittwoch, 23. Dezember 2026 (2026-12-23, morgen); Donnerstag, 24. Dezember 2026 (2026-12-24, übermorgen, geschlossen);"), "{days}");
        assert!(days.contains("Freitag, 1. Januar 2027 (2027-01-01)"), "{days}");
        assert_eq!(days.split("; ").count(), 14);
        assert_eq!(
            v["opening_hours_today"],
            "Heute haben wir von 7:30 bis 12:30 Uhr und von 13:30 bis 19 Uhr geöffnet."
        );
        assert!(
            v.values().all(serde_json::Value::is_string),
            "Retell wants strings only"
        );
    }

    #[test]
    fn services_with_durations() {
        let r = list_services(&praxis());
        assert_eq!(
            r.message,
            "Wir bieten Erstbefund und Beratung (30 Minuten), Krankengymnastik (25 Minuten) und Hausbesuch (45 Minuten) an."
        );
        assert_eq!(r.data["services"][1]["staff"], json!(["Frau Weber", "Herr Yilmaz"]));
    }
}
