//! Who is asking: the session cookie (signed), its ID token (verified on every request), the
//! role and the company every query is keyed by; and the CSRF check of every form that
//! changes something.

pub mod session;
pub mod token;

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Form, FromRequest, FromRequestParts, Request};
use axum::http::HeaderMap;
use axum::http::header::COOKIE;
use axum::http::request::Parts;
use gateway_adapters::cognito::{PLATFORM_ADMINS, Role};
use gateway_domain::ids::CompanyId;
use serde::de::DeserializeOwned;

use crate::App;
use crate::i18n::Lang;
use crate::pages::ConsoleError;

/// Forms are small; anything bigger is refused before it is parsed.
const MAX_FORM_BYTES: usize = 64 * 1024;

/// A signed-in person, as their verified ID token says.
#[derive(Debug, Clone)]
pub struct Operator {
    pub username: String,
    pub role: Role,
    /// Member of `platform-admins`: may look at (and act for) any company.
    pub platform_admin: bool,
    /// The company every read and write of this request is keyed by.
    pub company: CompanyId,
    /// The company the user belongs to.
    pub home_company: CompanyId,
    pub csrf: String,
    pub lang: Lang,
    session_cookie: String,
}

impl Operator {
    /// Redeliver, change status and priority, write notes.
    pub fn can_act(&self) -> bool {
        self.platform_admin || self.role >= Role::Operator
    }

    /// Send test webhooks.
    pub fn can_administer(&self) -> bool {
        self.platform_admin || self.role == Role::Admin
    }

    pub fn require_act(&self) -> Result<(), ConsoleError> {
        if self.can_act() {
            Ok(())
        } else {
            Err(ConsoleError::Forbidden(self.lang))
        }
    }

    pub fn require_admin(&self) -> Result<(), ConsoleError> {
        if self.can_administer() {
            Ok(())
        } else {
            Err(ConsoleError::Forbidden(self.lang))
        }
    }

    /// How the role reads in the page header.
    pub fn role_label(&self) -> &'static str {
        let t = self.lang.texts();
        if self.platform_admin {
            return t.role_platform;
        }
        match self.role {
            Role::Admin => t.role_admin,
            Role::Operator => t.role_operator,
            Role::Viewer => t.role_viewer,
        }
    }
}

/// The session cookie's value, if the request has one.
pub fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|h| session::cookie_value(h, session::COOKIE))
}

impl FromRequestParts<Arc<App>> for Operator {
    type Rejection = ConsoleError;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, Self::Rejection> {
        let lang = Lang::from_headers(&parts.headers);
        let cookie = session_cookie(&parts.headers).ok_or(ConsoleError::SignIn)?.to_string();
        let session = app.sessions.open(&cookie).ok_or(ConsoleError::SignIn)?;
        let claims = app.verifier.verify(&session.token).await.map_err(|e| match e {
            token::TokenError::Invalid(reason) => {
                tracing::info!(%reason, "session token refused: sign in again");
                ConsoleError::SignIn
            }
            token::TokenError::Keys(reason) => {
                tracing::warn!(%reason, "the user pool's keys are not available");
                ConsoleError::Unavailable(lang)
            }
        })?;
        let platform_admin = claims.groups.iter().any(|g| g == PLATFORM_ADMINS);
        let role = claims.role.as_deref().and_then(Role::parse);
        let home_company = claims.company_id.filter(|c| !c.is_empty()).map(CompanyId::new);
        let (role, home_company) = match (role, home_company) {
            (Some(role), Some(company)) => (role, company),
            // A platform admin needs neither: they act as admins of the company they chose.
            (role, company) if platform_admin => (role.unwrap_or(Role::Admin), company.unwrap_or_default()),
            _ => {
                tracing::warn!(user = %claims.username, "token without company or role");
                return Err(ConsoleError::Forbidden(lang));
            }
        };
        // Only a platform admin's choice counts; everybody else is bound to their own company.
        let company = match session.company.filter(|_| platform_admin) {
            Some(chosen) => CompanyId::new(chosen),
            None => home_company.clone(),
        };
        Ok(Operator {
            username: claims.username,
            role,
            platform_admin,
            company,
            home_company,
            csrf: app.sessions.csrf(&cookie),
            lang,
            session_cookie: cookie,
        })
    }
}

/// A form that changes something: the operator, and the form once its CSRF token (`_csrf`)
/// matched the session's. Every POST handler takes its form through this.
pub struct Checked<T>(pub Operator, pub T);

impl<T: DeserializeOwned + Send> FromRequest<Arc<App>> for Checked<T> {
    type Rejection = ConsoleError;

    async fn from_request(req: Request, app: &Arc<App>) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let operator = Operator::from_request_parts(&mut parts, app).await?;
        let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
            .await
            .map_err(|_| ConsoleError::BadRequest(operator.lang))?;
        let submitted = url::form_urlencoded::parse(&bytes)
            .find(|(k, _)| k == "_csrf")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        if !app.sessions.csrf_ok(&operator.session_cookie, &submitted) {
            tracing::warn!(user = %operator.username, "form without a valid CSRF token refused");
            return Err(ConsoleError::Csrf(operator.lang));
        }
        let request = Request::from_parts(parts, Body::from(bytes));
        let Form(form) = Form::<T>::from_request(request, app)
            .await
            .map_err(|_| ConsoleError::BadRequest(operator.lang))?;
        Ok(Checked(operator, form))
    }
}
