//! `GET /console/cases`: the company's cases of the chosen days (one read of the case index),
//! filtered, searched and paged; `GET /console/cases.csv`: the same list as CSV.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use gateway_adapters::console_store::Window;
use gateway_domain::case::{CaseStatus, EnrichmentStatus, OutputStatus, Priority, ServiceCase};
use gateway_domain::ids::TicketRef;
use gateway_domain::tenancy::Tenant;

use super::{ConsoleError, Layout, render, tenant_of};
use crate::App;
use crate::auth::Operator;
use crate::i18n::Lang;
use crate::views::filter::{CaseFilter, PAGE_SIZE, RawFilter, is_overdue, paginate};
use crate::views::local_time;

/// One case as a list row.
pub struct Row {
    pub call_id: String,
    pub ticket: String,
    pub created: String,
    pub subject: String,
    pub caller: String,
    pub status: &'static str,
    pub status_code: &'static str,
    pub priority: &'static str,
    pub priority_code: &'static str,
    pub category: String,
    pub output: &'static str,
    pub output_code: &'static str,
    pub sla_due: String,
    pub overdue: bool,
}

impl Row {
    pub fn of(c: &ServiceCase, tenant: &Tenant, lang: Lang, now: DateTime<Utc>) -> Self {
        let tz = tenant.tz();
        let caller = [c.caller.name.as_deref(), c.caller.company.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(", ");
        Row {
            call_id: c.call_id.to_string(),
            ticket: c
                .ticket_ref
                .as_deref()
                .unwrap_or(lang.texts().pending_ticket)
                .to_string(),
            created: local_time(c.created_at, tz),
            subject: c.subject.clone(),
            caller: if caller.is_empty() {
                c.caller.phone.clone().unwrap_or_default()
            } else {
                caller
            },
            status: lang.status(c.status),
            status_code: c.status.as_str(),
            priority: lang.priority(c.priority),
            priority_code: c.priority.as_str(),
            category: category_name(tenant, c.category.as_deref()),
            output: lang.output(c.output_status),
            output_code: c.output_status.as_str(),
            sla_due: c.sla_resolution_due_at.map(|t| local_time(t, tz)).unwrap_or_default(),
            overdue: is_overdue(c, now),
        }
    }
}

pub fn category_name(tenant: &Tenant, slug: Option<&str>) -> String {
    match slug {
        Some(s) => tenant.category(s).map_or_else(|| s.to_string(), |c| c.name.clone()),
        None => String::new(),
    }
}

/// A choice in a filter's select.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

fn choices<T: Copy + PartialEq>(
    all: &[T],
    chosen: Option<T>,
    code: fn(T) -> &'static str,
    label: impl Fn(T) -> &'static str,
) -> Vec<Choice> {
    all.iter()
        .map(|v| Choice {
            value: code(*v).to_string(),
            label: label(*v).to_string(),
            selected: chosen == Some(*v),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "cases.html")]
struct CasesPage {
    layout: Layout,
    statuses: Vec<Choice>,
    priorities: Vec<Choice>,
    categories: Vec<Choice>,
    outputs: Vec<Choice>,
    enrichments: Vec<Choice>,
    overdue: bool,
    from: String,
    to: String,
    q: String,
    rows: Vec<Row>,
    count_label: String,
    page_info: String,
    prev_link: Option<String>,
    next_link: Option<String>,
    csv_link: String,
}

/// The cases the filter selects, newest first.
async fn select(
    app: &App,
    op: &Operator,
    tenant: &Tenant,
    filter: &CaseFilter,
) -> Result<Vec<ServiceCase>, ConsoleError> {
    let now = Utc::now();
    // A ticket reference typed in full is found through its own index, whatever the dates.
    if let Some(reference) = filter.ticket_reference() {
        let found = app
            .store
            .case_by_ticket(&op.company, &TicketRef::new(reference))
            .await
            .map_err(|e| ConsoleError::store(e, op.lang))?;
        return Ok(found.into_iter().filter(|c| filter.matches(c, now)).collect());
    }
    let (from, to) = filter.window(tenant.tz());
    let rows = app
        .store
        .case_rows(
            &op.company,
            Window {
                from: Some(from),
                to: Some(to),
            },
        )
        .await
        .map_err(|e| ConsoleError::store(e, op.lang))?;
    Ok(rows.into_iter().filter(|c| filter.matches(c, now)).collect())
}

fn today(tenant: &Tenant) -> chrono::NaiveDate {
    Utc::now().with_timezone(&tenant.tz()).date_naive()
}

pub async fn page(
    State(app): State<Arc<App>>,
    op: Operator,
    Query(raw): Query<RawFilter>,
) -> Result<Response, ConsoleError> {
    let tenant = tenant_of(&app, &op).await?;
    let lang = op.lang;
    let t = lang.texts();
    let filter = CaseFilter::parse(&raw, today(&tenant));
    let now = Utc::now();
    let (rows, count_label, page_info, prev_link, next_link) = if filter.is_plain() {
        // Only days chosen: one page read from the index, whatever the period holds.
        let (from, to) = filter.window(tenant.tz());
        let (rows, next) = app
            .store
            .case_page(
                &op.company,
                Window {
                    from: Some(from),
                    to: Some(to),
                },
                filter.after.as_deref(),
                PAGE_SIZE,
            )
            .await
            .map_err(|e| ConsoleError::store(e, lang))?;
        let first = filter
            .after
            .is_some()
            .then(|| format!("/console/cases?{}", filter.query(1)));
        let next = next.map(|cursor| format!("/console/cases?{}", filter.query_after(&cursor)));
        (rows, t.newest_first.to_string(), String::new(), first, next)
    } else {
        let selected = select(&app, &op, &tenant, &filter).await?;
        let count = selected.len();
        let (rows, pages) = paginate(selected, filter.page);
        let page = filter.page.min(pages);
        let link = |p: usize| format!("/console/cases?{}", filter.query(p));
        (
            rows,
            format!("{count} {}", t.results),
            format!("{} {page} {} {pages}", t.page, t.of),
            (page > 1).then(|| link(page - 1)),
            (page < pages).then(|| link(page + 1)),
        )
    };
    let view = CasesPage {
        layout: Layout::new(&op, &tenant, "cases", t.nav_cases),
        statuses: choices(CaseStatus::ALL, filter.status, CaseStatus::as_str, |s| lang.status(s)),
        priorities: choices(Priority::ALL, filter.priority, Priority::as_str, |p| lang.priority(p)),
        categories: tenant
            .categories
            .iter()
            .map(|c| Choice {
                value: c.slug.clone(),
                label: c.name.clone(),
                selected: filter.category.as_deref() == Some(c.slug.as_str()),
            })
            .collect(),
        outputs: choices(OutputStatus::ALL, filter.output, OutputStatus::as_str, |o| {
            lang.output(o)
        }),
        enrichments: choices(
            EnrichmentStatus::ALL,
            filter.enrichment,
            EnrichmentStatus::as_str,
            |e| lang.enrichment(e),
        ),
        overdue: filter.overdue,
        from: filter.from.to_string(),
        to: filter.to.to_string(),
        q: filter.q.clone(),
        rows: rows.iter().map(|c| Row::of(c, &tenant, lang, now)).collect(),
        count_label,
        page_info,
        prev_link,
        next_link,
        csv_link: format!("/console/cases.csv?{}", filter.query(1)),
    };
    render(&view, lang)
}

/// A cell a spreadsheet could take for a formula is prefixed with `'`.
fn cell(value: &str) -> String {
    match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{value}"),
        _ => value.to_string(),
    }
}

/// `GET /console/cases.csv`: every case the filter selects (no paging), `;`-separated with a
/// BOM, as German spreadsheets open it.
pub async fn csv(
    State(app): State<Arc<App>>,
    op: Operator,
    Query(raw): Query<RawFilter>,
) -> Result<Response, ConsoleError> {
    let tenant = tenant_of(&app, &op).await?;
    let lang = op.lang;
    let t = lang.texts();
    let filter = CaseFilter::parse(&raw, today(&tenant));
    let selected = select(&app, &op, &tenant, &filter).await?;
    let tz = tenant.tz();
    let mut out = csv::WriterBuilder::new().delimiter(b';').from_writer(Vec::new());
    let header = [
        t.col_ticket,
        t.col_created,
        t.status,
        t.priority,
        t.category,
        t.col_subject,
        t.name,
        t.company_name,
        t.phone,
        t.output_status,
        t.enrichment,
        t.sla_resolution,
        t.external_ref,
    ];
    let failed = |_| ConsoleError::Internal(lang);
    out.write_record(header).map_err(failed)?;
    for c in &selected {
        let record = [
            c.ticket_ref.as_deref().unwrap_or_default().to_string(),
            local_time(c.created_at, tz),
            lang.status(c.status).to_string(),
            lang.priority(c.priority).to_string(),
            category_name(&tenant, c.category.as_deref()),
            c.subject.clone(),
            c.caller.name.clone().unwrap_or_default(),
            c.caller.company.clone().unwrap_or_default(),
            c.caller.phone.clone().unwrap_or_default(),
            lang.output(c.output_status).to_string(),
            lang.enrichment(c.enrichment_status).to_string(),
            c.sla_resolution_due_at.map(|d| local_time(d, tz)).unwrap_or_default(),
            c.external_reference.clone().unwrap_or_default(),
        ];
        out.write_record(record.iter().map(|v| cell(v))).map_err(failed)?;
    }
    let mut body = "\u{feff}".as_bytes().to_vec();
    body.extend(out.into_inner().map_err(|_| ConsoleError::Internal(lang))?);
    let name = format!(
        "attachment; filename=\"faelle-{}-{}-{}.csv\"",
        op.company, filter.from, filter.to
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, name),
        ],
        body,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    #[test]
    fn formulas_are_defused() {
        assert_eq!(super::cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(super::cell("+49511"), "'+49511");
        assert_eq!(super::cell("Drucker"), "Drucker");
    }
}
