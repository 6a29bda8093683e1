//! Is the wish free, and if not, what do we offer instead? Works on the free slots of ONE backend
//! fetch for the search window; every offer is one of those slots, so nothing is ever offered that
//! the calendar did not confirm, and nothing off the slot grid.
//!
//! Rules, decided and tested:
//! - An exact wish is free only when a slot starts exactly then. A wish off the grid (14:10 on a
//!   15-minute grid) is said to be off the grid and the nearest grid slots are offered — never
//!   silently "close enough".
//! - Slots are dropped when they start before `now + min_notice`, lie outside the branch's opening
//!   hours (closures included: the backend may not know our holidays) or are off the grid.
//! - Strategies (as in the original system, but each checked against the real slots): same day
//!   within ±2 h (at most 2 of these, so another day is heard too), the next open day at the same
//!   time ±30 min, the same weekday a week later ±30 min, the next day with anything free; when
//!   that gives too few, the best slot of each following day. A day that has free slots but none
//!   near the wished time is never offered as "same time": its offer names its own time. A
//!   caller's window ("nachmittags", "ab 14 Uhr") restricts every strategy; nothing in the window
//!   → `NothingFree` (the caller gets a callback offer), never an offer outside what they said.
//! - Offers are ranked by closeness to the wish: first by days away, then by minutes from the
//!   wished time. Alternatives are searched from the wished day on, not before it.
//! - A preferred staff member's slots come first; other staff fill up the remaining places.
//! - A wish for a closed day is answered "closed" with offers on open days; the next open day's
//!   offer is labelled `next_workday` with its own date, never as "the same time".

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, TimeDelta, Utc};
use serde::Serialize;

use crate::appointments::calendar::hours::BranchCalendar;
use crate::appointments::calendar::local_time::{Span, local_datetime, to_instant};
use crate::appointments::calendar::slots::{Slot, StaffId, on_grid};
use crate::appointments::speech::parse::{TimeWish, Wish};
use crate::appointments::speech::speak::{
    capitalize, is_relative_day, join_oder, speak_clock, speak_confirmation, speak_date, speak_offer,
};
use crate::appointments::speech::speak::{speak_time_at, speak_window};

/// Tunables of the search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchPolicy {
    /// How many offers at most (2–3 is what a caller can keep in mind).
    pub max_offers: usize,
    /// At most this many offers on the wished day when other days have something.
    pub max_same_day: usize,
    pub grid_step: TimeDelta,
    pub min_notice: TimeDelta,
    /// Same-day offers for an exact wish lie within this distance.
    pub same_day_radius: TimeDelta,
    /// "Same time" on another day means within this distance.
    pub same_time_tolerance: TimeDelta,
    /// Offers for a window are at least this far apart ("12, 13 or 14 Uhr", not "12:00, 12:15, 12:30").
    pub spread: TimeDelta,
}

impl Default for SearchPolicy {
    fn default() -> Self {
        Self {
            max_offers: 3,
            max_same_day: 2,
            grid_step: TimeDelta::minutes(15),
            min_notice: TimeDelta::zero(),
            same_day_radius: TimeDelta::hours(2),
            same_time_tolerance: TimeDelta::minutes(30),
            spread: TimeDelta::hours(1),
        }
    }
}

/// How an offer relates to the wish.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OfferKind {
    AsRequested,
    SameDay,
    NextWorkday,
    NextWeek,
    NextAvailable,
}

/// One bookable offer: machine values and how the agent says it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Offer {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The start in the branch's local time with its offset, e.g. `2026-12-08T14:30:00+01:00`.
    pub local_start: DateTime<FixedOffset>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub staff: Option<StaffId>,
    pub kind: OfferKind,
    /// "morgen um halb drei", "am Donnerstag, dem 10. Dezember, um 14 Uhr".
    pub spoken: String,
}

/// Why the wish itself cannot be booked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Miss {
    Taken,
    OffGrid,
    Closed,
    OutsideHours,
    TooSoon,
    InPast,
    /// Nothing in the caller's window on the wished day.
    WindowFull,
    /// Nothing at all on the wished day (no time was given).
    DayFull,
    /// Free, but not with the preferred staff member.
    PreferredStaffBusy,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// The exact wish is free.
    Available { offer: Offer },
    /// A window or a day without time: free times on that day.
    Options { offers: Vec<Offer> },
    /// The wish is not bookable; these are the closest alternatives.
    Alternatives { reason: Miss, offers: Vec<Offer> },
    /// Nothing free in the searched window (and the caller's time window): offer a callback.
    NothingFree { reason: Option<Miss> },
}

/// The outcome plus one German sentence for the agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Answer {
    #[serde(flatten)]
    pub outcome: Outcome,
    pub message: String,
}

