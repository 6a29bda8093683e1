//! The case list's filters and search, parsed from the query string and applied to the rows the
//! case index returned for the chosen days.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use gateway_domain::case::{CaseStatus, EnrichmentStatus, OutputStatus, Priority, ServiceCase};
use gateway_domain::text::normalize;
use serde::Deserialize;

use super::digits;

/// Rows per page.
pub const PAGE_SIZE: usize = 25;
/// Days the list covers when no date is given.
pub const DEFAULT_DAYS: i64 = 30;

/// The query string as the form sends it (empty fields are "any").
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RawFilter {
    pub status: String,
    pub priority: String,
    pub category: String,
    pub output: String,
    pub enrichment: String,
    pub overdue: String,
    pub from: String,
    pub to: String,
    pub q: String,
    pub page: String,
    /// Where the previous page of the unfiltered list ended.
    pub after: String,
}

/// A parsed filter; unknown values count as "any".
#[derive(Debug, Clone, PartialEq)]
pub struct CaseFilter {
    pub status: Option<CaseStatus>,
    pub priority: Option<Priority>,
    pub category: Option<String>,
    pub output: Option<OutputStatus>,
    pub enrichment: Option<EnrichmentStatus>,
    pub overdue: bool,
    /// First and last day (in the company's time zone), both included.
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub q: String,
    pub page: usize,
    pub after: Option<String>,
}

fn parse<T: Copy>(all: &[T], text: &str, name: impl Fn(T) -> &'static str) -> Option<T> {
    all.iter().copied().find(|v| name(*v) == text)
}

impl CaseFilter {
    pub fn parse(raw: &RawFilter, today: NaiveDate) -> Self {
        let date = |s: &str| NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok();
        let to = date(&raw.to).unwrap_or(today);
        let from = date(&raw.from).unwrap_or(to - Duration::days(DEFAULT_DAYS - 1));
        let (from, to) = if from <= to { (from, to) } else { (to, from) };
        Self {
            status: parse(CaseStatus::ALL, &raw.status, CaseStatus::as_str),
            priority: parse(Priority::ALL, &raw.priority, Priority::as_str),
            category: Some(raw.category.trim().to_string()).filter(|c| !c.is_empty()),
            output: parse(OutputStatus::ALL, &raw.output, OutputStatus::as_str),
            enrichment: parse(EnrichmentStatus::ALL, &raw.enrichment, EnrichmentStatus::as_str),
            overdue: !raw.overdue.is_empty(),
            from,
            to,
            q: raw.q.trim().chars().take(100).collect(),
            page: raw.page.parse().unwrap_or(1).max(1),
            after: Some(raw.after.trim().to_string()).filter(|a| !a.is_empty()),
        }
    }

    /// Only the days are chosen: the list is read a page at a time from the index.
    pub fn is_plain(&self) -> bool {
        self.status.is_none()
            && self.priority.is_none()
            && self.category.is_none()
            && self.output.is_none()
            && self.enrichment.is_none()
            && !self.overdue
            && self.q.is_empty()
    }

    /// The instants the index is read for: the first day's start to the day after the last.
    pub fn window(&self, tz: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
        super::day_window(self.from, self.to, tz)
    }

    /// A ticket reference typed in full is looked up directly, whatever the dates.
    pub fn ticket_reference(&self) -> Option<String> {
        let q = self.q.to_ascii_uppercase();
        let parts: Vec<&str> = q.split('-').collect();
        let ok = parts.len() == 3
            && parts[0] == "TKT"
            && parts[1].len() == 4
            && parts[1].chars().all(|c| c.is_ascii_digit())
            && parts[2].len() >= 5
            && parts[2].chars().all(|c| c.is_ascii_digit());
        ok.then_some(q)
    }

    pub fn matches(&self, case: &ServiceCase, now: DateTime<Utc>) -> bool {
        self.status.is_none_or(|s| case.status == s)
            && self.priority.is_none_or(|p| case.priority == p)
            && self
                .category
                .as_deref()
                .is_none_or(|c| case.category.as_deref() == Some(c))
            && self.output.is_none_or(|o| case.output_status == o)
            && self.enrichment.is_none_or(|e| case.enrichment_status == e)
            && (!self.overdue || is_overdue(case, now))
            && self.search_hits(case)
    }

    /// Ticket reference (any part), caller name or company (umlauts folded), or the digits of
    /// the callback number or caller id.
    fn search_hits(&self, case: &ServiceCase) -> bool {
        if self.q.is_empty() {
            return true;
        }
        let q = normalize(&self.q);
        let text_hit = |s: Option<&str>| s.is_some_and(|s| normalize(s).contains(&q));
        // `0511 …` as people dial it matches `+49511…` as it is stored.
        let q_digits = digits(&self.q);
        let national = q_digits.trim_start_matches('0');
        let number_hit = |s: Option<&str>| national.len() >= 3 && s.is_some_and(|s| digits(s).contains(national));
        text_hit(case.ticket_ref.as_deref())
            || text_hit(case.caller.name.as_deref())
            || text_hit(case.caller.company.as_deref())
            || number_hit(case.caller.phone.as_deref())
            || number_hit(case.caller.caller_id.as_deref())
    }

