//! `GET /console/outputs`: the company's output configurations, read-only (configuration is
//! code, applied with gatewayctl); a test webhook (marked as a test, through the same signing
//! and SSRF guard as real deliveries, logged) and an e-mail preview of a sample case.

use std::sync::Arc;
use std::time::Duration;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::header::{self, HeaderValue};
use axum::response::{Html, IntoResponse, Response};
use chrono::Utc;
use gateway_domain::deadline::Deadline;
use gateway_domain::delivery::WebhookClient;
use gateway_domain::delivery::email::compose;
use gateway_domain::delivery::template::{RenderExtras, sample_case};
use gateway_domain::delivery::webhook::{Verdict, build_request, verdict};
use gateway_domain::exchange::{Direction, ExchangeEntry, ExchangeLog, redact_body, redact_error, redact_url};
use gateway_domain::ids::CaseId;
use gateway_domain::tenancy::Tenant;
use gateway_domain::tenancy::output::{AudioOption, EmailTemplate, OutputConfig, OutputType};

use super::log::TEST_CASE;
use super::login::Empty;
use super::{ConsoleError, Layout, render, tenant_of};
use crate::App;
use crate::auth::{Checked, Operator};
use crate::i18n::Lang;
use crate::views::log::{Kind, hint};

/// A test webhook gets at most this long (inside the page's own deadline).
const TEST_TIMEOUT: Duration = Duration::from_secs(10);

