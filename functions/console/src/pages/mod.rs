//! The console's routes under `/console`: thin handlers that read through the stores keyed by
//! the session's company, hand the results to `views` and render askama templates (checked
//! at compile time). Every page gets the security headers; every form that changes something
//! goes through the CSRF check (`auth::Checked`).

mod case;
mod cases;
mod dashboard;
mod log;
mod login;
mod outputs;

use gateway_domain::metrics::{Measurement, Unit, dimensions, names};
use std::sync::{Arc, LazyLock};

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, Request, State};
use axum::http::header::{self, HeaderName, HeaderValue};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{any, get, post};
use gateway_domain::deadline::Deadline;
use gateway_domain::error::{StoreError, chain};
use gateway_domain::tenancy::Tenant;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::auth::{Checked, Operator};
use crate::i18n::{LANG_COOKIE, Lang, Texts};
use crate::{App, TIME_BUDGET};

const CSS: &str = include_str!("../../static/console.css");
const JS: &str = include_str!("../../static/console.js");

/// Part of the assets' paths: a new build gets new URLs, so they can be cached for a year.
static ASSET_VERSION: LazyLock<String> = LazyLock::new(|| {
    let mut hash = Sha256::new();
    hash.update(CSS);
    hash.update(JS);
    hex::encode(&hash.finalize()[..6])
});

/// Every route of the console.
pub fn router(app: Arc<App>) -> Router {
    let pages = Router::new()
        .route("/console", get(dashboard::page))
        .route("/console/", get(dashboard::page))
        .route("/console/login", get(login::form).post(login::submit))
        .route("/console/logout", post(login::sign_out))
        .route("/console/company", post(switch_company))
        .route("/console/lang/{code}", get(choose_language))
        .route("/console/cases", get(cases::page))
        .route("/console/cases.csv", get(cases::csv))
        .route("/console/cases/{call_id}", get(case::page))
        .route("/console/cases/{call_id}/redeliver", post(case::redeliver))
        .route("/console/cases/{call_id}/workflow", post(case::workflow))
        .route("/console/cases/{call_id}/notes", post(case::note))
        .route("/console/by-id/{case_id}", get(case::by_id))
        .route("/console/log", get(log::page))
        .route("/console/log/{case_id}/{event_id}", get(log::entry))
        .route("/console/outputs", get(outputs::page))
        .route("/console/outputs/{id}/test", post(outputs::test_webhook))
        .route("/console/outputs/{id}/preview", get(outputs::email_preview))
        // A route, not a fallback: the router is merged with the HTTP edge's, which has its own.
        .route("/console/{*rest}", any(not_found))
        .layer(middleware::from_fn_with_state(app.clone(), page_headers));
    Router::new()
        .route("/console/static/{version}/{file}", get(asset))
        .merge(pages)
        .layer(middleware::from_fn_with_state(app.clone(), within_deadline))
        .with_state(app)
}

/// The policy of every console page: scripts and styles from the console only, no framing,
/// forms only to itself; the audio player may follow the recording link to `media_origins`.
pub fn content_security_policy(media_origins: &str) -> String {
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         media-src 'self' {media_origins}; connect-src 'self'; form-action 'self'; \
         frame-ancestors 'none'; base-uri 'none'"
    )
}

/// Security headers on every page (a page may set a stricter policy of its own).
async fn page_headers(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CACHE_CONTROL, "no-store"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (HeaderName::from_static("x-robots-tag"), "noindex"),
        (HeaderName::from_static("cross-origin-opener-policy"), "same-origin"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    headers
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_str(&app.csp).unwrap_or(HeaderValue::from_static("default-src 'none'")));
    response
}

/// A page not done by the function's deadline minus the margin is answered 503.
async fn within_deadline(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let lang = Lang::from_headers(request.headers());
    let deadline = match request.extensions().get::<lambda_runtime::Context>() {
        Some(context) => TIME_BUDGET.deadline(context),
        None => Deadline::after(app.function_timeout).minus(TIME_BUDGET.margin),
    };
    let started = std::time::Instant::now();
    let response = match tokio::time::timeout_at(deadline.instant().into(), next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!("console page not done by the deadline");
            ConsoleError::Unavailable(lang).into_response()
        }
    };
    app.metrics.put(&[Measurement::of(
        names::HANDLER_DURATION,
        Unit::Milliseconds,
        started.elapsed().as_secs_f64() * 1000.0,
        None,
    )
    .with(dimensions::FUNCTION, "console")]);
    response
}