    /// The query string of this filter on `page` (for links and the CSV export).
    pub fn query(&self, page: usize) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        let mut add = |k: &str, v: &str| {
            if !v.is_empty() {
                q.append_pair(k, v);
            }
        };
        add("status", self.status.map_or("", CaseStatus::as_str));
        add("priority", self.priority.map_or("", Priority::as_str));
        add("category", self.category.as_deref().unwrap_or(""));
        add("output", self.output.map_or("", OutputStatus::as_str));
        add("enrichment", self.enrichment.map_or("", EnrichmentStatus::as_str));
        add("overdue", if self.overdue { "1" } else { "" });
        add("from", &self.from.to_string());
        add("to", &self.to.to_string());
        add("q", &self.q);
        if page > 1 {
            add("page", &page.to_string());
        }
        q.finish()
    }

    /// The query string of the unfiltered list's page after `cursor`.
    pub fn query_after(&self, cursor: &str) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        q.append_pair("from", &self.from.to_string());
        q.append_pair("to", &self.to.to_string());
        q.append_pair("after", cursor);
        q.finish()
    }
}

/// Open (new, open or pending) and past its resolution due time.
pub fn is_overdue(case: &ServiceCase, now: DateTime<Utc>) -> bool {
    is_open(case) && case.sla_resolution_due_at.is_some_and(|due| due < now)
}

pub fn is_open(case: &ServiceCase) -> bool {
    matches!(case.status, CaseStatus::New | CaseStatus::Open | CaseStatus::Pending)
}

/// One page of `rows` (1-based), with the number of pages.
pub fn paginate<T>(rows: Vec<T>, page: usize) -> (Vec<T>, usize) {
    let pages = rows.len().div_ceil(PAGE_SIZE).max(1);
    let page = page.min(pages);
    let rows = rows.into_iter().skip((page - 1) * PAGE_SIZE).take(PAGE_SIZE).collect();
    (rows, pages)
}

#[cfg(test)]
mod tests {
    use super::*;
    use gateway_domain::delivery::template::sample_case;

    fn filter(edit: impl FnOnce(&mut RawFilter)) -> CaseFilter {
        let mut raw = RawFilter::default();
        edit(&mut raw);
        CaseFilter::parse(&raw, NaiveDate::from_ymd_opt(2026, 11, 20).unwrap())
    }

    #[test]
    fn the_default_is_the_last_thirty_days_of_everything() {
        let f = filter(|_| {});
        assert_eq!(f.from, NaiveDate::from_ymd_opt(2026, 10, 22).unwrap());
        assert_eq!(f.to, NaiveDate::from_ymd_opt(2026, 11, 20).unwrap());
        assert_eq!((f.status, f.page), (None, 1));
        let (from, to) = f.window(chrono_tz::Europe::Berlin);
        assert_eq!(from.to_rfc3339(), "2026-10-21T22:00:00+00:00");
        assert_eq!(to.to_rfc3339(), "2026-11-20T23:00:00+00:00");
    }

    #[test]
    fn search_finds_ticket_name_and_number() {
        let case = sample_case();
        let now = Utc::now();
        for q in [
            "tkt-2026-00042",
            "00042",
            "mueller",
            "Müller",
            "brandt",
            "0511 876",
            "87654321",
        ] {
            assert!(filter(|r| r.q = q.into()).matches(&case, now), "{q}");
        }
        for q in ["schmidt", "12", "TKT-2026-00043"] {
            assert!(!filter(|r| r.q = q.into()).matches(&case, now), "{q}");
        }
        assert_eq!(
            filter(|r| r.q = "tkt-2026-00042".into()).ticket_reference().as_deref(),
            Some("TKT-2026-00042")
        );
        assert_eq!(filter(|r| r.q = "TKT-2026".into()).ticket_reference(), None);
    }

    #[test]
    fn filters_combine_and_survive_a_round_trip() {
        let case = sample_case();
        let now = Utc::now();
        assert!(filter(|r| r.priority = "high".into()).matches(&case, now));
        assert!(!filter(|r| r.priority = "low".into()).matches(&case, now));
        assert!(filter(|r| r.category = "print".into()).matches(&case, now));
        assert!(!filter(|r| r.output = "failed".into()).matches(&case, now));
        assert!(!filter(|r| r.overdue = "1".into()).matches(&case, now));
        let f = filter(|r| {
            r.status = "new".into();
            r.q = "Müller & Co".into();
            r.page = "3".into();
        });
        let raw: RawFilter = serde_json::from_value(serde_json::Value::Object(
            url::form_urlencoded::parse(f.query(3).as_bytes())
                .map(|(k, v)| (k.into_owned(), serde_json::Value::String(v.into_owned())))
                .collect(),
        ))
        .unwrap();
        assert_eq!(
            CaseFilter::parse(&raw, NaiveDate::from_ymd_opt(2026, 11, 20).unwrap()),
            f
        );
    }

    #[test]
    fn pages_hold_twenty_five_rows() {
        let (rows, pages) = paginate((0..60).collect::<Vec<_>>(), 3);
        assert_eq!((rows, pages), ((50..60).collect(), 3));
        let (rows, pages) = paginate(Vec::<u8>::new(), 2);
        assert_eq!((rows.len(), pages), (0, 1));
    }
}