impl Answer {
    /// All offers in order (the available one, options or alternatives).
    pub fn offers(&self) -> &[Offer] {
        match &self.outcome {
            Outcome::Available { offer } => std::slice::from_ref(offer),
            Outcome::Options { offers } | Outcome::Alternatives { offers, .. } => offers,
            Outcome::NothingFree { .. } => &[],
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Candidate<'a> {
    slot: &'a Slot,
    date: NaiveDate,
    time: NaiveTime,
    preferred: bool,
}

/// What the strategies aim at.
#[derive(Debug, Clone, Copy)]
struct Target {
    date: NaiveDate,
    time: NaiveTime,
    window: Option<(NaiveTime, NaiveTime)>,
    exact: bool,
}

impl Target {
    fn admits(&self, c: &Candidate) -> bool {
        self.window.is_none_or(|(from, to)| from <= c.time && c.time < to)
    }

    /// (days away, minutes away from the wished time or window)
    fn distance(&self, c: &Candidate) -> (i64, i64) {
        let days = (c.date - self.date).num_days().abs();
        let minutes = match self.window {
            Some((from, _)) if c.time < from => (from - c.time).num_minutes(),
            Some((_, to)) if c.time >= to => (c.time - to).num_minutes() + 1,
            Some(_) => 0,
            None if self.exact => (c.time - self.time).num_minutes().abs(),
            None => 0,
        };
        (days, minutes)
    }
}

/// The free slots of one fetch, filtered and indexed for answering wishes.
pub struct SlotSearch<'a> {
    calendar: &'a BranchCalendar,
    now: DateTime<Utc>,
    today: NaiveDate,
    policy: &'a SearchPolicy,
    has_preference: bool,
    candidates: Vec<Candidate<'a>>,
}

impl<'a> SlotSearch<'a> {
    /// `slots` as the backend returned them (any order); `preferred_staff` puts that person first.
    pub fn new(
        slots: &'a [Slot],
        calendar: &'a BranchCalendar,
        now: DateTime<Utc>,
        policy: &'a SearchPolicy,
        preferred_staff: Option<&StaffId>,
    ) -> Self {
        let tz = calendar.tz;
        let earliest = now + policy.min_notice;
        let mut open_cache: Option<(NaiveDate, Vec<Span>)> = None;
        let mut candidates: Vec<Candidate<'a>> = Vec::with_capacity(slots.len());
        for slot in slots {
            let Some(span) = Span::new(slot.start, slot.end) else {
                continue;
            };
            if slot.start < earliest || slot.start <= now {
                continue;
            }
            let local = local_datetime(tz, slot.start);
            let date = local.date();
            if !on_grid(local.time(), policy.grid_step) {
                continue;
            }
            let open = match &open_cache {
                Some((d, spans)) if *d == date => spans,
                _ => &open_cache.insert((date, calendar.open_intervals(date))).1,
            };
            if !open.iter().any(|o| o.contains_span(&span)) {
                continue;
            }
            let preferred = preferred_staff.is_none_or(|p| slot.staff.as_ref() == Some(p));
            candidates.push(Candidate {
                slot,
                date,
                time: local.time(),
                preferred,
            });
        }
        // One offer per start: the preferred staff member's slot wins.
        candidates.sort_by_key(|c| (c.slot.start, !c.preferred));
        candidates.dedup_by_key(|c| c.slot.start);
        Self {
            calendar,
            now,
            today: calendar.today(now),
            policy,
            has_preference: preferred_staff.is_some(),
            candidates,
        }
    }

    /// Answers a wish: available, options in a window, alternatives, or nothing free.
    pub fn answer(&self, wish: &Wish) -> Answer {
        let (target, miss) = match wish.time {
            TimeWish::Exact(time) => {
                let target = Target {
                    date: wish.date,
                    time,
                    window: None,
                    exact: true,
                };
                match self.check_exact(wish.date, time) {
                    Ok(offer) => {
                        let message = format!(
                            "{} ist noch frei.",
                            capitalize(&speak_confirmation(wish.date, time, self.today, self.calendar))
                        );
                        return Answer {
                            outcome: Outcome::Available { offer },
                            message,
                        };
                    }
                    Err(miss) => (target, miss),
                }
            }
            TimeWish::Window { from, to } => {
                let target = Target {
                    date: wish.date,
                    time: from,
                    window: Some((from, to)),
                    exact: false,
                };
                (
                    target,
                    if self.calendar.is_open_on(wish.date) {
                        Miss::WindowFull
                    } else {
                        Miss::Closed
                    },
                )
            }
            TimeWish::Unspecified => {
                let time = self.calendar.plausible_span(wish.date).0;
                let target = Target {
                    date: wish.date,
                    time,
                    window: None,
                    exact: false,
                };
                (
                    target,
                    if self.calendar.is_open_on(wish.date) {
                        Miss::DayFull
                    } else {
                        Miss::Closed
                    },
                )
            }
        };
        if !target.exact {
            let options = self.best_tiered(|pool| self.same_day(pool, &target));
            if !options.is_empty() {
                let message = self.options_message(&target, &options);
                return Answer {
                    outcome: Outcome::Options { offers: options },
                    message,
                };
            }
        }
        let offers = self.best_tiered(|pool| self.alternatives(pool, &target));
        let reason = self.miss_sentence(miss, &target);
        if offers.is_empty() {
            let message = format!(
                "{reason}Im Moment finde ich keinen passenden freien Termin. \
                 Dürfen wir Sie zurückrufen, sobald wir etwas für Sie haben?"
            );
            return Answer {
                outcome: Outcome::NothingFree { reason: Some(miss) },
                message,
            };
        }
        let spoken: Vec<String> = offers.iter().map(|o| o.spoken.clone()).collect();
        let message = format!(
            "{reason}Ich kann Ihnen {} anbieten. {}",
            join_oder(&spoken),
            which_question(offers.len())
        );
        Answer {
            outcome: Outcome::Alternatives { reason: miss, offers },
            message,
        }
    }

