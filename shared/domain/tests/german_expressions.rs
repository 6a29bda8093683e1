//! What callers say, table-driven: each row is the date text and time text as the agent sends them
//! (`datum`, `uhrzeit`), a fixed "now", the expected wish or question, and how the answer is
//! spoken back. The branch is open Mon–Fri 08:00–12:00 and 13:00–18:00, closed on weekends, on
//! 24–26 December and on 1 January.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use gateway_domain::appointments::speech::speak::speak_wish;
use gateway_domain::appointments::{BranchCalendar, QuestionKind, TimeWish, Wish, parse_wish};

/// Tuesday 2026-12-01 10:00 in Berlin.
const TUE: &str = "2026-12-01T09:00:00Z";
/// Friday 2026-12-18 16:00.
const FRI: &str = "2026-12-18T15:00:00Z";
/// Thursday 2026-12-31 15:00, the turn of the year.
const NYE: &str = "2026-12-31T14:00:00Z";
/// Saturday 2026-03-28 10:00 CET, the night before summer time.
const SPRING: &str = "2026-03-28T09:00:00Z";
/// Saturday 2026-10-24 10:00 CEST, the night before winter time.
const AUTUMN: &str = "2026-10-24T08:00:00Z";
/// Monday 2026-12-07 17:00, one hour before closing.
const CLOSING: &str = "2026-12-07T16:00:00Z";

