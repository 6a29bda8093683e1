//! Phrases: finds the date references and time references in the tokens, without knowing today
//! or the branch. Dates are read first (so "morgen" is settled before times are read), then times
//! on the remaining tokens; whatever is left is checked for words that would change the meaning
//! (negation, "Anfang/Mitte/Ende", unread numbers) so that we ask instead of guessing.

use chrono::Weekday;

use super::lexicon::{DayPart, Field, Token, day_part, month, number, ordinal_word, weekday, weekday_abbreviation};

/// Which week a weekday is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WeekSel {
    /// The next occurrence strictly after today ("Dienstag", "nächsten Dienstag").
    Next,
    /// The next occurrence plus n weeks ("übernächsten Dienstag": n = 1).
    NextPlus(i64),
    /// The weekday of the ISO week n weeks from this one ("Dienstag nächste Woche": n = 1).
    OfWeek(i64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DateRef {
    /// Days from today: heute 0, morgen 1, gestern −1.
    Relative(i64),
    Weekday {
        day: Weekday,
        week: WeekSel,
    },
    /// Monday of the week n weeks from this one ("nächste Woche": 1).
    WeekStart(i64),
    DayMonth {
        day: u32,
        month: u32,
        year: Option<i32>,
    },
    /// "am 12." — the next 12th of a month.
    DayOnly(u32),
}

/// A clock time as said: `fixed` when it cannot be the other half of the day (14:00, 08:00 written
/// with a leading zero, 0 Uhr); otherwise `hour` is 0–11 and may mean `hour + 12`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Clock {
    pub hour: u32,
    pub minute: u32,
    pub fixed: bool,
}

impl Clock {
    /// From the hour as spoken (0–23) and minutes.
    fn spoken(hour: u32, minute: u32, leading_zero: bool) -> Option<Self> {
        if hour > 23 || minute > 59 {
            return None;
        }
        let fixed = hour >= 13 || hour == 0 || leading_zero;
        Some(Self {
            hour: if fixed { hour } else { hour % 12 },
            minute,
            fixed,
        })
    }

