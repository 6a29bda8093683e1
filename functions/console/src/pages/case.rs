//! `GET /console/cases/<call id>`: one case of the session's company (another company's case
//! is a 404, as if it did not exist), with its caller, enrichment, call, recording, transcript
//! and trail; and what operators do to it, each audited on the case's trail with who did it.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use gateway_domain::call_event::CallEventReader;
use gateway_domain::case::{CaseReader, CaseStatus, Channel, Priority, ServiceCase};
use gateway_domain::delivery::redeliver::{RedeliveryPorts, Requester, redeliver as redeliver_case};
use gateway_domain::exchange::{ExchangeEntry, ExchangeLog};
use gateway_domain::ids::{CallId, CaseId};
use gateway_domain::tenancy::Tenant;
use serde::Deserialize;

use super::cases::{Choice, category_name};
use super::{ConsoleError, Layout, render, tenant_of};
use crate::App;
use crate::auth::{Checked, Operator};
use crate::i18n::Lang;
use crate::views::timeline::{self, Item};
use crate::views::{duration, local_time};

/// A label and a value (empty values are left out of the page).
pub struct Field {
    pub label: &'static str,
    pub value: String,
}

fn fields(pairs: Vec<(&'static str, Option<String>)>) -> Vec<Field> {
    pairs
        .into_iter()
        .filter_map(|(label, value)| value.filter(|v| !v.is_empty()).map(|value| Field { label, value }))
        .collect()
}

pub struct Line {
    pub agent: bool,
    pub role: &'static str,
    pub content: String,
}

#[derive(Template)]
#[template(path = "case.html")]
struct CasePage {
    layout: Layout,
    call_id: String,
    ticket: String,
    subject: String,
    description: String,
    status: &'static str,
    status_code: &'static str,
    priority: &'static str,
    priority_code: &'static str,
    output: &'static str,
    output_code: &'static str,
    enrichment: &'static str,
    overdue: bool,
    details: Vec<Field>,
    caller: Vec<Field>,
    enrichment_fields: Vec<Field>,
    call: Vec<Field>,
    recording_url: Option<String>,
    summary: Option<String>,
    transcript: Vec<Line>,
    timeline: Vec<Item>,
    can_act: bool,
    statuses: Vec<Choice>,
    priorities: Vec<Choice>,
    done: Option<&'static str>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Done {
    done: String,
}

/// The case of the session's company with this call id, or 404.
async fn load(app: &App, op: &Operator, call_id: &str) -> Result<ServiceCase, ConsoleError> {
    app.store
        .get_case(&op.company, &CallId::new(call_id))
        .await
        .map_err(|e| ConsoleError::store(e, op.lang))?
        .ok_or(ConsoleError::NotFound(op.lang))
}

pub async fn page(
    State(app): State<Arc<App>>,
    op: Operator,
    Path(call_id): Path<String>,
    Query(done): Query<Done>,
) -> Result<Response, ConsoleError> {
    let (tenant, case) = tokio::try_join!(tenant_of(&app, &op), load(&app, &op, &call_id))?;
    let lang = op.lang;
    let (events, log) = tokio::try_join!(
        app.store.call_events(Some(&op.company), &case.call_id),
        app.store.exchange_log(&op.company, &case.case_id),
    )
    .map_err(|e| ConsoleError::store(e, lang))?;
    let entries: Vec<ExchangeEntry> = log.into_iter().filter_map(|v| serde_json::from_value(v).ok()).collect();
    let t = lang.texts();
    let tz = tenant.tz();
    let now = Utc::now();
    let recording_url = match (&app.links, case.enrichment.audio_object_key.as_deref()) {
        (Some(links), Some(key)) => Some(links.recording_link(&tenant, key, now).0),
        _ => None,
    };
    let page = CasePage {
        layout: Layout::new(
            &op,
            &tenant,
            "cases",
            case.ticket_ref.as_deref().unwrap_or(t.pending_ticket),
        ),
        call_id: case.call_id.to_string(),
        ticket: case.ticket_ref.as_deref().unwrap_or(t.pending_ticket).to_string(),
        subject: case.subject.clone(),
        description: case.description.clone(),
        status: lang.status(case.status),
        status_code: case.status.as_str(),
        priority: lang.priority(case.priority),
        priority_code: case.priority.as_str(),
        output: lang.output(case.output_status),
        output_code: case.output_status.as_str(),
        enrichment: lang.enrichment(case.enrichment_status),
        overdue: crate::views::filter::is_overdue(&case, now),
        details: details(&case, &tenant, lang),
        caller: caller(&case, lang),
        enrichment_fields: enrichment(&case, &tenant, lang),
        call: call(&case, lang),
        recording_url,
        summary: case.analysis.summary.clone(),
        transcript: case
            .transcript
            .iter()
            .map(|u| Line {
                agent: u.role == "agent",
                role: if u.role == "agent" { t.agent_role } else { t.caller_role },
                content: u.content.clone(),
            })
            .collect(),
        timeline: timeline::build(&events, &entries, tz, lang),
        can_act: op.can_act(),
        statuses: CaseStatus::ALL
            .iter()
            .map(|s| Choice {
                value: s.as_str().into(),
                label: lang.status(*s).into(),
                selected: *s == case.status,
            })
            .collect(),
        priorities: Priority::ALL
            .iter()
            .map(|p| Choice {
                value: p.as_str().into(),
                label: lang.priority(*p).into(),
                selected: *p == case.priority,
            })
            .collect(),
        done: match done.done.as_str() {
            "redeliver" => Some(t.done_redeliver),
            "workflow" => Some(t.done_workflow),
            "note" => Some(t.done_note),
            _ => None,
        },
    };
    render(&page, lang)
}

fn details(case: &ServiceCase, tenant: &Tenant, lang: Lang) -> Vec<Field> {
    let t = lang.texts();
    let tz = tenant.tz();
    fields(vec![
        (t.case_type, Some(lang.case_type(case.case_type).to_string())),
        (t.category, Some(category_name(tenant, case.category.as_deref()))),
        (t.col_created, Some(local_time(case.created_at, tz))),
        (t.source, Some(case.source.as_str().to_string())),
        (t.sla_response, case.sla_response_due_at.map(|d| local_time(d, tz))),
        (t.sla_resolution, case.sla_resolution_due_at.map(|d| local_time(d, tz))),
        (t.external_ref, case.external_reference.clone()),
        (t.output_error, case.output_error.clone()),
    ])
}

fn caller(case: &ServiceCase, lang: Lang) -> Vec<Field> {
    let t = lang.texts();
    let c = &case.caller;
    fields(vec![
        (t.name, c.name.clone()),
        (t.company_name, c.company.clone()),
        (t.phone, c.phone.clone()),
        (t.caller_id, c.caller_id.clone()),
        (t.email, c.email.clone()),
        (t.location, c.location.clone()),
        (t.others_affected, c.others_affected.map(|v| lang.yes_no(v).to_string())),
        (t.problem_since, c.problem_since.as_ref().map(|p| p.original.clone())),
    ])
}

fn enrichment(case: &ServiceCase, tenant: &Tenant, lang: Lang) -> Vec<Field> {
    let t = lang.texts();
    let e = &case.enrichment;
    fields(vec![
        (t.status, Some(lang.enrichment(case.enrichment_status).to_string())),
        (
            t.customer_match,
            e.customer
                .as_ref()
                .map(|m| format!("{} ({}, {:.0} %)", m.customer_id, m.kind.as_str(), m.confidence * 100.0)),
        ),
        (t.recording_note, e.recording_note.clone()),
        (
            t.transcript,
            e.transcript_segment_count.map(|n| format!("{n} Segmente")),
        ),
        (t.error, e.error.clone()),
        (t.finished_at, e.finished_at.map(|d| local_time(d, tenant.tz()))),
    ])
}

fn call(case: &ServiceCase, lang: Lang) -> Vec<Field> {
    let t = lang.texts();
    let c = &case.call;
    fields(vec![
        ("Call-ID", Some(c.call_id.to_string())),
        (t.agent_role, c.agent_name.clone().or_else(|| c.agent_id.clone())),
        (lang.pick("Von", "From"), c.from_number.clone()),
        (lang.pick("An", "To"), c.to_number.clone()),
        (
            t.duration,
            c.duration_ms.map(|ms| duration(chrono::Duration::milliseconds(ms))),
        ),
        (lang.pick("Beendet durch", "Ended by"), c.disconnection_reason.clone()),
    ])
}

/// Writes an audit entry of an operator's action on the case's trail.
async fn audit(
    app: &App,
    op: &Operator,
    case: &ServiceCase,
    operation: &str,
    detail: String,
) -> Result<(), ConsoleError> {
    let mut entry = ExchangeEntry::internal("console", operation, 200, 0, Utc::now());
    entry.detail = Some(gateway_domain::text::truncate_chars(&detail, 2000));
    entry.operator = Some(op.username.clone());
    app.store
        .append(&case.company_id, &case.case_id, &entry)
        .await
        .map_err(|e| ConsoleError::store(e, op.lang))
}

fn back(call_id: &str, done: &str) -> Response {
    let path = format!(
        "/console/cases/{}?done={done}",
        url::form_urlencoded::byte_serialize(call_id.as_bytes()).collect::<String>()
    );
    Redirect::to(&path).into_response()
}

#[derive(Deserialize)]
pub struct RedeliverForm {
    /// `missing` (only channels not delivered yet), `email`, `webhook` or `both`.
    channels: String,
}

/// `POST …/redeliver`: the same operation as `gatewayctl cases redeliver`.
pub async fn redeliver(
    State(app): State<Arc<App>>,
    Path(call_id): Path<String>,
    Checked(op, form): Checked<RedeliverForm>,
) -> Result<Response, ConsoleError> {
    op.require_act()?;
    let case = load(&app, &op, &call_id).await?;
    let channels: Vec<Channel> = match form.channels.as_str() {
        "email" => vec![Channel::Email],
        "webhook" => vec![Channel::Webhook],
        "both" => vec![Channel::Email, Channel::Webhook],
        _ => Vec::new(),
    };
    let ports = RedeliveryPorts {
        store: &app.store,
        log: &app.store,
        queue: &app.queue,
    };
    let by = Requester {
        handler: "console",
        operator: &op.username,
        at: Utc::now(),
    };
    redeliver_case(ports, &case, &channels, &by)
        .await
        .map_err(|e| ConsoleError::store(e, op.lang))?;
    tracing::info!(user = %op.username, case = %case.case_id, "redelivery requested in the console");
    Ok(back(&call_id, "redeliver"))
}

#[derive(Deserialize)]
pub struct WorkflowForm {
    status: String,
    priority: String,
    #[serde(default)]
    note: String,
}

/// `POST …/workflow`: status and priority, with an optional note, audited with the change.
pub async fn workflow(
    State(app): State<Arc<App>>,
    Path(call_id): Path<String>,
    Checked(op, form): Checked<WorkflowForm>,
) -> Result<Response, ConsoleError> {
    op.require_act()?;
    let case = load(&app, &op, &call_id).await?;
    let status = CaseStatus::ALL
        .iter()
        .copied()
        .find(|s| s.as_str() == form.status)
        .ok_or(ConsoleError::BadRequest(op.lang))?;
    let priority = Priority::ALL
        .iter()
        .copied()
        .find(|p| p.as_str() == form.priority)
        .ok_or(ConsoleError::BadRequest(op.lang))?;
    if status == case.status && priority == case.priority && form.note.trim().is_empty() {
        return Ok(back(&call_id, "workflow"));
    }
    let changed = app
        .store
        .set_case_workflow(&op.company, &case.call_id, status, priority, Utc::now())
        .await
        .map_err(|e| ConsoleError::store(e, op.lang))?;
    if !changed {
        return Err(ConsoleError::NotFound(op.lang));
    }
    let mut detail = format!(
        "status {} → {}, priority {} → {}",
        case.status.as_str(),
        status.as_str(),
        case.priority.as_str(),
        priority.as_str()
    );
    if !form.note.trim().is_empty() {
        detail.push_str(&format!("; note: {}", form.note.trim()));
    }
    audit(&app, &op, &case, "status-change", detail).await?;
    Ok(back(&call_id, "workflow"))
}

#[derive(Deserialize)]
pub struct NoteForm {
    note: String,
}

/// `POST …/notes`: an internal note on the case's trail.
pub async fn note(
    State(app): State<Arc<App>>,
    Path(call_id): Path<String>,
    Checked(op, form): Checked<NoteForm>,
) -> Result<Response, ConsoleError> {
    op.require_act()?;
    let case = load(&app, &op, &call_id).await?;
    if form.note.trim().is_empty() {
        return Err(ConsoleError::BadRequest(op.lang));
    }
    audit(&app, &op, &case, "note", form.note.trim().to_string()).await?;
    Ok(back(&call_id, "note"))
}

/// `GET /console/by-id/<case id>`: to the case's page (the exchange log knows cases by id).
pub async fn by_id(
    State(app): State<Arc<App>>,
    op: Operator,
    Path(case_id): Path<String>,
) -> Result<Response, ConsoleError> {
    let case = app
        .store
        .case_by_id(&op.company, &CaseId::new(case_id))
        .await
        .map_err(|e| ConsoleError::store(e, op.lang))?
        .ok_or(ConsoleError::NotFound(op.lang))?;
    let path = format!(
        "/console/cases/{}",
        url::form_urlencoded::byte_serialize(case.call_id.as_bytes()).collect::<String>()
    );
    Ok(Redirect::to(&path).into_response())
}
