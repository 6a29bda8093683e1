//! `GET /console?range=today|7d|30d|90d`: the dashboard.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use chrono::{Duration, Utc};
use gateway_adapters::console_store::Window;
use gateway_domain::appointments::ports::AppointmentStore;
use gateway_domain::appointments::record::{Appointment, AppointmentStatus};
use gateway_domain::case::ServiceCase;
use gateway_domain::costs::{CompanyMonth, CostLedger, Month};
use gateway_domain::tenancy::Tenant;
use serde::Deserialize;

use super::cases::Row;
use super::{ConsoleError, Layout, render, tenant_of};
use crate::App;
use crate::auth::Operator;
use crate::views::costs::CostCard;
use crate::views::dashboard::{Range, Stats, bar_class};
use crate::views::{duration, local_time};

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Params {
    range: String,
}

/// A labelled count with its bar.
pub struct Bar {
    pub label: String,
    pub count: usize,
    pub bar: String,
    pub share: String,
}

pub struct RangeOption {
    pub code: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

pub struct ApptRow {
    pub time: String,
    pub customer: String,
    pub service: String,
    pub cancelled: bool,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    layout: Layout,
    ranges: Vec<RangeOption>,
    total: usize,
    open: usize,
    overdue: usize,
    due_2h: usize,
    success_rate: String,
    finished_24h: usize,
    failed: usize,
    pending_outputs: usize,
    avg_delivery: String,
    delivered: usize,
    by_status: Vec<Bar>,
    by_priority: Vec<Bar>,
    by_category: Vec<Bar>,
    ageing: Vec<Bar>,
    recent: Vec<Row>,
    books_appointments: bool,
    appointments_today: Vec<ApptRow>,
    appointments_upcoming: Vec<ApptRow>,
    /// This month so far, then last month.
    costs: Vec<CostCard>,
}

impl DashboardPage {
    /// The platform's rows (cost and profits) are there for platform admins only.
    fn shows_platform_costs(&self) -> bool {
        self.costs.iter().any(|c| c.platform.is_some())
    }
}

fn bars(items: Vec<(String, usize)>, whole: usize) -> Vec<Bar> {
    items
        .into_iter()
        .map(|(label, count)| Bar {
            bar: bar_class(count, whole),
            share: if whole == 0 {
                "0 %".into()
            } else {
                format!("{:.0} %", count as f64 * 100.0 / whole as f64)
            },
            label,
            count,
        })
        .collect()
}

pub async fn page(
    State(app): State<Arc<App>>,
    op: Operator,
    Query(params): Query<Params>,
) -> Result<Response, ConsoleError> {
    let tenant = tenant_of(&app, &op).await?;
    let lang = op.lang;
    let t = lang.texts();
    let now = Utc::now();
    let range = Range::parse(&params.range);
    let start = range.start(now, tenant.tz());
    // One read of the case index: the period, and at least the last 24 hours for the rate.
    let window = Window {
        from: Some(start.min(now - Duration::hours(24))),
        to: None,
    };
    let (rows, appointments, costs) = tokio::try_join!(
        async {
            app.store
                .case_rows(&op.company, window)
                .await
                .map_err(|e| ConsoleError::store(e, lang))
        },
        appointments(&app, &op, &tenant, now),
        costs(&app, &op, &tenant, now),
    )?;
    let stats = Stats::compute(&rows, start, now);
    let name = |slug: &Option<String>| match slug {
        Some(s) => tenant.category(s).map_or(s.clone(), |c| c.name.clone()),
        None => lang.pick("ohne Kategorie", "no category").to_string(),
    };
    let recent: Vec<&ServiceCase> = rows.iter().filter(|c| c.created_at >= start).take(8).collect();
    let (today, upcoming) = appointments;
    let page = DashboardPage {
        layout: Layout::new(&op, &tenant, "dashboard", t.nav_dashboard),
        ranges: Range::ALL
            .iter()
            .map(|r| RangeOption {
                code: r.code(),
                label: match r {
                    Range::Today => t.range_today,
                    Range::Days7 => t.range_7d,
                    Range::Days30 => t.range_30d,
                    Range::Days90 => t.range_90d,
                },
                selected: *r == range,
            })
            .collect(),
        total: stats.total,
        open: stats.open,
        overdue: stats.overdue,
        due_2h: stats.due_within_2h,
        success_rate: stats
            .success_rate_24h
            .map_or_else(|| t.none.to_string(), |r| format!("{r:.0} %")),
        finished_24h: stats.finished_24h,
        failed: stats.failed,
        pending_outputs: stats.pending_outputs,
        avg_delivery: stats
            .avg_capture_to_delivery
            .map_or_else(|| t.none.to_string(), duration),
        delivered: stats.delivered,
        by_status: bars(
            stats
                .by_status
                .iter()
                .map(|(s, n)| (lang.status(*s).to_string(), *n))
                .collect(),
            stats.total,
        ),
        by_priority: bars(
            stats
                .open_by_priority
                .iter()
                .map(|(p, n)| (lang.priority(*p).to_string(), *n))
                .collect(),
            stats.open,
        ),
        by_category: bars(
            stats.by_category.iter().map(|(c, n)| (name(c), *n)).collect(),
            stats.total,
        ),
        ageing: bars(
            [t.age_4h, t.age_24h, t.age_3d, t.age_older]
                .iter()
                .zip(stats.ageing)
                .map(|(l, n)| (l.to_string(), n))
                .collect(),
            stats.open,
        ),
        recent: recent.into_iter().map(|c| Row::of(c, &tenant, lang, now)).collect(),
        books_appointments: tenant.appointments.is_some(),
        appointments_today: today,
        appointments_upcoming: upcoming,
        costs,
    };
    render(&page, lang)
}

/// This month so far and last month (in the company's time zone) from the cost ledger.
async fn costs(
    app: &App,
    op: &Operator,
    tenant: &Tenant,
    now: chrono::DateTime<Utc>,
) -> Result<Vec<CostCard>, ConsoleError> {
    let current = Month::of(now.with_timezone(&tenant.tz()).date_naive());
    let billing = tenant.config.billing.as_ref();
    let card = |month: Month| async move {
        let records = app
            .store
            .costs_of_month(&op.company, month)
            .await
            .map_err(|e| ConsoleError::store(e, op.lang))?;
        let report = CompanyMonth::build(&op.company, month, billing, records);
        Ok::<_, ConsoleError>(CostCard::of(&report, billing.is_some(), op.platform_admin, op.lang))
    };
    let (this, last) = tokio::try_join!(card(current), card(current.previous()))?;
    Ok(vec![this, last])
}

/// Today's appointments and those of the next seven days (for a company that books them).
async fn appointments(
    app: &App,
    op: &Operator,
    tenant: &Tenant,
    now: chrono::DateTime<Utc>,
) -> Result<(Vec<ApptRow>, Vec<ApptRow>), ConsoleError> {
    let Some(setup) = tenant.appointments.as_ref() else {
        return Ok((Vec::new(), Vec::new()));
    };
    let tz = tenant.tz();
    let midnight = Range::Today.start(now, tz);
    let tomorrow = midnight + Duration::days(1);
    let found = app
        .store
        .appointments_between(&op.company, midnight, midnight + Duration::days(8))
        .await
        .map_err(|e| ConsoleError::store(e, op.lang))?;
    let row = |a: &Appointment| ApptRow {
        time: local_time(a.start, tz),
        customer: a.customer.name.clone(),
        service: setup
            .service(&a.service_id)
            .map_or_else(|| a.service_id.to_string(), |s| s.name.clone()),
        cancelled: a.status == AppointmentStatus::Cancelled,
    };
    let today = found.iter().filter(|a| a.start < tomorrow).map(row).collect();
    let upcoming = found
        .iter()
        .filter(|a| a.start >= tomorrow && a.status != AppointmentStatus::Cancelled)
        .take(10)
        .map(row)
        .collect();
    Ok((today, upcoming))
}