    /// "halb drei", "Viertel vor drei": minutes before the spoken hour (1–24).
    fn before(spoken_hour: u32, minutes_before: u32) -> Option<Self> {
        if !(1..=24).contains(&spoken_hour) || minutes_before == 0 || minutes_before >= 60 {
            return None;
        }
        let hour = spoken_hour - 1;
        let fixed = spoken_hour >= 13;
        Some(Self {
            hour: if fixed { hour } else { hour % 12 },
            minute: 60 - minutes_before,
            fixed,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimeRef {
    At(Clock),
    From(Clock),
    Until(Clock),
    Between(Clock, Clock),
    Part(DayPart),
}

/// Everything read from the two inputs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Phrase {
    pub dates: Vec<DateRef>,
    pub times: Vec<TimeRef>,
    /// "kurz nach drei", "nachts", "später".
    pub vague_time: bool,
    /// "Anfang März", "Mitte nächster Woche", "diese Woche", "am Wochenende".
    pub vague_day: bool,
    /// Negations or numbers and calendar words we could not place.
    pub not_understood: bool,
    /// No tokens at all.
    pub empty: bool,
}

const NEXT: &[&str] = &[
    "naechste",
    "naechsten",
    "naechster",
    "nachste",
    "nachsten",
    "kommende",
    "kommenden",
    "kommender",
    "folgende",
];
const AFTER_NEXT: &[&str] = &[
    "uebernaechste",
    "uebernaechsten",
    "uebernaechster",
    "ubernachste",
    "ubernachsten",
];
const THIS: &[&str] = &["diese", "dieser", "diesen", "dieses"];
const NEGATION: &[&str] = &["nicht", "kein", "keine", "keinen", "keiner", "ausser", "ohne"];
const VAGUE_DAY: &[&str] = &[
    "anfang",
    "mitte",
    "ende",
    "wochenende",
    "bald",
    "demnaechst",
    "woche",
    "wochen",
];
const VAGUE_TIME: &[&str] = &["kurz", "spaet", "spaeter", "frueher", "zeitig", "nacht", "nachts"];
const CALENDAR_WORDS: &[&str] = &["tag", "tage", "tagen", "monat", "monats", "monate", "jahr", "jahres"];
const ARTICLES: &[&str] = &["ein", "eine", "einer", "einem", "einen"];
const DAY_WORDS: &[&str] = &[
    "heute",
    "heut",
    "morgen",
    "uebermorgen",
    "ubermorgen",
    "gestern",
    "vorgestern",
];

struct Scan<'a> {
    toks: &'a [Token],
    used: Vec<bool>,
    phrase: Phrase,
}

impl<'a> Scan<'a> {
    /// The unused word at `i`.
    fn w(&self, i: usize) -> Option<&'a str> {
        let toks: &'a [Token] = self.toks;
        toks.get(i).filter(|_| !self.used[i]).map(|t| t.text.as_str())
    }

    fn is(&self, i: usize, words: &[&str]) -> bool {
        self.w(i).is_some_and(|w| words.contains(&w))
    }

    fn field(&self, i: usize) -> Option<Field> {
        self.toks.get(i).map(|t| t.field)
    }

    fn take(&mut self, from: usize, to: usize) {
        for u in &mut self.used[from..to.min(self.toks.len())] {
            *u = true;
        }
    }
}

/// Reads both inputs' tokens.
pub(crate) fn analyse(toks: &[Token]) -> Phrase {
    let mut s = Scan {
        toks,
        used: vec![false; toks.len()],
        phrase: Phrase {
            empty: toks.is_empty(),
            ..Phrase::default()
        },
    };
    for i in 0..toks.len() {
        if s.w(i).is_some()
            && let Some((date, end)) = date_at(&s, i)
        {
            s.take(i, end);
            s.phrase.dates.push(date);
        }
    }
    for i in 0..toks.len() {
        if s.w(i).is_some()
            && let Some((time, end)) = time_at(&mut s, i)
        {
            s.take(i, end);
            if let Some(t) = time {
                s.phrase.times.push(t);
            }
        }
    }
    check_leftovers(&mut s);
    s.phrase
}

fn date_at(s: &Scan, i: usize) -> Option<(DateRef, usize)> {
    let w = s.w(i)?;
    if let Some(found) = week_phrase(s, i) {
        return Some(found);
    }
    if w == "in"
        && let Some(n) = s.w(i + 1).and_then(number)
    {
        match s.w(i + 2) {
            Some("tag" | "tage" | "tagen") => return Some((DateRef::Relative(i64::from(n)), i + 3)),
            Some("woche" | "wochen") => return Some((DateRef::Relative(7 * i64::from(n)), i + 3)),
            _ => {}
        }
    }
    let relative = match w {
        "heute" | "heut" => Some(0),
        "uebermorgen" | "ubermorgen" => Some(2),
        "gestern" => Some(-1),
        "vorgestern" => Some(-2),
        // "heute morgen", "Dienstag morgen", "morgen morgen": the second "morgen" is the morning.
        "morgen" if !follows_day_word(s, i) => Some(1),
        _ => None,
    };
    if let Some(days) = relative {
        return Some((DateRef::Relative(days), i + 1));
    }
    if (NEXT.contains(&w) || THIS.contains(&w) || AFTER_NEXT.contains(&w))
        && let Some(day) = s.w(i + 1).and_then(weekday)
    {
        let week = if AFTER_NEXT.contains(&w) {
            WeekSel::NextPlus(1)
        } else {
            WeekSel::Next
        };
        return Some((DateRef::Weekday { day, week }, i + 2));
    }
    if let Some(day) = weekday(w) {
        return Some(weekday_with_week(s, day, i + 1));
    }
    if let Some(day) = weekday_abbreviation(w)
        && s.field(i) == Some(Field::Date)
        && s.w(i + 1).is_some_and(|n| n.starts_with(|c: char| c.is_ascii_digit()))
    {
        return Some((
            DateRef::Weekday {
                day,
                week: WeekSel::Next,
            },
            i + 1,
        ));
    }
    numeric_date(s, i)
}

fn follows_day_word(s: &Scan, i: usize) -> bool {
    let Some(prev) = i.checked_sub(1).and_then(|p| s.toks.get(p)) else {
        return false;
    };
    if s.toks.get(i).map(|t| t.field) != Some(prev.field) {
        return false;
    }
    let p = prev.text.as_str();
    DAY_WORDS.contains(&p)
        || weekday(p).is_some()
        || month(p).is_some()
        || (p.starts_with(|c: char| c.is_ascii_digit()) && p.ends_with('.'))
}

/// "nächste Woche", "nächste Woche Dienstag", "übernächste Woche am Freitag", "diese Woche".
fn week_phrase(s: &Scan, i: usize) -> Option<(DateRef, usize)> {
    let weeks = week_modifier(s, i)?;
    if !s.is(i + 1, &["woche"]) {
        return None;
    }
    let mut j = i + 2;
    if s.is(j, &["am"]) {
        j += 1;
    }
    if let Some(day) = s.w(j).and_then(weekday) {
        return Some((
            DateRef::Weekday {
                day,
                week: WeekSel::OfWeek(weeks),
            },
            j + 1,
        ));
    }
    Some((DateRef::WeekStart(weeks), i + 2))
}

fn week_modifier(s: &Scan, i: usize) -> Option<i64> {
    if s.is(i, NEXT) {
        Some(1)
    } else if s.is(i, AFTER_NEXT) {
        Some(2)
    } else if s.is(i, THIS) {
        Some(0)
    } else {
        None
    }
}

/// A weekday, possibly followed by "[in der] nächsten Woche".
fn weekday_with_week(s: &Scan, day: Weekday, mut j: usize) -> (DateRef, usize) {
    let start = j;
    while s.is(j, &["in", "der", "im", "am"]) {
        j += 1;
    }
    if let Some(weeks) = week_modifier(s, j)
        && s.is(j + 1, &["woche"])
    {
        return (
            DateRef::Weekday {
                day,
                week: WeekSel::OfWeek(weeks),
            },
            j + 2,
        );
    }
    (
        DateRef::Weekday {
            day,
            week: WeekSel::Next,
        },
        start,
    )
}

/// ISO, "12.3.", "12.03.2027", "12.3.27", "12. März [2027]", "zwölften März", "am 12.".
fn numeric_date(s: &Scan, i: usize) -> Option<(DateRef, usize)> {
    let w = s.w(i)?;
    let in_date_field = s.field(i) == Some(Field::Date);
    if let Some(date) = iso(w) {
        return Some((date, i + 1));
    }
    if let Some(date) = dotted(w, in_date_field && !s.is(i + 1, &["uhr"])) {
        return Some((date, i + 1));
    }
    let day = day_number(w)?;
    if let Some(m) = s.w(i + 1).and_then(month) {
        let year = s.w(i + 2).filter(|y| y.len() == 4).and_then(|y| y.parse::<i32>().ok());
        let end = if year.is_some() { i + 3 } else { i + 2 };
        return Some((DateRef::DayMonth { day, month: m, year }, end));
    }
    let after_article = i > 0
        && s.toks
            .get(i - 1)
            .is_some_and(|t| ["am", "den", "dem", "zum"].contains(&t.text.as_str()));
    let dotted_or_ordinal = w.ends_with('.') || ordinal_word(w).is_some();
    if (dotted_or_ordinal && (in_date_field || after_article)) || (in_date_field && after_article) {
        return Some((DateRef::DayOnly(day), i + 1));
    }
    None
}

/// "12.", "12", "zwölften" as a day of the month.
fn day_number(w: &str) -> Option<u32> {
    let digits = w.strip_suffix('.').unwrap_or(w);
    let n = if !digits.is_empty() && digits.len() <= 2 && digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse().ok()?
    } else {
        ordinal_word(w)?
    };
    (1..=31).contains(&n).then_some(n)
}