    /// The earliest free slot starting at or after `after`, optionally with its local start in `window`.
    pub fn next_available(&self, after: DateTime<Utc>, window: Option<(NaiveTime, NaiveTime)>) -> Option<Offer> {
        let fits = |c: &&Candidate| c.slot.start >= after && window.is_none_or(|(f, t)| f <= c.time && c.time < t);
        let first_preferred = self.candidates.iter().filter(|c| c.preferred).find(fits);
        let first = first_preferred.or_else(|| self.candidates.iter().find(fits))?;
        Some(self.offer(first, OfferKind::NextAvailable))
    }

    fn check_exact(&self, date: NaiveDate, time: NaiveTime) -> Result<Offer, Miss> {
        let Some(at) = to_instant(self.calendar.tz, date.and_time(time)) else {
            return Err(Miss::OutsideHours);
        };
        if at <= self.now {
            return Err(Miss::InPast);
        }
        if at < self.now + self.policy.min_notice {
            return Err(Miss::TooSoon);
        }
        if !self.calendar.is_open_on(date) {
            return Err(Miss::Closed);
        }
        if !on_grid(time, self.policy.grid_step) {
            return Err(Miss::OffGrid);
        }
        if !self.calendar.is_open_at(at) {
            return Err(Miss::OutsideHours);
        }
        let at_start = self.candidates.iter().find(|c| c.slot.start == at);
        match at_start {
            Some(c) if c.preferred => Ok(self.offer(c, OfferKind::AsRequested)),
            Some(_) => Err(Miss::PreferredStaffBusy),
            None => Err(Miss::Taken),
        }
    }

