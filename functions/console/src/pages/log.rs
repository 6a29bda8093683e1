//! `GET /console/log`: the company's exchange log (its own index, keyed by the company: the
//! original showed every company's entries here), filtered by result, status range and days,
//! with the hint per HTTP status; `GET /console/log/<case>/<event>`: one entry in full.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use chrono::Utc;
use gateway_adapters::console_store::Window;
use gateway_domain::ids::CaseId;

use super::cases::Choice;
use super::{ConsoleError, Layout, render, tenant_of};
use crate::App;
use crate::auth::Operator;
use crate::views::filter::paginate;
use crate::views::local_time_seconds;
use crate::views::log::{Kind, LogFilter, RawLogFilter, hint};
use crate::views::timeline::EntryView;

/// The exchange log reads at most this many entries per period.
const MAX_ENTRIES: usize = 2000;

pub struct LogRow {
    pub link: String,
    pub time: String,
    pub operation: String,
    pub endpoint: String,
    pub status_code: u16,
    pub kind: &'static str,
    pub badge: &'static str,
    pub duration: String,
    pub hint: &'static str,
    pub operator: String,
    pub test: bool,
}

#[derive(Template)]
#[template(path = "log.html")]
struct LogPage {
    layout: Layout,
    kinds: Vec<Choice>,
    min: String,
    max: String,
    from: String,
    to: String,
    rows: Vec<LogRow>,
    count: usize,
    page: usize,
    pages: usize,
    prev_link: Option<String>,
    next_link: Option<String>,
}

/// Exchange-log entries of test webhooks live under this pseudo case.
pub const TEST_CASE: &str = "TEST";

pub async fn page(
    State(app): State<Arc<App>>,
    op: Operator,
    Query(raw): Query<RawLogFilter>,
) -> Result<Response, ConsoleError> {
    let tenant = tenant_of(&app, &op).await?;
    let lang = op.lang;
    let t = lang.texts();
    let tz = tenant.tz();
    let filter = LogFilter::parse(&raw, Utc::now().with_timezone(&tz).date_naive());
    let (from, to) = crate::views::day_window(filter.from, filter.to, tz);
    let entries = app
        .store
        .log_rows(
            &op.company,
            Window {
                from: Some(from),
                to: Some(to),
            },
            MAX_ENTRIES,
        )
        .await
        .map_err(|e| ConsoleError::store(e, lang))?;
    let selected: Vec<_> = entries.into_iter().filter(|(_, e)| filter.matches(e)).collect();
    let count = selected.len();
    let (rows, pages) = paginate(selected, filter.page);
    let page = filter.page.min(pages);
    let link = |p: usize| format!("/console/log?{}", filter.query(p));
    let view = LogPage {
        layout: Layout::new(&op, &tenant, "log", t.nav_log),
        kinds: Kind::ALL
            .iter()
            .map(|k| Choice {
                value: k.code().into(),
                label: k.label(lang).into(),
                selected: filter.kind == Some(*k),
            })
            .collect(),
        min: filter.min.map(|m| m.to_string()).unwrap_or_default(),
        max: filter.max.map(|m| m.to_string()).unwrap_or_default(),
        from: filter.from.to_string(),
        to: filter.to.to_string(),
        rows: rows
            .iter()
            .map(|(case, e)| {
                let kind = Kind::of(e);
                LogRow {
                    link: format!("/console/log/{case}/{}", e.event_id),
                    time: local_time_seconds(e.created_at, tz),
                    operation: format!("{} · {}", e.handler, e.operation),
                    endpoint: e.endpoint.clone(),
                    status_code: e.status_code,
                    kind: kind.label(lang),
                    badge: kind.badge(),
                    duration: crate::views::duration(chrono::Duration::milliseconds(e.duration_ms as i64)),
                    hint: hint(e, lang),
                    operator: e.operator.clone().unwrap_or_default(),
                    test: case.as_str() == TEST_CASE,
                }
            })
            .collect(),
        count,
        page,
        pages,
        prev_link: (page > 1).then(|| link(page - 1)),
        next_link: (page < pages).then(|| link(page + 1)),
    };
    render(&view, lang)
}

#[derive(Template)]
#[template(path = "log_entry.html")]
struct EntryPage {
    layout: Layout,
    case_link: Option<String>,
    time: String,
    operation: String,
    kind: &'static str,
    badge: &'static str,
    detail: Option<String>,
    operator: Option<String>,
    entry: EntryView,
}

pub async fn entry(
    State(app): State<Arc<App>>,
    op: Operator,
    Path((case_id, event_id)): Path<(String, String)>,
) -> Result<Response, ConsoleError> {
    let tenant = tenant_of(&app, &op).await?;
    let lang = op.lang;
    let case = CaseId::new(case_id);
    let found = app
        .store
        .log_entry(&op.company, &case, &event_id)
        .await
        .map_err(|e| ConsoleError::store(e, lang))?
        .ok_or(ConsoleError::NotFound(lang))?;
    let kind = Kind::of(&found);
    let view = EntryPage {
        layout: Layout::new(&op, &tenant, "log", lang.texts().nav_log),
        case_link: (case.as_str() != TEST_CASE).then(|| format!("/console/by-id/{case}")),
        time: local_time_seconds(found.created_at, tenant.tz()),
        operation: format!("{} · {}", found.handler, found.operation),
        kind: kind.label(lang),
        badge: kind.badge(),
        detail: found.detail.clone(),
        operator: found.operator.clone(),
        entry: EntryView::of(&found, lang),
    };
    render(&view, lang)
}