fn iso(w: &str) -> Option<DateRef> {
    let mut parts = w.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 {
        return None;
    }
    Some(DateRef::DayMonth {
        day: d.parse().ok()?,
        month: m.parse().ok()?,
        year: Some(y.parse().ok()?),
    })
}

/// "12.3.", "12.03.2027", "12.3.27"; "12.03" without trailing dot only when `loose`.
fn dotted(w: &str, loose: bool) -> Option<DateRef> {
    let parts: Vec<&str> = w.split('.').collect();
    let (d, m, y) = match parts.as_slice() {
        [d, m, ""] => (*d, *m, None),
        [d, m] if loose => (*d, *m, None),
        [d, m, y] | [d, m, y, ""] if !y.is_empty() => (*d, *m, Some(*y)),
        _ => return None,
    };
    let digits = |t: &str, max_len: usize| !t.is_empty() && t.len() <= max_len && t.bytes().all(|b| b.is_ascii_digit());
    if !digits(d, 2) || !digits(m, 2) {
        return None;
    }
    let (day, month): (u32, u32) = (d.parse().ok()?, m.parse().ok()?);
    if !(1..=31).contains(&day) || !(1..=12).contains(&month) {
        return None;
    }
    let year = match y {
        None => None,
        Some(y) if digits(y, 2) => Some(2000 + y.parse::<i32>().ok()?),
        Some(y) if digits(y, 4) => Some(y.parse::<i32>().ok()?),
        Some(_) => return None,
    };
    Some(DateRef::DayMonth { day, month, year })
}