pub struct OutputView {
    pub id: String,
    pub name: String,
    pub kind: &'static str,
    pub categories: String,
    pub email: Option<Vec<(&'static str, String)>>,
    pub webhook: Option<Vec<(&'static str, String)>>,
}

pub struct TestResult {
    pub output: String,
    pub status: String,
    pub kind: &'static str,
    pub badge: &'static str,
    pub hint: &'static str,
    pub response: String,
}

#[derive(Template)]
#[template(path = "outputs.html")]
struct OutputsPage {
    layout: Layout,
    outputs: Vec<OutputView>,
    can_test: bool,
    result: Option<TestResult>,
}

fn view(output: &OutputConfig, tenant: &Tenant, lang: Lang) -> OutputView {
    let t = lang.texts();
    let categories: Vec<&str> = tenant
        .categories
        .iter()
        .filter(|c| c.output.as_deref() == Some(output.id.as_str()))
        .map(|c| c.name.as_str())
        .collect();
    OutputView {
        id: output.id.clone(),
        name: if output.name.is_empty() {
            output.id.clone()
        } else {
            output.name.clone()
        },
        kind: match output.kind {
            OutputType::Email => t.email,
            OutputType::Webhook => "Webhook",
            OutputType::Hybrid => lang.pick("E-Mail und Webhook", "E-mail and webhook"),
        },
        categories: categories.join(", "),
        email: output.email.as_ref().map(|e| {
            let recipients: Vec<String> = e
                .recipients
                .iter()
                .map(|r| {
                    if e.muted.iter().any(|m| m.eq_ignore_ascii_case(r)) {
                        format!("{r} ({})", t.muted)
                    } else {
                        r.clone()
                    }
                })
                .collect();
            vec![
                (t.recipients, recipients.join(", ")),
                (t.fallback, e.fallback.join(", ")),
                (
                    t.template,
                    match e.template {
                        EmailTemplate::Standard => "Standard".into(),
                        EmailTemplate::Technical => lang
                            .pick("Technisch (mit JSON-Anhang)", "Technical (JSON attachment)")
                            .into(),
                    },
                ),
                (
                    t.audio,
                    match e.audio {
                        AudioOption::None => t.none.into(),
                        AudioOption::Link => "Link".into(),
                        AudioOption::Attachment => lang.pick("Anhang", "Attachment").into(),
                    },
                ),
                (t.transcript, lang.yes_no(e.include_transcript).into()),
                (t.summary, lang.yes_no(e.include_summary).into()),
            ]
        }),
        webhook: output.webhook.as_ref().map(|w| {
            vec![
                (t.url, redact_url(&w.url)),
                (
                    t.preset,
                    w.preset
                        .clone()
                        .unwrap_or_else(|| lang.pick("eigene Vorlage", "custom template").into()),
                ),
                (
                    t.secret,
                    if w.secret.is_some() {
                        t.secret_set
                    } else {
                        t.secret_none
                    }
                    .into(),
                ),
                (
                    t.custom_headers,
                    w.headers.keys().cloned().collect::<Vec<_>>().join(", "),
                ),
                (t.transcript, lang.yes_no(w.include_transcript).into()),
                (t.status, if w.enabled { t.enabled } else { t.disabled }.into()),
            ]
        }),
    }
}

fn outputs_page(op: &Operator, tenant: &Tenant, result: Option<TestResult>) -> Result<Response, ConsoleError> {
    let page = OutputsPage {
        layout: Layout::new(op, tenant, "outputs", op.lang.texts().nav_outputs),
        outputs: tenant.outputs.iter().map(|o| view(o, tenant, op.lang)).collect(),
        can_test: op.can_administer(),
        result,
    };
    render(&page, op.lang)
}

pub async fn page(State(app): State<Arc<App>>, op: Operator) -> Result<Response, ConsoleError> {
    let tenant = tenant_of(&app, &op).await?;
    outputs_page(&op, &tenant, None)
}

/// The sample case as this company's, marked as a test.
fn test_case(tenant: &Tenant) -> gateway_domain::case::ServiceCase {
    let mut case = sample_case();
    case.company_id = tenant.company_id().clone();
    case.subject = format!("[TEST] {}", case.subject);
    case
}

/// `POST /console/outputs/<id>/test` (admins): one signed request to the output's webhook.
pub async fn test_webhook(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    Checked(op, _): Checked<Empty>,
) -> Result<Response, ConsoleError> {
    op.require_admin()?;
    let lang = op.lang;
    let tenant = tenant_of(&app, &op).await?;
    let output = tenant
        .outputs
        .iter()
        .find(|o| o.id == id)
        .ok_or(ConsoleError::NotFound(lang))?;
    let hook = output.webhook.as_ref().ok_or(ConsoleError::NotFound(lang))?;
    let webhooks = app.webhooks.as_ref().ok_or(ConsoleError::Unavailable(lang))?;
    let now = Utc::now();
    let case = test_case(&tenant);
    let extras = RenderExtras {
        now: Some(now),
        ..Default::default()
    };
    let mut entry = ExchangeEntry::internal("console", "test-webhook", 0, 1, now);
    entry.direction = Direction::Outbound;
    entry.method = "POST".into();
    entry.endpoint = redact_url(&hook.url);
    entry.operator = Some(op.username.clone());
    entry.detail = Some(format!("test webhook of output {}", output.id));
    let response_text;
    match build_request(&case, hook, &tenant.presets, &extras, now.timestamp()) {
        Err(e) => {
            entry.status_code = 500;
            entry.error_class = Some("TemplateError".into());
            entry.error_message = Some(redact_error(&e.to_string()));
            response_text = e.to_string();
        }
        Ok(mut request) => {
            // Marked as a test for the receiver; signed exactly as a real delivery.
            for (name, value) in &mut request.headers {
                if name.eq_ignore_ascii_case("x-event") {
                    *value = "service_case.test".into();
                }
            }
            request.headers.push(("X-Gateway-Test".into(), "true".into()));
            entry.request_body = Some(redact_body(&request.body, 16_000));
            entry.headers = request.redacted_headers();
            let started = std::time::Instant::now();
            let answer = webhooks.post(&request, Deadline::after(TEST_TIMEOUT)).await;
            entry.duration_ms = started.elapsed().as_millis() as u64;
            match answer {
                Ok(resp) => {
                    entry.status_code = resp.status;
                    entry.response_body = Some(redact_body(&resp.body, 4_000));
                    match verdict(
                        resp.status,
                        &resp.body,
                        &hook.permanent_statuses,
                        request.external_id_path.as_deref(),
                    ) {
                        Verdict::Delivered { .. } => {}
                        Verdict::Retry { class, message } | Verdict::Permanent { class, message } => {
                            entry.error_class = Some(class);
                            entry.error_message = Some(message);
                        }
                    }
                    response_text = entry.response_body.clone().unwrap_or_default();
                }
                Err(e) => {
                    let (code, class, _) = e.classified();
                    entry.status_code = code;
                    entry.error_class = Some(class.into());
                    entry.error_message = Some(redact_error(&e.to_string()));
                    response_text = redact_error(&e.to_string());
                }
            }
        }
    }
    app.store
        .append(&op.company, &CaseId::new(TEST_CASE), &entry)
        .await
        .map_err(|e| ConsoleError::store(e, lang))?;
    tracing::info!(user = %op.username, output = %output.id, status = entry.status_code, "test webhook sent");
    let kind = Kind::of(&entry);
    let result = TestResult {
        output: output.id.clone(),
        status: entry.status_code.to_string(),
        kind: kind.label(lang),
        badge: kind.badge(),
        hint: hint(&entry, lang),
        response: response_text,
    };
    outputs_page(&op, &tenant, Some(result))
}

/// `GET /console/outputs/<id>/preview`: the e-mail of the sample case as the first recipient
/// would get it, in a sandbox (no scripts, nothing loaded).
pub async fn email_preview(
    State(app): State<Arc<App>>,
    op: Operator,
    Path(id): Path<String>,
) -> Result<Response, ConsoleError> {
    let lang = op.lang;
    let tenant = tenant_of(&app, &op).await?;
    let output = tenant
        .outputs
        .iter()
        .find(|o| o.id == id)
        .ok_or(ConsoleError::NotFound(lang))?;
    let email = output.email.as_ref().ok_or(ConsoleError::NotFound(lang))?;
    let case = test_case(&tenant);
    let to = email.recipients.first().cloned().unwrap_or_default();
    let extras = RenderExtras {
        now: Some(Utc::now()),
        ..Default::default()
    };
    let category = gateway_domain::delivery::email::category_name(&tenant, &case);
    let message = compose(&case, &tenant.config.name, category, email, &extras, tenant.tz(), &to).map_err(|e| {
        tracing::error!(error = %e, "e-mail preview");
        ConsoleError::Internal(lang)
    })?;
    let mut response = Html(message.html).into_response();
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; sandbox",
        ),
    );
    Ok(response)
}
