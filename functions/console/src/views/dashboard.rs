//! The dashboard's figures, computed from the cases of the chosen period (one read of the case
//! index): open and overdue cases, the delivery rate of the last 24 hours, failed deliveries,
//! the time from capture to delivery, counts by status, priority and category, and ageing.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use gateway_domain::case::{CaseStatus, OutputStatus, Priority, ServiceCase};

use super::filter::{is_open, is_overdue};

/// The periods the dashboard offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Range {
    Today,
    Days7,
    Days30,
    Days90,
}

impl Range {
    pub const ALL: [Range; 4] = [Range::Today, Range::Days7, Range::Days30, Range::Days90];

    pub fn parse(s: &str) -> Range {
        match s {
            "today" => Range::Today,
            "30d" => Range::Days30,
            "90d" => Range::Days90,
            _ => Range::Days7,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Range::Today => "today",
            Range::Days7 => "7d",
            Range::Days30 => "30d",
            Range::Days90 => "90d",
        }
    }

    /// Where the period starts: today's midnight in the company's zone, or N days back.
    pub fn start(self, now: DateTime<Utc>, tz: chrono_tz::Tz) -> DateTime<Utc> {
        match self {
            Range::Today => now
                .with_timezone(&tz)
                .date_naive()
                .and_hms_opt(0, 0, 0)
                .and_then(|t| t.and_local_timezone(tz).earliest())
                .map_or(now - Duration::hours(24), |t| t.with_timezone(&Utc)),
            Range::Days7 => now - Duration::days(7),
            Range::Days30 => now - Duration::days(30),
            Range::Days90 => now - Duration::days(90),
        }
    }
}

/// Everything the dashboard shows besides the lists.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Stats {
    pub total: usize,
    pub open: usize,
    pub overdue: usize,
    pub due_within_2h: usize,
    /// Sent share of the finished deliveries of cases captured in the last 24 hours.
    pub success_rate_24h: Option<f64>,
    pub finished_24h: usize,
    pub failed: usize,
    pub pending_outputs: usize,
    pub avg_capture_to_delivery: Option<Duration>,
    pub delivered: usize,
    pub by_status: Vec<(CaseStatus, usize)>,
    pub open_by_priority: Vec<(Priority, usize)>,
    /// Category slug (or `None`) and count, most first.
    pub by_category: Vec<(Option<String>, usize)>,
    /// Open cases younger than 4 h, 4–24 h, 1–3 days, older.
    pub ageing: [usize; 4],
}

impl Stats {
    /// `rows`: every case captured since `min(period start, now - 24 h)`, newest first.
    pub fn compute(rows: &[ServiceCase], period_start: DateTime<Utc>, now: DateTime<Utc>) -> Stats {
        let in_period: Vec<&ServiceCase> = rows.iter().filter(|c| c.created_at >= period_start).collect();
        let open: Vec<&&ServiceCase> = in_period.iter().filter(|c| is_open(c)).collect();
        let last_day: Vec<&ServiceCase> = rows
            .iter()
            .filter(|c| c.created_at >= now - Duration::hours(24))
            .collect();
        let sent_24h = last_day
            .iter()
            .filter(|c| c.output_status == OutputStatus::Sent)
            .count();
        let failed_24h = last_day
            .iter()
            .filter(|c| c.output_status == OutputStatus::Failed)
            .count();
        let finished_24h = sent_24h + failed_24h;
        let delivery_times: Vec<Duration> = in_period
            .iter()
            .filter_map(|c| c.output_sent_at.map(|at| at - c.created_at))
            .collect();
        let mut categories: BTreeMap<Option<String>, usize> = BTreeMap::new();
        for c in &in_period {
            *categories.entry(c.category.clone()).or_default() += 1;
        }
        let mut by_category: Vec<(Option<String>, usize)> = categories.into_iter().collect();
        by_category.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let mut ageing = [0; 4];
        for c in &open {
            let age = now - c.created_at;
            let bucket = if age < Duration::hours(4) {
                0
            } else if age < Duration::hours(24) {
                1
            } else if age < Duration::days(3) {
                2
            } else {
                3
            };
            ageing[bucket] += 1;
        }
        Stats {
            total: in_period.len(),
            open: open.len(),
            overdue: open.iter().filter(|c| is_overdue(c, now)).count(),
            due_within_2h: open
                .iter()
                .filter(|c| {
                    c.sla_resolution_due_at
                        .is_some_and(|due| due >= now && due <= now + Duration::hours(2))
                })
                .count(),
            success_rate_24h: (finished_24h > 0).then(|| sent_24h as f64 * 100.0 / finished_24h as f64),
            finished_24h,
            failed: in_period
                .iter()
                .filter(|c| c.output_status == OutputStatus::Failed)
                .count(),
            pending_outputs: in_period
                .iter()
                .filter(|c| c.output_status == OutputStatus::Pending)
                .count(),
            avg_capture_to_delivery: (!delivery_times.is_empty())
                .then(|| delivery_times.iter().copied().sum::<Duration>() / delivery_times.len() as i32),
            delivered: delivery_times.len(),
            by_status: CaseStatus::ALL
                .iter()
                .map(|s| (*s, in_period.iter().filter(|c| c.status == *s).count()))
                .collect(),
            open_by_priority: Priority::ALL
                .iter()
                .map(|p| (*p, open.iter().filter(|c| c.priority == *p).count()))
                .collect(),
            by_category,
            ageing,
        }
    }
}