/// A time reference at `i`: `Some((None, end))` consumes filler-like tokens that carry no time
/// themselves ("kurz nach drei" sets the vague flag).
fn time_at(s: &mut Scan, i: usize) -> Option<(Option<TimeRef>, usize)> {
    let w = s.w(i)?;
    let at = |t: TimeRef, end: usize| Some((Some(t), end));
    match w {
        "kurz" if s.is(i + 1, &["nach", "vor"]) => {
            s.phrase.vague_time = true;
            let end = clock(s, i + 2, true).map_or(i + 2, |(_, e)| e);
            return Some((None, end));
        }
        "zwischen" | "von" => {
            let (a, j) = clock(s, i + 1, true)?;
            let joiner: &[&str] = if w == "zwischen" { &["und", "bis"] } else { &["bis"] };
            if s.is(j, joiner)
                && let Some((b, end)) = clock(s, j + 1, true)
            {
                return at(TimeRef::Between(a, b), end);
            }
            return None;
        }
        "ab" | "nach" | "fruehestens" | "erst" => {
            let j = if s.is(i + 1, &["um", "ab"]) { i + 2 } else { i + 1 };
            let (c, end) = clock(s, j, true)?;
            return at(TimeRef::From(c), end);
        }
        "vor" | "bis" | "spaetestens" => {
            let j = if s.is(i + 1, &["um", "bis"]) { i + 2 } else { i + 1 };
            let (c, end) = clock(s, j, true)?;
            return at(TimeRef::Until(c), end);
        }
        "um" | "gegen" | "ca" | "circa" | "etwa" | "ungefaehr" => {
            let j = if s.is(i + 1, &["um", "gegen"]) { i + 2 } else { i + 1 };
            // "gegen Mittag" has no clock: the part of the day is read at the next token.
            let (c, end) = clock(s, j, true)?;
            return at(TimeRef::At(c), end);
        }
        "mitternacht" => {
            return at(
                TimeRef::At(Clock {
                    hour: 0,
                    minute: 0,
                    fixed: true,
                }),
                i + 1,
            );
        }
        "morgen" => return at(TimeRef::Part(DayPart::Early), i + 1),
        _ => {}
    }
    if let Some(part) = day_part(w) {
        return at(TimeRef::Part(part), i + 1);
    }
    let bare = s.field(i) == Some(Field::Time);
    let (a, j) = clock(s, i, bare)?;
    if s.is(j, &["bis"])
        && let Some((b, end)) = clock(s, j + 1, true)
    {
        return at(TimeRef::Between(a, b), end);
    }
    at(TimeRef::At(a), j)
}

/// An hour as spoken in "halb drei", "Viertel nach zwei": 1–24, digits or words.
fn spoken_hour(w: Option<&str>) -> Option<u32> {
    let w = w?;
    if ARTICLES.contains(&w) && w != "ein" {
        return None;
    }
    number(w).filter(|h| (1..=24).contains(h))
}

/// Minutes as spoken in "zehn nach drei": 1–29.
fn spoken_minutes(w: Option<&str>) -> Option<u32> {
    let w = w?;
    if ARTICLES.contains(&w) {
        return None;
    }
    number(w).filter(|m| (1..=29).contains(m))
}