#[derive(Debug, Clone, Copy)]
enum Expect {
    /// date, exact time
    At(&'static str, &'static str),
    /// date, window from, window to
    Window(&'static str, &'static str, &'static str),
    /// date, no time
    Day(&'static str),
    Ask(QuestionKind),
}

use Expect::{Ask, At, Day, Window};
use QuestionKind as Q;

type Row = (
    Option<&'static str>,
    Option<&'static str>,
    &'static str,
    Expect,
    &'static str,
);

#[rustfmt::skip]
const ROWS: &[Row] = &[
    // Relative days, parts of the day, "morgen nachmittag" is never the morning.
    (Some("heute"), Some("15 Uhr"), TUE, At("2026-12-01", "15:00"),
        "heute, am Dienstag, dem 1. Dezember, um 15 Uhr"),
    (Some("morgen"), Some("14:30"), TUE, At("2026-12-02", "14:30"),
        "morgen, am Mittwoch, dem 2. Dezember, um halb drei (14:30 Uhr)"),
    (Some("übermorgen"), Some("10 Uhr"), TUE, At("2026-12-03", "10:00"),
        "übermorgen, am Donnerstag, dem 3. Dezember, um 10 Uhr"),
    (Some("uebermorgen"), Some("9.30"), TUE, At("2026-12-03", "09:30"),
        "übermorgen, am Donnerstag, dem 3. Dezember, um halb zehn (9:30 Uhr)"),
    (Some("morgen nachmittag"), None, TUE, Window("2026-12-02", "12:00", "18:00"),
        "morgen, am Mittwoch, dem 2. Dezember, zwischen 12 und 18 Uhr"),
    (Some("Morgen Nachmittag"), Some("ab 15 Uhr"), TUE, Window("2026-12-02", "15:00", "18:00"),
        "morgen, am Mittwoch, dem 2. Dezember, zwischen 15 und 18 Uhr"),
    (Some("morgen früh"), None, TUE, Window("2026-12-02", "08:00", "10:00"),
        "morgen, am Mittwoch, dem 2. Dezember, zwischen 8 und 10 Uhr"),
    (Some("morgen frueh"), None, TUE, Window("2026-12-02", "08:00", "10:00"),
        "morgen, am Mittwoch, dem 2. Dezember, zwischen 8 und 10 Uhr"),
    (Some("Morgen Vormittag"), None, TUE, Window("2026-12-02", "08:00", "12:00"),
        "morgen, am Mittwoch, dem 2. Dezember, zwischen 8 und 12 Uhr"),
    (Some("morgen"), Some("mittags"), TUE, Window("2026-12-02", "11:00", "14:00"),
        "morgen, am Mittwoch, dem 2. Dezember, zwischen 11 und 14 Uhr"),
    (Some("morgen"), Some("abends"), TUE, Window("2026-12-02", "17:00", "18:00"),
        "morgen, am Mittwoch, dem 2. Dezember, zwischen 17 und 18 Uhr"),
    (Some("morgen"), Some("morgens"), TUE, Window("2026-12-02", "08:00", "10:00"),
        "morgen, am Mittwoch, dem 2. Dezember, zwischen 8 und 10 Uhr"),
    (Some("heute abend"), None, TUE, Window("2026-12-01", "17:00", "18:00"),
        "heute, am Dienstag, dem 1. Dezember, zwischen 17 und 18 Uhr"),
    (None, Some("gegen Mittag"), TUE, Window("2026-12-01", "11:00", "14:00"),
        "heute, am Dienstag, dem 1. Dezember, zwischen 11 und 14 Uhr"),
    (Some("MORGEN"), Some("14 UHR"), TUE, At("2026-12-02", "14:00"),
        "morgen, am Mittwoch, dem 2. Dezember, um 14 Uhr"),
    // Weekdays: the next occurrence strictly after today, with or without "am/diesen/nächsten".
    (Some("Dienstag"), None, TUE, Day("2026-12-08"),
        "am Dienstag, dem 8. Dezember"),
    (Some("am Donnerstag"), Some("16 Uhr"), TUE, At("2026-12-03", "16:00"),
        "übermorgen, am Donnerstag, dem 3. Dezember, um 16 Uhr"),
    (Some("nächsten Dienstag"), None, TUE, Day("2026-12-08"),
        "am Dienstag, dem 8. Dezember"),
    (Some("naechsten Freitag"), Some("um 9"), TUE, At("2026-12-04", "09:00"),
        "am Freitag, dem 4. Dezember, um 9 Uhr"),
    (Some("diesen Freitag"), None, TUE, Day("2026-12-04"),
        "am Freitag, dem 4. Dezember"),
    (Some("übernächsten Montag"), None, TUE, Day("2026-12-14"),
        "am Montag, dem 14. Dezember"),
    (Some("Dienstag nächste Woche"), None, TUE, Day("2026-12-08"),
        "am Dienstag, dem 8. Dezember"),
    (Some("nächste Woche Donnerstag"), Some("halb drei"), TUE, At("2026-12-10", "14:30"),
        "am Donnerstag, dem 10. Dezember, um halb drei (14:30 Uhr)"),
    (Some("nächste Woche"), None, TUE, Day("2026-12-07"),
        "am Montag, dem 7. Dezember"),
    (Some("Dienstag nachmittag"), None, TUE, Window("2026-12-08", "12:00", "18:00"),
        "am Dienstag, dem 8. Dezember, zwischen 12 und 18 Uhr"),
    (Some("Dienstagnachmittag"), None, TUE, Window("2026-12-08", "12:00", "18:00"),
        "am Dienstag, dem 8. Dezember, zwischen 12 und 18 Uhr"),
    (None, Some("Donnerstag um 15 Uhr"), TUE, At("2026-12-03", "15:00"),
        "übermorgen, am Donnerstag, dem 3. Dezember, um 15 Uhr"),
    (Some("in zwei Wochen"), None, TUE, Day("2026-12-15"),
        "am Dienstag, dem 15. Dezember"),
    (Some("in 3 Tagen"), None, TUE, Day("2026-12-04"),
        "am Freitag, dem 4. Dezember"),
    // Calendar dates; a date without a year is its next occurrence.
    (Some("am 12. März"), None, TUE, Day("2027-03-12"),
        "am Freitag, dem 12. März 2027"),
    (Some("12.3."), Some("14 Uhr"), TUE, At("2027-03-12", "14:00"),
        "am Freitag, dem 12. März 2027, um 14 Uhr"),
    (Some("12.03.2027"), Some("Viertel nach zwei"), TUE, At("2027-03-12", "14:15"),
        "am Freitag, dem 12. März 2027, um Viertel nach zwei (14:15 Uhr)"),
    (Some("12.3.27"), None, TUE, Day("2027-03-12"),
        "am Freitag, dem 12. März 2027"),
    (Some("2026-12-15"), Some("11:00"), TUE, At("2026-12-15", "11:00"),
        "am Dienstag, dem 15. Dezember, um 11 Uhr"),
    (Some("Montag, den 7. Dezember"), None, TUE, Day("2026-12-07"),
        "am Montag, dem 7. Dezember"),
    (Some("am 12. Januar"), None, TUE, Day("2027-01-12"),
        "am Dienstag, dem 12. Januar 2027"),
    (Some("am 15."), None, TUE, Day("2026-12-15"),
        "am Dienstag, dem 15. Dezember"),
    (Some("Di, 8.12."), Some("10:30"), TUE, At("2026-12-08", "10:30"),
        "am Dienstag, dem 8. Dezember, um halb elf (10:30 Uhr)"),
    (Some("am zwölften Dezember"), None, TUE, Day("2026-12-12"),
        "am Samstag, dem 12. Dezember"),
    // Spoken times; the half of the day follows the opening hours.
    (None, Some("halb drei"), TUE, At("2026-12-01", "14:30"),
        "heute, am Dienstag, dem 1. Dezember, um halb drei (14:30 Uhr)"),
    (Some("morgen um halb drei"), None, TUE, At("2026-12-02", "14:30"),
        "morgen, am Mittwoch, dem 2. Dezember, um halb drei (14:30 Uhr)"),
    (Some("morgen"), Some("um vier"), TUE, At("2026-12-02", "16:00"),
        "morgen, am Mittwoch, dem 2. Dezember, um 16 Uhr"),
    (Some("morgen"), Some("vierzehn Uhr"), TUE, At("2026-12-02", "14:00"),
        "morgen, am Mittwoch, dem 2. Dezember, um 14 Uhr"),
    (Some("morgen"), Some("14 Uhr 30"), TUE, At("2026-12-02", "14:30"),
        "morgen, am Mittwoch, dem 2. Dezember, um halb drei (14:30 Uhr)"),
    (Some("morgen"), Some("14h"), TUE, At("2026-12-02", "14:00"),
        "morgen, am Mittwoch, dem 2. Dezember, um 14 Uhr"),
    (Some("morgen"), Some("Viertel vor vier"), TUE, At("2026-12-02", "15:45"),
        "morgen, am Mittwoch, dem 2. Dezember, um Viertel vor vier (15:45 Uhr)"),
    (Some("morgen"), Some("drei viertel vier"), TUE, At("2026-12-02", "15:45"),
        "morgen, am Mittwoch, dem 2. Dezember, um Viertel vor vier (15:45 Uhr)"),
    (Some("morgen"), Some("zwölf Uhr"), TUE, At("2026-12-02", "12:00"),
        "morgen, am Mittwoch, dem 2. Dezember, um 12 Uhr"),
    (Some("morgen"), Some("zehn nach neun"), TUE, At("2026-12-02", "09:10"),
        "morgen, am Mittwoch, dem 2. Dezember, um 9:10 Uhr"),
    (Some("morgen"), Some("um sechs"), TUE, At("2026-12-02", "18:00"),
        "morgen, am Mittwoch, dem 2. Dezember, um 18 Uhr"),
    (Some("morgen"), Some("morgens um 7"), TUE, At("2026-12-02", "07:00"),
        "morgen, am Mittwoch, dem 2. Dezember, um 7 Uhr"),
    (Some("morgen"), Some("nachmittags um drei"), TUE, At("2026-12-02", "15:00"),
        "morgen, am Mittwoch, dem 2. Dezember, um 15 Uhr"),
    // Windows.
    (Some("morgen"), Some("ab 14 Uhr"), TUE, Window("2026-12-02", "14:00", "18:00"),
        "morgen, am Mittwoch, dem 2. Dezember, zwischen 14 und 18 Uhr"),
    (Some("morgen"), Some("nach 14 Uhr"), TUE, Window("2026-12-02", "14:00", "18:00"),
        "morgen, am Mittwoch, dem 2. Dezember, zwischen 14 und 18 Uhr"),
    (Some("morgen"), Some("vor 10 Uhr"), TUE, Window("2026-12-02", "08:00", "10:00"),
        "morgen, am Mittwoch, dem 2. Dezember, zwischen 8 und 10 Uhr"),
    (Some("morgen"), Some("bis 11 Uhr"), TUE, Window("2026-12-02", "08:00", "11:00"),
        "morgen, am Mittwoch, dem 2. Dezember, zwischen 8 und 11 Uhr"),
    (Some("morgen"), Some("zwischen 10 und 12"), TUE, Window("2026-12-02", "10:00", "12:00"),
        "morgen, am Mittwoch, dem 2. Dezember, zwischen 10 und 12 Uhr"),
    (Some("morgen"), Some("10-12 Uhr"), TUE, Window("2026-12-02", "10:00", "12:00"),
        "morgen, am Mittwoch, dem 2. Dezember, zwischen 10 und 12 Uhr"),
    (Some("morgen"), Some("zwischen 2 und 4"), TUE, Window("2026-12-02", "14:00", "16:00"),
        "morgen, am Mittwoch, dem 2. Dezember, zwischen 14 und 16 Uhr"),
    // Saturday wishes stand (the alternatives report the closure); "halb drei" on a closed day
    // follows the usual weekly hours.
    (Some("Samstag"), Some("10 Uhr"), TUE, At("2026-12-05", "10:00"),
        "am Samstag, dem 5. Dezember, um 10 Uhr"),
    (Some("Samstag"), Some("um halb drei"), TUE, At("2026-12-05", "14:30"),
        "am Samstag, dem 5. Dezember, um halb drei (14:30 Uhr)"),
    // Questions instead of guesses.
    (Some("Montag, den 8. Dezember"), None, TUE, Ask(Q::WeekdayMismatch),
        "Der 8. Dezember ist ein Dienstag. Meinen Sie Dienstag, den 8. Dezember, oder Montag, den 7. Dezember?"),
    (Some("am 1. Januar 2020"), None, TUE, Ask(Q::InPast),
        "Der 1. Januar 2020 liegt in der Vergangenheit. An welchem Tag möchten Sie kommen?"),
    (Some("gestern"), None, TUE, Ask(Q::InPast),
        "Der 30. November liegt in der Vergangenheit. An welchem Tag möchten Sie kommen?"),
    (Some("heute"), Some("9 Uhr"), TUE, Ask(Q::InPast),
        "Heute um 9 Uhr ist leider schon vorbei. Welche Uhrzeit passt Ihnen stattdessen?"),
    (Some("heute früh"), None, TUE, Ask(Q::InPast),
        "Heute zwischen 8 und 10 Uhr ist leider schon vorbei. Welche Uhrzeit passt Ihnen stattdessen?"),
    (Some("morgen"), Some("halb sieben"), TUE, Ask(Q::AmbiguousTime),
        "Meinen Sie 6:30 Uhr morgens oder 18:30 Uhr abends?"),
    (Some("morgen"), Some("um 7"), TUE, Ask(Q::AmbiguousTime),
        "Meinen Sie 7 Uhr morgens oder 19 Uhr abends?"),
    (Some("morgen"), Some("14 oder 15 Uhr"), TUE, Ask(Q::AmbiguousTime),
        "Welche Uhrzeit ist Ihnen lieber: 14 Uhr oder 15 Uhr?"),
    (Some("morgen"), Some("kurz nach drei"), TUE, Ask(Q::VagueTime),
        "Um wie viel Uhr genau möchten Sie kommen?"),
    (Some("morgen oder übermorgen"), None, TUE, Ask(Q::AmbiguousDate),
        "Meinen Sie Mittwoch, den 2. Dezember, oder Donnerstag, den 3. Dezember?"),
    (Some("Anfang März"), None, TUE, Ask(Q::VagueDay),
        "An welchem Tag genau möchten Sie kommen?"),
    (Some("diese Woche"), None, TUE, Ask(Q::VagueDay),
        "An welchem Tag genau möchten Sie kommen?"),
    (Some("30. Februar"), None, TUE, Ask(Q::InvalidDate),
        "Den 30. Februar gibt es nicht. Welches Datum meinen Sie?"),
    (Some("keine Ahnung"), None, TUE, Ask(Q::NotUnderstood),
        "Entschuldigung, das habe ich nicht verstanden. An welchem Tag und um wie viel Uhr möchten Sie kommen?"),
    (Some("irgendwann"), None, TUE, Ask(Q::NotUnderstood),
        "Entschuldigung, das habe ich nicht verstanden. An welchem Tag und um wie viel Uhr möchten Sie kommen?"),
    (None, None, TUE, Ask(Q::MissingDate),
        "An welchem Tag möchten Sie den Termin?"),
    (Some("morgen"), Some("zwischen 12 und 10"), TUE, Ask(Q::EmptyWindow),
        "Von wann bis wann hätten Sie Zeit?"),
    // Friday afternoon before Christmas.
    (Some("Montag"), Some("9 Uhr"), FRI, At("2026-12-21", "09:00"),
        "am Montag, dem 21. Dezember, um 9 Uhr"),
    (Some("heute"), Some("17:30"), FRI, At("2026-12-18", "17:30"),
        "heute, am Freitag, dem 18. Dezember, um halb sechs (17:30 Uhr)"),
    (Some("heute"), Some("15 Uhr"), FRI, Ask(Q::InPast),
        "Heute um 15 Uhr ist leider schon vorbei. Welche Uhrzeit passt Ihnen stattdessen?"),
    (None, Some("um 17 Uhr"), FRI, At("2026-12-18", "17:00"),
        "heute, am Freitag, dem 18. Dezember, um 17 Uhr"),
    (Some("heute"), Some("abends"), FRI, Window("2026-12-18", "17:00", "18:00"),
        "heute, am Freitag, dem 18. Dezember, zwischen 17 und 18 Uhr"),
    (Some("Freitag"), None, FRI, Day("2026-12-25"),
        "am Freitag, dem 25. Dezember"),
    (Some("morgen"), None, FRI, Day("2026-12-19"),
        "morgen, am Samstag, dem 19. Dezember"),
    (Some("am 24.12."), Some("10 Uhr"), FRI, At("2026-12-24", "10:00"),
        "am Donnerstag, dem 24. Dezember, um 10 Uhr"),
    (Some("nächste Woche Mittwoch"), None, FRI, Day("2026-12-23"),
        "am Mittwoch, dem 23. Dezember"),
    (Some("am 12. Januar"), None, FRI, Day("2027-01-12"),
        "am Dienstag, dem 12. Januar 2027"),
    // The turn of the year.
    (Some("morgen"), None, NYE, Day("2027-01-01"),
        "morgen, am Freitag, dem 1. Januar 2027"),
    (Some("nächste Woche Dienstag"), None, NYE, Day("2027-01-05"),
        "am Dienstag, dem 5. Januar 2027"),
    (Some("Dienstag nächste Woche"), Some("10 Uhr"), NYE, At("2027-01-05", "10:00"),
        "am Dienstag, dem 5. Januar 2027, um 10 Uhr"),
    (Some("nächste Woche"), None, NYE, Day("2027-01-04"),
        "am Montag, dem 4. Januar 2027"),
    (Some("Dienstag"), None, NYE, Day("2027-01-05"),
        "am Dienstag, dem 5. Januar 2027"),
    (Some("am 2. Januar"), None, NYE, Day("2027-01-02"),
        "übermorgen, am Samstag, dem 2. Januar 2027"),
    (Some("2.1."), Some("halb zehn"), NYE, At("2027-01-02", "09:30"),
        "übermorgen, am Samstag, dem 2. Januar 2027, um halb zehn (9:30 Uhr)"),
    (Some("heute"), Some("16 Uhr"), NYE, At("2026-12-31", "16:00"),
        "heute, am Donnerstag, dem 31. Dezember, um 16 Uhr"),
    (Some("am 31. Dezember"), None, NYE, Day("2026-12-31"),
        "heute, am Donnerstag, dem 31. Dezember"),
    (Some("am 30. Dezember"), None, NYE, Day("2027-12-30"),
        "am Donnerstag, dem 30. Dezember 2027"),
    // The DST weekends.
    (Some("Montag"), Some("um 9"), SPRING, At("2026-03-30", "09:00"),
        "übermorgen, am Montag, dem 30. März, um 9 Uhr"),
    (Some("morgen"), Some("9 Uhr"), SPRING, At("2026-03-29", "09:00"),
        "morgen, am Sonntag, dem 29. März, um 9 Uhr"),
    (Some("morgen"), Some("02:30"), SPRING, Ask(Q::NonexistentTime),
        "Wegen der Zeitumstellung gibt es am 29. März die Uhrzeit 2:30 Uhr nicht. Welche Uhrzeit möchten Sie \
         stattdessen?"),
    (Some("morgen"), Some("halb drei"), SPRING, At("2026-03-29", "14:30"),
        "morgen, am Sonntag, dem 29. März, um halb drei (14:30 Uhr)"),
    (Some("Montag"), Some("um 9"), AUTUMN, At("2026-10-26", "09:00"),
        "übermorgen, am Montag, dem 26. Oktober, um 9 Uhr"),
    (Some("morgen"), Some("02:30"), AUTUMN, At("2026-10-25", "02:30"),
        "morgen, am Sonntag, dem 25. Oktober, um 2:30 Uhr"),
    (Some("heute"), Some("11 Uhr"), AUTUMN, At("2026-10-24", "11:00"),
        "heute, am Samstag, dem 24. Oktober, um 11 Uhr"),
    // Closing time.
    (Some("heute"), Some("18 Uhr"), CLOSING, At("2026-12-07", "18:00"),
        "heute, am Montag, dem 7. Dezember, um 18 Uhr"),
    (Some("heute"), Some("um sechs"), CLOSING, At("2026-12-07", "18:00"),
        "heute, am Montag, dem 7. Dezember, um 18 Uhr"),
    (Some("heute"), Some("nachmittags"), CLOSING, Window("2026-12-07", "12:00", "18:00"),
        "heute, am Montag, dem 7. Dezember, zwischen 12 und 18 Uhr"),
];

fn branch() -> BranchCalendar {
    serde_json::from_value(serde_json::json!({
        "time_zone": "Europe/Berlin",
        "opening_hours": {
            "mon": ["08:00-12:00", "13:00-18:00"],
            "tue": ["08:00-12:00", "13:00-18:00"],
            "wed": ["08:00-12:00", "13:00-18:00"],
            "thu": ["08:00-12:00", "13:00-18:00"],
            "fri": ["08:00-12:00", "13:00-18:00"],
            "sat": [],
        },
        "closures": [
            {"date": "2026-12-24", "reason": "Heiligabend"},
            {"from": "2026-12-25", "to": "2026-12-26"},
            {"date": "2027-01-01", "reason": "Neujahr"},
        ],
    }))
    .unwrap()
}

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn time(s: &str) -> NaiveTime {
    NaiveTime::parse_from_str(s, "%H:%M").unwrap()
}

fn expected_wish(e: Expect) -> Option<Wish> {
    Some(match e {
        At(d, t) => Wish {
            date: date(d),
            time: TimeWish::Exact(time(t)),
        },
        Window(d, f, t) => Wish {
            date: date(d),
            time: TimeWish::Window {
                from: time(f),
                to: time(t),
            },
        },
        Day(d) => Wish {
            date: date(d),
            time: TimeWish::Unspecified,
        },
        Ask(_) => return None,
    })
}

#[test]
fn german_expressions() {
    assert!(ROWS.len() >= 60, "the table should cover at least 60 expressions");
    let cal = branch();
    let mut failures = Vec::new();
    for (i, &(datum, uhrzeit, now, expect, spoken)) in ROWS.iter().enumerate() {
        let now: DateTime<Utc> = now.parse().unwrap();
        let today = cal.today(now);
        let got = parse_wish(datum, uhrzeit, now, &cal);
        let (ok, said) = match (&got, expect) {
            (Ok(wish), _) => (expected_wish(expect) == Some(*wish), speak_wish(wish, today, &cal)),
            (Err(q), Ask(kind)) => (q.kind == kind, q.text.clone()),
            (Err(q), _) => (false, q.text.clone()),
        };
        if !ok || said != spoken {
            failures.push(format!(
                "row {i}: {datum:?} / {uhrzeit:?} at {now}\n  expected {expect:?} \"{spoken}\"\n  \
                 got      {got:?} \"{said}\""
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n{}",
        failures.len(),
        ROWS.len(),
        failures.join("\n")
    );
}

#[test]
fn dst_weekends_resolve_to_the_right_instants() {
    let cal = branch();
    let instant = |datum: &str, uhrzeit: &str, now: &str| -> DateTime<Utc> {
        let wish = parse_wish(Some(datum), Some(uhrzeit), now.parse().unwrap(), &cal).unwrap();
        let TimeWish::Exact(t) = wish.time else {
            panic!("{wish:?}")
        };
        gateway_domain::appointments::calendar::local_time::to_instant(cal.tz, wish.date.and_time(t)).unwrap()
    };
    assert_eq!(
        instant("Montag", "um 9", SPRING).to_rfc3339(),
        "2026-03-30T07:00:00+00:00"
    );
    assert_eq!(
        instant("Montag", "um 9", AUTUMN).to_rfc3339(),
        "2026-10-26T08:00:00+00:00"
    );
    assert_eq!(
        instant("morgen", "9 Uhr", SPRING).to_rfc3339(),
        "2026-03-29T07:00:00+00:00"
    );
    assert_eq!(
        instant("morgen", "9 Uhr", AUTUMN).to_rfc3339(),
        "2026-10-25T08:00:00+00:00"
    );
    // Ambiguous 02:30 on the autumn night: the earlier (summer-time) instant.
    assert_eq!(
        instant("morgen", "02:30", AUTUMN).to_rfc3339(),
        "2026-10-25T00:30:00+00:00"
    );
}