    /// Runs a selection on the preferred staff's slots first, then fills from everyone's.
    fn best_tiered<F>(&self, select: F) -> Vec<Offer>
    where
        F: Fn(&[&Candidate<'a>]) -> Vec<(Candidate<'a>, OfferKind)>,
    {
        let all: Vec<&Candidate<'a>> = self.candidates.iter().collect();
        let mut picked = if self.has_preference {
            let preferred: Vec<&Candidate<'a>> = all.iter().copied().filter(|c| c.preferred).collect();
            select(&preferred)
        } else {
            Vec::new()
        };
        if picked.len() < self.policy.max_offers {
            for found in select(&all) {
                if picked.len() >= self.policy.max_offers {
                    break;
                }
                if !picked.iter().any(|(c, _)| c.slot.start == found.0.slot.start) {
                    picked.push(found);
                }
            }
        }
        picked.into_iter().map(|(c, kind)| self.offer(&c, kind)).collect()
    }

    /// Offers on the wished day in the window, spread out (for windows and days without time).
    fn same_day(&self, pool: &[&Candidate<'a>], target: &Target) -> Vec<(Candidate<'a>, OfferKind)> {
        let day: Vec<&Candidate<'a>> = pool
            .iter()
            .copied()
            .filter(|c| c.date == target.date && target.admits(c))
            .collect();
        let mut out: Vec<Candidate<'a>> = Vec::new();
        // Spread out first; a narrow window ("abends" = 17–18 Uhr) is filled with closer times.
        for gap in [self.policy.spread, self.policy.spread / 2, TimeDelta::zero()] {
            for c in &day {
                if out.len() >= self.policy.max_offers {
                    break;
                }
                let far_enough = out.iter().all(|o| (c.slot.start - o.slot.start).abs() >= gap);
                if far_enough && out.iter().all(|o| o.slot.start != c.slot.start) {
                    out.push(**c);
                }
            }
        }
        out.sort_by_key(|c| c.slot.start);
        out.into_iter().map(|c| (c, OfferKind::SameDay)).collect()
    }

    /// The strategies for a miss, ranked by closeness.
    fn alternatives(&self, pool: &[&Candidate<'a>], target: &Target) -> Vec<(Candidate<'a>, OfferKind)> {
        let p = self.policy;
        let closest = |c: &&&Candidate<'a>| (target.distance(c), c.slot.start);
        let near_time = |c: &&&Candidate<'a>| {
            !target.exact || (c.time - target.time).num_minutes().abs() <= p.same_time_tolerance.num_minutes()
        };
        let on_day = |d: NaiveDate| pool.iter().filter(move |c| c.date == d && target.admits(c));

        let mut same_day: Vec<&&Candidate<'a>> = on_day(target.date)
            .filter(|c| !target.exact || (c.time - target.time).abs() <= p.same_day_radius)
            .collect();
        same_day.sort_by_key(closest);

        let mut others: Vec<(Candidate<'a>, OfferKind)> = Vec::new();
        if let Some(next) = self.calendar.next_open_day(target.date)
            && let Some(c) = on_day(next).filter(near_time).min_by_key(closest)
        {
            others.push((**c, OfferKind::NextWorkday));
        }
        let week_later = target.date + TimeDelta::days(7);
        if let Some(c) = on_day(week_later).filter(near_time).min_by_key(closest) {
            others.push((**c, OfferKind::NextWeek));
        }
        if let Some(first) = pool.iter().find(|c| c.date > target.date && target.admits(c))
            && let Some(c) = on_day(first.date).min_by_key(closest)
        {
            others.push((**c, OfferKind::NextAvailable));
        }

        let mut ranked: Vec<(Candidate<'a>, OfferKind)> = same_day
            .iter()
            .take(p.max_same_day)
            .map(|c| (***c, OfferKind::SameDay))
            .collect();
        ranked.extend(others);
        // Too few? The best slot of each following day, then the rest of the wished day.
        let mut day = target.date;
        while ranked.len() < p.max_offers + p.max_same_day {
            let Some(next) = pool.iter().find(|c| c.date > day && target.admits(c)) else {
                break;
            };
            day = next.date;
            if let Some(c) = on_day(day).min_by_key(closest) {
                ranked.push((**c, OfferKind::NextAvailable));
            }
        }
        ranked.extend(same_day.iter().skip(p.max_same_day).map(|c| (***c, OfferKind::SameDay)));
        let mut seen = Vec::new();
        ranked.retain(|(c, _)| {
            let new = !seen.contains(&c.slot.start);
            seen.push(c.slot.start);
            new
        });
        let mut top: Vec<(Candidate<'a>, OfferKind)> = ranked.into_iter().take(p.max_offers).collect();
        top.sort_by_key(|(c, _)| (target.distance(c), c.slot.start));
        top
    }

    fn offer(&self, c: &Candidate, kind: OfferKind) -> Offer {
        Offer {
            start: c.slot.start,
            end: c.slot.end,
            local_start: c.slot.start.with_timezone(&self.calendar.tz).fixed_offset(),
            staff: c.slot.staff.clone(),
            kind,
            spoken: speak_offer(c.date, c.time, self.today, self.calendar),
        }
    }

    /// "Morgen", "Am Dienstag, dem 8. Dezember," — the sentence start for a day.
    fn day_phrase(&self, date: NaiveDate) -> String {
        let day = capitalize(&speak_date(date, self.today));
        if is_relative_day(date, self.today) {
            day
        } else {
            format!("{day},")
        }
    }

    fn options_message(&self, target: &Target, offers: &[Offer]) -> String {
        let times: Vec<String> = offers
            .iter()
            .map(|o| format!("um {}", speak_time_at(local_time(o), target.date, self.calendar)))
            .collect();
        format!(
            "{} hätte ich {} frei. {}",
            self.day_phrase(target.date),
            join_oder(&times),
            which_question(offers.len())
        )
    }

    /// The reason sentence, with a trailing space.
    fn miss_sentence(&self, miss: Miss, target: &Target) -> String {
        let day = self.day_phrase(target.date);
        let at = speak_time_at(target.time, target.date, self.calendar);
        let sentence = match miss {
            Miss::Taken => format!("{day} um {at} ist leider nichts mehr frei."),
            Miss::PreferredStaffBusy => {
                let day = speak_date(target.date, self.today);
                let day = if is_relative_day(target.date, self.today) {
                    day
                } else {
                    format!("{day},")
                };
                format!("Bei der gewünschten Person ist {day} um {at} leider nichts frei.")
            }
            Miss::OffGrid => format!(
                "Termine vergeben wir {}, um {} geht es daher nicht.",
                grid_words(self.policy.grid_step),
                speak_clock(target.time)
            ),
            Miss::Closed => self.calendar.hours_sentence(target.date, self.today),
            Miss::OutsideHours => match self.calendar.day_span(target.date) {
                Some((open, _)) if target.time < open => format!("Um {at} haben wir noch nicht geöffnet."),
                Some((_, close)) if target.time >= close => format!("Um {at} haben wir schon geschlossen."),
                _ => format!("Um {at} haben wir Pause."),
            },
            Miss::TooSoon => "So kurzfristig kann ich leider keinen Termin vergeben.".to_string(),
            Miss::InPast => "Dieser Zeitpunkt ist leider schon vorbei.".to_string(),
            Miss::WindowFull => match target.window {
                Some((from, to)) => format!("{day} {} ist leider nichts mehr frei.", speak_window(from, to)),
                None => format!("{day} ist leider nichts mehr frei."),
            },
            Miss::DayFull => format!("{day} ist leider nichts mehr frei."),
        };
        format!("{sentence} ")
    }
}

fn local_time(offer: &Offer) -> NaiveTime {
    offer.local_start.time()
}

fn which_question(offers: usize) -> &'static str {
    if offers == 1 {
        "Passt Ihnen das?"
    } else {
        "Was passt Ihnen am besten?"
    }
}

fn grid_words(step: TimeDelta) -> String {
    match step.num_minutes() {
        15 => "im Viertelstundentakt".to_string(),
        30 => "im Halbstundentakt".to_string(),
        60 => "zur vollen Stunde".to_string(),
        n => format!("im {n}-Minuten-Takt"),
    }
}

/// One-shot form of [`SlotSearch::answer`].
pub fn find_alternatives(
    wish: &Wish,
    slots: &[Slot],
    calendar: &BranchCalendar,
    now: DateTime<Utc>,
    policy: &SearchPolicy,
    preferred_staff: Option<&StaffId>,
) -> Answer {
    SlotSearch::new(slots, calendar, now, policy, preferred_staff).answer(wish)
}

/// One-shot form of [`SlotSearch::next_available`].
pub fn find_next_available(
    slots: &[Slot],
    calendar: &BranchCalendar,
    now: DateTime<Utc>,
    policy: &SearchPolicy,
    after: DateTime<Utc>,
    window: Option<(NaiveTime, NaiveTime)>,
) -> Option<Offer> {
    SlotSearch::new(slots, calendar, now, policy, None).next_available(after, window)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::appointments::calendar::hours::hm;
    use crate::appointments::calendar::hours::tests::{branch, date};
    use crate::appointments::calendar::slots::{ServiceRules, free_slots};

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    /// Monday 2026-11-30 12:00 in Berlin.
    fn now() -> DateTime<Utc> {
        utc("2026-11-30T11:00:00Z")
    }

    /// Free 30-minute slots on the branch grid between two local dates (inclusive).
    fn grid(cal: &BranchCalendar, from: &str, to: &str, now: DateTime<Utc>) -> Vec<Slot> {
        let start = to_instant(cal.tz, date(from).and_time(NaiveTime::MIN)).unwrap();
        let end = to_instant(cal.tz, (date(to) + TimeDelta::days(1)).and_time(NaiveTime::MIN)).unwrap();
        let rules = ServiceRules::new(TimeDelta::minutes(30));
        free_slots(Span::new(start, end).unwrap(), cal, &rules, &[], now).unwrap()
    }

    fn at(cal: &BranchCalendar, d: &str, h: u32, m: u32) -> DateTime<Utc> {
        to_instant(cal.tz, date(d).and_time(hm(h, m))).unwrap()
    }

    fn without(mut slots: Vec<Slot>, taken: &[DateTime<Utc>]) -> Vec<Slot> {
        slots.retain(|s| !taken.contains(&s.start));
        slots
    }

    fn exact(d: &str, h: u32, m: u32) -> Wish {
        Wish {
            date: date(d),
            time: TimeWish::Exact(hm(h, m)),
        }
    }

    fn local(offers: &[Offer]) -> Vec<String> {
        offers
            .iter()
            .map(|o| o.local_start.format("%a %d %H:%M").to_string())
            .collect()
    }

    fn answer(wish: &Wish, slots: &[Slot]) -> Answer {
        find_alternatives(wish, slots, &branch(), now(), &SearchPolicy::default(), None)
    }

    #[test]
    fn a_free_exact_wish_is_available() {
        let cal = branch();
        let slots = grid(&cal, "2026-12-01", "2026-12-04", now());
        let a = answer(&exact("2026-12-01", 14, 30), &slots);
        let Outcome::Available { offer } = &a.outcome else {
            panic!("{a:?}")
        };
        assert_eq!(offer.start, utc("2026-12-01T13:30:00Z"));
        assert_eq!(offer.local_start.to_rfc3339(), "2026-12-01T14:30:00+01:00");
        assert_eq!(offer.kind, OfferKind::AsRequested);
        assert_eq!(
            a.message,
            "Morgen, am Dienstag, dem 1. Dezember, um halb drei (14:30 Uhr) ist noch frei."
        );
    }

    #[test]
    fn taken_wish_ranks_same_day_then_next_workday() {
        let cal = branch();
        let slots = without(
            grid(&cal, "2026-12-01", "2026-12-11", now()),
            &[at(&cal, "2026-12-01", 14, 0)],
        );
        let a = answer(&exact("2026-12-01", 14, 0), &slots);
        let Outcome::Alternatives { reason, offers } = &a.outcome else {
            panic!("{a:?}")
        };
        assert_eq!(*reason, Miss::Taken);
        assert_eq!(local(offers), ["Tue 01 13:45", "Tue 01 14:15", "Wed 02 14:00"]);
        let kinds: Vec<OfferKind> = offers.iter().map(|o| o.kind).collect();
        assert_eq!(kinds, [OfferKind::SameDay, OfferKind::SameDay, OfferKind::NextWorkday]);
        assert_eq!(
            a.message,
            "Morgen um 14 Uhr ist leider nichts mehr frei. Ich kann Ihnen morgen um Viertel vor zwei, \
             morgen um Viertel nach zwei oder übermorgen um 14 Uhr anbieten. Was passt Ihnen am besten?"
        );
        for o in offers {
            assert!(
                slots.iter().any(|s| s.start == o.start && s.end == o.end),
                "offer not from the fetch"
            );
        }
    }

    #[test]
    fn a_day_with_free_slots_but_not_at_the_wished_time_is_not_same_time() {
        let cal = branch();
        // Tuesday: only 08:00–09:00 free. Wednesday: only 08:00–10:00 free. Thursday: all free.
        let slots: Vec<Slot> = grid(&cal, "2026-12-01", "2026-12-03", now())
            .into_iter()
            .filter(|s| {
                let l = local_datetime(cal.tz, s.start);
                match l.date().to_string().as_str() {
                    "2026-12-01" => l.time() < hm(9, 0),
                    "2026-12-02" => l.time() < hm(10, 0),
                    _ => true,
                }
            })
            .collect();
        let a = answer(&exact("2026-12-01", 14, 0), &slots);
        let offers = a.offers();
        assert!(offers.iter().all(|o| o.kind != OfferKind::NextWorkday), "{offers:?}");
        assert!(
            offers
                .iter()
                .all(|o| o.local_start.time() != hm(14, 0) || o.local_start.date_naive() != date("2026-12-02"))
        );
        assert_eq!(local(offers), ["Wed 02 09:45", "Thu 03 14:00"]);
        assert_eq!(offers[0].kind, OfferKind::NextAvailable);
        assert_eq!(offers[0].spoken, "übermorgen um Viertel vor zehn");
        assert_eq!(offers[1].spoken, "am Donnerstag, dem 3. Dezember, um 14 Uhr");
    }

    #[test]
    fn window_gives_spread_options_inside_it() {
        let cal = branch();
        let slots = grid(&cal, "2026-12-01", "2026-12-04", now());
        let wish = Wish {
            date: date("2026-12-01"),
            time: TimeWish::Window {
                from: hm(12, 0),
                to: hm(18, 0),
            },
        };
        let a = answer(&wish, &slots);
        let Outcome::Options { offers } = &a.outcome else {
            panic!("{a:?}")
        };
        assert_eq!(local(offers), ["Tue 01 13:00", "Tue 01 14:00", "Tue 01 15:00"]);
        assert_eq!(
            a.message,
            "Morgen hätte ich um 13 Uhr, um 14 Uhr oder um 15 Uhr frei. Was passt Ihnen am besten?"
        );
    }

    #[test]
    fn full_window_looks_at_other_days_inside_the_window_only() {
        let cal = branch();
        // Afternoons of Tuesday and Wednesday are booked; mornings are free.
        let slots: Vec<Slot> = grid(&cal, "2026-12-01", "2026-12-08", now())
            .into_iter()
            .filter(|s| {
                let l = local_datetime(cal.tz, s.start);
                l.time() < hm(12, 0) || l.date() > date("2026-12-02")
            })
            .collect();
        let wish = Wish {
            date: date("2026-12-01"),
            time: TimeWish::Window {
                from: hm(12, 0),
                to: hm(18, 0),
            },
        };
        let a = answer(&wish, &slots);
        let Outcome::Alternatives { reason, offers } = &a.outcome else {
            panic!("{a:?}")
        };
        assert_eq!(*reason, Miss::WindowFull);
        assert!(offers.iter().all(|o| o.local_start.time() >= hm(12, 0)), "{offers:?}");
        assert_eq!(local(offers), ["Thu 03 13:00", "Fri 04 13:00", "Tue 08 13:00"]);
        assert!(
            a.message
                .starts_with("Morgen zwischen 12 und 18 Uhr ist leider nichts mehr frei."),
            "{}",
            a.message
        );
    }

    #[test]
    fn nothing_in_the_window_is_nothing_free() {
        let cal = branch();
        let mornings: Vec<Slot> = grid(&cal, "2026-12-01", "2026-12-14", now())
            .into_iter()
            .filter(|s| local_datetime(cal.tz, s.start).time() < hm(12, 0))
            .collect();
        let wish = Wish {
            date: date("2026-12-01"),
            time: TimeWish::Window {
                from: hm(14, 0),
                to: hm(18, 0),
            },
        };
        let a = answer(&wish, &mornings);
        assert_eq!(
            a.outcome,
            Outcome::NothingFree {
                reason: Some(Miss::WindowFull)
            }
        );
        assert!(
            a.message
                .ends_with("Dürfen wir Sie zurückrufen, sobald wir etwas für Sie haben?")
        );
        let none = answer(&exact("2026-12-01", 14, 0), &[]);
        assert_eq!(
            none.outcome,
            Outcome::NothingFree {
                reason: Some(Miss::Taken)
            }
        );
    }

    #[test]
    fn a_closed_day_gets_offers_on_open_days() {
        let cal = branch();
        let mut slots = grid(&cal, "2026-12-01", "2026-12-14", now());
        // The backend does not know the branch is closed on Saturdays.
        slots.push(Slot::new(at(&cal, "2026-12-05", 10, 0), at(&cal, "2026-12-05", 10, 30)));
        slots.sort_by_key(|s| s.start);
        let a = answer(&exact("2026-12-05", 10, 0), &slots);
        let Outcome::Alternatives { reason, offers } = &a.outcome else {
            panic!("{a:?}")
        };
        assert_eq!(*reason, Miss::Closed);
        assert_eq!(local(offers), ["Mon 07 10:00", "Tue 08 10:00", "Wed 09 10:00"]);
        assert_eq!(offers[0].kind, OfferKind::NextWorkday);
        assert!(a.message.starts_with(
            "Am Samstag, dem 5. Dezember, haben wir geschlossen. Ich kann Ihnen am Montag, dem 7. Dezember, um 10 Uhr"
        ));
    }

    #[test]
    fn off_grid_wish_is_said_and_nearest_grid_slots_offered() {
        let cal = branch();
        let slots = grid(&cal, "2026-12-01", "2026-12-04", now());
        let a = answer(&exact("2026-12-01", 14, 10), &slots);
        let Outcome::Alternatives { reason, offers } = &a.outcome else {
            panic!("{a:?}")
        };
        assert_eq!(*reason, Miss::OffGrid);
        assert_eq!(local(offers)[..2], ["Tue 01 14:15", "Tue 01 14:00"]);
        assert!(
            a.message
                .starts_with("Termine vergeben wir im Viertelstundentakt, um 14:10 Uhr geht es daher nicht.")
        );
    }

    #[test]
    fn a_wish_at_closing_time_offers_the_last_slots() {
        let cal = branch();
        let slots = grid(&cal, "2026-12-01", "2026-12-04", now());
        let a = answer(&exact("2026-12-01", 18, 0), &slots);
        let Outcome::Alternatives { reason, offers } = &a.outcome else {
            panic!("{a:?}")
        };
        assert_eq!(*reason, Miss::OutsideHours);
        assert_eq!(local(offers), ["Tue 01 17:30", "Tue 01 17:15", "Wed 02 17:30"]);
        assert!(a.message.starts_with("Um 18 Uhr haben wir schon geschlossen."));
    }

    #[test]
    fn notice_and_past_are_respected() {
        let cal = branch();
        let now = utc("2026-12-01T09:00:00Z"); // Tuesday 10:00
        let slots = grid(&cal, "2026-11-30", "2026-12-04", utc("2026-11-01T00:00:00Z"));
        let policy = SearchPolicy {
            min_notice: TimeDelta::hours(2),
            ..SearchPolicy::default()
        };
        let a = find_alternatives(&exact("2026-12-01", 11, 0), &slots, &cal, now, &policy, None);
        let Outcome::Alternatives { reason, offers } = &a.outcome else {
            panic!("{a:?}")
        };
        assert_eq!(*reason, Miss::TooSoon);
        assert!(
            offers.iter().all(|o| o.start >= now + TimeDelta::hours(2)),
            "{offers:?}"
        );
        assert_eq!(local(offers)[0], "Tue 01 13:00");
        let past = find_alternatives(&exact("2026-12-01", 9, 0), &slots, &cal, now, &policy, None);
        assert!(matches!(
            past.outcome,
            Outcome::Alternatives {
                reason: Miss::InPast,
                ..
            }
        ));
    }

    #[test]
    fn dst_crossing_keeps_the_wall_clock_time() {
        let cal = branch();
        let spring_now = utc("2026-03-20T09:00:00Z");
        let slots = without(
            grid(&cal, "2026-03-27", "2026-04-03", spring_now),
            &[utc("2026-03-27T08:00:00Z")],
        );
        let a = find_alternatives(
            &exact("2026-03-27", 9, 0),
            &slots,
            &cal,
            spring_now,
            &SearchPolicy::default(),
            None,
        );
        let next = a.offers().iter().find(|o| o.kind == OfferKind::NextWorkday).unwrap();
        assert_eq!(next.start, utc("2026-03-30T07:00:00Z"));
        assert_eq!(next.local_start.to_rfc3339(), "2026-03-30T09:00:00+02:00");
        let autumn_now = utc("2026-10-20T09:00:00Z");
        let slots = without(
            grid(&cal, "2026-10-23", "2026-10-30", autumn_now),
            &[utc("2026-10-23T07:00:00Z")],
        );
        let a = find_alternatives(
            &exact("2026-10-23", 9, 0),
            &slots,
            &cal,
            autumn_now,
            &SearchPolicy::default(),
            None,
        );
        let next = a.offers().iter().find(|o| o.kind == OfferKind::NextWorkday).unwrap();
        assert_eq!(next.start, utc("2026-10-26T08:00:00Z"));
        assert_eq!(next.local_start.to_rfc3339(), "2026-10-26T09:00:00+01:00");
    }

    #[test]
    fn preferred_staff_first_and_no_duplicate_starts() {
        let cal = branch();
        let anna = StaffId("anna".into());
        let ben = StaffId("ben".into());
        let base = grid(&cal, "2026-12-01", "2026-12-04", now());
        let mut slots: Vec<Slot> = base.iter().cloned().map(|s| s.with_staff(ben.clone())).collect();
        // Anna is free only at 15:00 and 16:00 on Tuesday.
        for h in [15, 16] {
            slots.push(Slot::new(at(&cal, "2026-12-01", h, 0), at(&cal, "2026-12-01", h, 30)).with_staff(anna.clone()));
        }
        slots.sort_by_key(|s| s.start);
        let a = find_alternatives(
            &exact("2026-12-01", 14, 0),
            &slots,
            &cal,
            now(),
            &SearchPolicy::default(),
            Some(&anna),
        );
        let Outcome::Alternatives { reason, offers } = &a.outcome else {
            panic!("{a:?}")
        };
        assert_eq!(*reason, Miss::PreferredStaffBusy);
        assert_eq!(local(offers), ["Tue 01 15:00", "Tue 01 16:00", "Tue 01 14:00"]);
        assert_eq!(offers[0].staff, Some(anna.clone()));
        assert_eq!(offers[2].staff, Some(ben.clone()));
        let a = find_alternatives(
            &exact("2026-12-01", 15, 0),
            &slots,
            &cal,
            now(),
            &SearchPolicy::default(),
            Some(&anna),
        );
        assert!(matches!(&a.outcome, Outcome::Available { offer } if offer.staff == Some(anna.clone())));
        // Without preference the two staff members' identical starts appear once.
        let a = find_alternatives(
            &exact("2026-12-01", 14, 0),
            &without(slots, &[at(&cal, "2026-12-01", 14, 0)]),
            &cal,
            now(),
            &SearchPolicy::default(),
            None,
        );
        let starts: Vec<_> = a.offers().iter().map(|o| o.start).collect();
        let mut unique = starts.clone();
        unique.dedup();
        assert_eq!(starts, unique);
    }

    #[test]
    fn next_available_respects_window_and_notice() {
        let cal = branch();
        let slots = grid(&cal, "2026-12-01", "2026-12-04", now());
        let policy = SearchPolicy::default();
        let after = utc("2026-12-01T12:00:00Z"); // 13:00 local
        let o = find_next_available(&slots, &cal, now(), &policy, after, None).unwrap();
        assert_eq!(o.local_start.to_rfc3339(), "2026-12-01T13:00:00+01:00");
        let o = find_next_available(&slots, &cal, now(), &policy, after, Some((hm(8, 0), hm(10, 0)))).unwrap();
        assert_eq!(o.local_start.to_rfc3339(), "2026-12-02T08:00:00+01:00");
        assert_eq!(o.kind, OfferKind::NextAvailable);
        assert_eq!(
            find_next_available(&slots, &cal, now(), &policy, after, Some((hm(19, 0), hm(20, 0)))),
            None
        );
    }

    #[test]
    fn answers_serialise_for_the_agent() {
        let cal = branch();
        let slots = without(
            grid(&cal, "2026-12-01", "2026-12-04", now()),
            &[at(&cal, "2026-12-01", 14, 0)],
        );
        let json = serde_json::to_value(answer(&exact("2026-12-01", 14, 0), &slots)).unwrap();
        assert_eq!(json["status"], "alternatives");
        assert_eq!(json["reason"], "taken");
        assert_eq!(json["offers"][0]["kind"], "same_day");
        assert_eq!(json["offers"][0]["local_start"], "2026-12-01T13:45:00+01:00");
        assert_eq!(json["offers"][0]["start"], "2026-12-01T12:45:00Z");
        assert!(json["message"].as_str().unwrap().contains("Viertel vor zwei"));
    }
}