/// A clock expression at `i`; `bare` allows a lone number ("um vier", "ab 14").
fn clock(s: &Scan, i: usize, bare: bool) -> Option<(Clock, usize)> {
    let w = s.w(i)?;
    // Quarter and half hours, colloquial forms.
    match w {
        "viertel" => {
            return match s.w(i + 1) {
                Some("nach") => {
                    let h = spoken_hour(s.w(i + 2))?;
                    Some((Clock::spoken(h % 24, 15, false)?, skip_uhr(s, i + 3)))
                }
                Some("vor") => Some((Clock::before(spoken_hour(s.w(i + 2))?, 15)?, skip_uhr(s, i + 3))),
                // "viertel vier" = 3:15 (eastern/southern usage)
                next => Some((Clock::before(spoken_hour(next)?, 45)?, skip_uhr(s, i + 2))),
            };
        }
        "dreiviertel" => return Some((Clock::before(spoken_hour(s.w(i + 1))?, 15)?, skip_uhr(s, i + 2))),
        "drei" if s.is(i + 1, &["viertel"]) => {
            return Some((Clock::before(spoken_hour(s.w(i + 2))?, 15)?, skip_uhr(s, i + 3)));
        }
        "halb" => return Some((Clock::before(spoken_hour(s.w(i + 1))?, 30)?, skip_uhr(s, i + 2))),
        _ => {}
    }
    // "zehn nach drei", "fünf vor halb drei"
    if let Some(m) = spoken_minutes(Some(w))
        && s.is(i + 1, &["nach", "vor"])
    {
        let after = s.is(i + 1, &["nach"]);
        if s.is(i + 2, &["halb"]) {
            let h = spoken_hour(s.w(i + 3))?;
            let before = if after { 30 - m } else { 30 + m };
            return Some((Clock::before(h, before)?, skip_uhr(s, i + 4)));
        }
        if let Some(h) = spoken_hour(s.w(i + 2)).filter(|h| *h <= 23) {
            let c = if after {
                Clock::spoken(h, m, false)?
            } else {
                Clock::before(h, m)?
            };
            return Some((c, skip_uhr(s, i + 3)));
        }
    }
    // "14:30", "14.30", "9:05 Uhr"
    if let Some((h, m)) = w.split_once([':', '.'])
        && let Some(c) = digits_clock(h, m)
    {
        return Some((c, skip_uhr(s, i + 1)));
    }
    // "14 Uhr", "14 Uhr 30", "vierzehn Uhr dreißig"
    let hour = if ARTICLES.contains(&w) && w != "ein" {
        None
    } else {
        number(w)
    };
    let leading_zero = w.len() == 2 && w.starts_with('0');
    if let Some(h) = hour
        && s.is(i + 1, &["uhr"])
    {
        let minute = s.w(i + 2).filter(|m| !ARTICLES.contains(m)).and_then(number);
        let end = if minute.is_some() { i + 3 } else { i + 2 };
        return Some((Clock::spoken(h, minute.unwrap_or(0), leading_zero)?, end));
    }
    if bare && let Some(h) = hour.filter(|_| !ARTICLES.contains(&w)) {
        return Some((Clock::spoken(h, 0, leading_zero)?, i + 1));
    }
    None
}

fn skip_uhr(s: &Scan, j: usize) -> usize {
    if s.is(j, &["uhr"]) { j + 1 } else { j }
}

fn digits_clock(h: &str, m: &str) -> Option<Clock> {
    let ok = |t: &str| !t.is_empty() && t.len() <= 2 && t.bytes().all(|b| b.is_ascii_digit());
    if !ok(h) || m.len() != 2 || !ok(m) {
        return None;
    }
    Clock::spoken(h.parse().ok()?, m.parse().ok()?, h.len() == 2 && h.starts_with('0'))
}