/// A bar's width class (`w0` … `w100` in steps of 5) for `part` of `whole`: the page's CSS
/// draws it, so no inline style is needed (the content security policy forbids them).
pub fn bar_class(part: usize, whole: usize) -> String {
    if whole == 0 {
        return "w0".into();
    }
    let pct = (part * 100).div_ceil(whole);
    format!("w{}", pct.div_ceil(5) * 5)
}

#[cfg(test)]
mod tests {
    use super::*;
    use gateway_domain::delivery::template::sample_case;

    fn case(hours_ago: i64, status: CaseStatus, output: OutputStatus, now: DateTime<Utc>) -> ServiceCase {
        let mut c = sample_case();
        c.created_at = now - Duration::hours(hours_ago);
        c.status = status;
        c.output_status = output;
        if output == OutputStatus::Sent {
            c.output_sent_at = Some(c.created_at + Duration::seconds(90));
        }
        c
    }

    #[test]
    fn figures_of_a_small_desk() {
        let now = Utc::now();
        let mut overdue = case(30, CaseStatus::Open, OutputStatus::Sent, now);
        overdue.sla_resolution_due_at = Some(now - Duration::hours(1));
        let mut due_soon = case(1, CaseStatus::New, OutputStatus::Pending, now);
        due_soon.sla_resolution_due_at = Some(now + Duration::minutes(30));
        due_soon.category = None;
        let rows = vec![
            due_soon,
            case(2, CaseStatus::New, OutputStatus::Sent, now),
            case(5, CaseStatus::Resolved, OutputStatus::Failed, now),
            overdue,
            case(24 * 10, CaseStatus::Closed, OutputStatus::Sent, now),
        ];
        let stats = Stats::compute(&rows, now - Duration::days(7), now);
        assert_eq!(stats.total, 4);
        assert_eq!((stats.open, stats.overdue, stats.due_within_2h), (3, 1, 1));
        // Of the last 24 h: one sent, one failed (pending does not count).
        assert_eq!(stats.success_rate_24h, Some(50.0));
        assert_eq!(stats.failed, 1);
        assert_eq!(stats.avg_capture_to_delivery, Some(Duration::seconds(90)));
        assert_eq!(stats.ageing, [2, 0, 1, 0]);
        assert_eq!(stats.by_category, vec![(Some("print".into()), 3), (None, 1)]);
        assert_eq!(stats.by_status[0], (CaseStatus::New, 2));
        assert_eq!(bar_class(1, 3), "w35");
        assert_eq!(bar_class(0, 0), "w0");
    }
}