/// `/console/static/<version>/<file>`: the stylesheet and the script, cached for a year.
async fn asset(Path((_version, file)): Path<(String, String)>) -> Response {
    let (body, kind) = match file.as_str() {
        "console.css" => (CSS, "text/css; charset=utf-8"),
        "console.js" => (JS, "text/javascript; charset=utf-8"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}

/// What every page's frame shows: who is signed in, for which company, the navigation.
pub struct Layout {
    pub t: &'static Texts,
    pub lang: &'static str,
    pub title: String,
    pub nav: &'static str,
    pub username: String,
    pub role: &'static str,
    pub company: String,
    pub company_name: String,
    pub platform_admin: bool,
    pub csrf: String,
    pub css: String,
    pub js: String,
    pub flash: Option<&'static str>,
}

impl Layout {
    pub fn anonymous(lang: Lang, title: &str) -> Self {
        Self {
            t: lang.texts(),
            lang: lang.code(),
            title: title.to_string(),
            nav: "",
            username: String::new(),
            role: "",
            company: String::new(),
            company_name: String::new(),
            platform_admin: false,
            csrf: String::new(),
            css: format!("/console/static/{}/console.css", *ASSET_VERSION),
            js: format!("/console/static/{}/console.js", *ASSET_VERSION),
            flash: None,
        }
    }

    pub fn new(op: &Operator, tenant: &Tenant, nav: &'static str, title: &str) -> Self {
        Self {
            nav,
            username: op.username.clone(),
            role: op.role_label(),
            company: op.company.to_string(),
            company_name: tenant.config.name.clone(),
            platform_admin: op.platform_admin,
            csrf: op.csrf.clone(),
            ..Self::anonymous(op.lang, title)
        }
    }
}

/// Renders a template into a response (a template error is logged and answered 500).
pub fn render(template: &impl Template, lang: Lang) -> Result<Response, ConsoleError> {
    match template.render() {
        Ok(html) => Ok(Html(html).into_response()),
        Err(e) => {
            tracing::error!(error = %e, "rendering a console page");
            Err(ConsoleError::Internal(lang))
        }
    }
}

/// The company's configuration, or 404 (a platform admin may have chosen a company that is gone).
pub async fn tenant_of(app: &App, op: &Operator) -> Result<Tenant, ConsoleError> {
    app.config
        .tenant(&op.company)
        .await
        .map_err(|e| ConsoleError::store(e, op.lang))?
        .ok_or(ConsoleError::NotFound(op.lang))
}

/// Why a page cannot be shown. A case of another company is `NotFound` (as if it did not
/// exist), never `Forbidden`, so its existence is not disclosed.
#[derive(Debug)]
pub enum ConsoleError {
    /// No valid session: to the sign-in form.
    SignIn,
    NotFound(Lang),
    Forbidden(Lang),
    /// A form without the session's CSRF token.
    Csrf(Lang),
    BadRequest(Lang),
    Unavailable(Lang),
    Internal(Lang),
}

impl ConsoleError {
    pub fn store(e: StoreError, lang: Lang) -> Self {
        if e.is_retryable() {
            tracing::warn!(error = %chain(&e), "console: store unavailable");
            ConsoleError::Unavailable(lang)
        } else {
            tracing::error!(error = %chain(&e), "console: store");
            ConsoleError::Internal(lang)
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: Layout,
    heading: &'static str,
    text: &'static str,
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        let (status, lang) = match self {
            ConsoleError::SignIn => return Redirect::to("/console/login").into_response(),
            ConsoleError::NotFound(l) => (StatusCode::NOT_FOUND, l),
            ConsoleError::Forbidden(l) | ConsoleError::Csrf(l) => (StatusCode::FORBIDDEN, l),
            ConsoleError::BadRequest(l) => (StatusCode::BAD_REQUEST, l),
            ConsoleError::Unavailable(l) => (StatusCode::SERVICE_UNAVAILABLE, l),
            ConsoleError::Internal(l) => (StatusCode::INTERNAL_SERVER_ERROR, l),
        };
        let t = lang.texts();
        let (heading, text) = match self {
            ConsoleError::NotFound(_) => (t.err_not_found, t.err_not_found_text),
            ConsoleError::Forbidden(_) => (t.err_forbidden, t.err_forbidden_text),
            ConsoleError::Csrf(_) => (t.err_forbidden, t.err_csrf_text),
            ConsoleError::BadRequest(_) => (t.err_bad_request, t.err_bad_request_text),
            ConsoleError::Unavailable(_) => (t.err_unavailable, t.err_unavailable_text),
            _ => (t.err_internal, t.err_internal_text),
        };
        let page = ErrorPage {
            layout: Layout::anonymous(lang, heading),
            heading,
            text,
        };
        let html = page.render().unwrap_or_else(|_| heading.to_string());
        (status, Html(html)).into_response()
    }
}

async fn not_found(headers: HeaderMap) -> ConsoleError {
    ConsoleError::NotFound(Lang::from_headers(&headers))
}

#[derive(Deserialize)]
struct CompanyForm {
    company: String,
}

/// A platform admin chooses the company they look at; it is kept in the signed session.
async fn switch_company(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Checked(op, form): Checked<CompanyForm>,
) -> Result<Response, ConsoleError> {
    if !op.platform_admin {
        return Err(ConsoleError::Forbidden(op.lang));
    }
    let company = gateway_domain::ids::CompanyId::new(form.company.trim());
    let exists = app
        .config
        .tenant(&company)
        .await
        .map_err(|e| ConsoleError::store(e, op.lang))?
        .is_some();
    if !exists {
        return Err(ConsoleError::NotFound(op.lang));
    }
    let cookie = crate::auth::session_cookie(&headers).ok_or(ConsoleError::SignIn)?;
    let mut session = app.sessions.open(cookie).ok_or(ConsoleError::SignIn)?;
    session.company = Some(company.to_string());
    Ok(login::with_session(
        &app,
        &session,
        Redirect::to("/console").into_response(),
    ))
}

/// `/console/lang/en` or `/de`: remembers the language (a preference cookie) and goes back.
async fn choose_language(Path(code): Path<String>, Query(back): Query<BackTo>) -> Response {
    let lang = Lang::parse(&code).unwrap_or_default();
    // Only paths of the console: never an open redirect.
    let to = back
        .to
        .filter(|t| t.starts_with("/console") && !t.starts_with("//") && !t.contains('\\'))
        .unwrap_or_else(|| "/console".into());
    let mut response = Redirect::to(&to).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{LANG_COOKIE}={}; Path=/console; Secure; SameSite=Lax; Max-Age=31536000",
        lang.code()
    )) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

#[derive(Deserialize)]
struct BackTo {
    to: Option<String>,
}