fn check_leftovers(s: &mut Scan) {
    for i in 0..s.toks.len() {
        let Some(w) = s.w(i) else { continue };
        if NEGATION.contains(&w) || CALENDAR_WORDS.contains(&w) {
            s.phrase.not_understood = true;
        } else if VAGUE_DAY.contains(&w) || month(w).is_some() {
            s.phrase.vague_day = true;
        } else if VAGUE_TIME.contains(&w) {
            s.phrase.vague_time = true;
        } else if !ARTICLES.contains(&w) && (number(w).is_some() || w.starts_with(|c: char| c.is_ascii_digit())) {
            s.phrase.not_understood = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::lexicon::tokenize;
    use super::*;

    fn read(date: &str, time: &str) -> Phrase {
        let mut toks = Vec::new();
        tokenize(date, Field::Date, &mut toks);
        tokenize(time, Field::Time, &mut toks);
        analyse(&toks)
    }

    fn clock(hour: u32, minute: u32, fixed: bool) -> Clock {
        Clock { hour, minute, fixed }
    }

    #[test]
    fn morgen_is_tomorrow_unless_after_a_day_word() {
        let p = read("morgen nachmittag", "");
        assert_eq!(p.dates, [DateRef::Relative(1)]);
        assert_eq!(p.times, [TimeRef::Part(DayPart::Afternoon)]);
        let p = read("heute morgen", "");
        assert_eq!(p.dates, [DateRef::Relative(0)]);
        assert_eq!(p.times, [TimeRef::Part(DayPart::Early)]);
        let p = read("Dienstag morgen", "");
        assert_eq!(
            p.dates,
            [DateRef::Weekday {
                day: Weekday::Tue,
                week: WeekSel::Next
            }]
        );
        assert_eq!(p.times, [TimeRef::Part(DayPart::Early)]);
    }

    #[test]
    fn spoken_clock_forms() {
        assert_eq!(read("", "halb drei").times, [TimeRef::At(clock(2, 30, false))]);
        assert_eq!(read("", "Viertel nach zwei").times, [TimeRef::At(clock(2, 15, false))]);
        assert_eq!(read("", "Viertel vor vier").times, [TimeRef::At(clock(3, 45, false))]);
        assert_eq!(read("", "drei viertel vier").times, [TimeRef::At(clock(3, 45, false))]);
        assert_eq!(read("", "dreiviertel vier").times, [TimeRef::At(clock(3, 45, false))]);
        assert_eq!(read("", "viertel vier").times, [TimeRef::At(clock(3, 15, false))]);
        assert_eq!(read("", "zehn nach drei").times, [TimeRef::At(clock(3, 10, false))]);
        assert_eq!(read("", "fünf vor halb drei").times, [TimeRef::At(clock(2, 25, false))]);
        assert_eq!(read("", "14 Uhr 30").times, [TimeRef::At(clock(14, 30, true))]);
        assert_eq!(
            read("", "vierzehn Uhr dreißig").times,
            [TimeRef::At(clock(14, 30, true))]
        );
        assert_eq!(read("", "08:00").times, [TimeRef::At(clock(8, 0, true))]);
        assert_eq!(read("", "halb eins").times, [TimeRef::At(clock(0, 30, false))]);
        assert_eq!(read("", "um zwölf").times, [TimeRef::At(clock(0, 0, false))]);
    }

    #[test]
    fn ranges() {
        assert_eq!(
            read("", "zwischen 10 und 12").times,
            [TimeRef::Between(clock(10, 0, false), clock(0, 0, false))]
        );
        assert_eq!(read("", "ab 14 Uhr").times, [TimeRef::From(clock(14, 0, true))]);
        assert_eq!(read("", "nach 14 Uhr").times, [TimeRef::From(clock(14, 0, true))]);
        assert_eq!(read("", "vor 10 Uhr").times, [TimeRef::Until(clock(10, 0, false))]);
        assert_eq!(
            read("", "10-12 Uhr").times,
            [TimeRef::Between(clock(10, 0, false), clock(0, 0, false))]
        );
    }

    #[test]
    fn leftovers_raise_doubts() {
        assert!(read("nicht am Montag", "").not_understood);
        assert!(read("Anfang März", "").vague_day);
        assert!(read("", "kurz nach drei").vague_time);
        assert!(read("Dienstag 17", "").not_understood);
        assert!(!read("Dienstag gerne", "").not_understood);
        assert!(read("", "").empty);
    }
}
