//! Sign-in against the user pool (USER_PASSWORD_AUTH), the session cookie, sign-out.

use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::header::{self, HeaderValue};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use gateway_adapters::cognito::{SignInError, sign_in};
use serde::Deserialize;

use super::{ConsoleError, Layout, render};
use crate::App;
use crate::auth::Checked;
use crate::auth::session::{SessionData, clear_cookie, set_cookie};
use crate::i18n::Lang;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Layout,
    username: String,
    error: Option<&'static str>,
}

fn login_page(lang: Lang, username: String, error: Option<&'static str>) -> Result<Response, ConsoleError> {
    let t = lang.texts();
    render(
        &LoginPage {
            layout: Layout::anonymous(lang, t.login_title),
            username,
            error,
        },
        lang,
    )
}

/// `GET /console/login`.
pub async fn form(headers: HeaderMap) -> Result<Response, ConsoleError> {
    login_page(Lang::from_headers(&headers), String::new(), None)
}

#[derive(Deserialize)]
pub struct Credentials {
    username: String,
    password: String,
}

/// `POST /console/login`: a token for the credentials, verified like every later request,
/// becomes the session; a wrong password shows the form again with the error.
pub async fn submit(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Form(credentials): Form<Credentials>,
) -> Result<Response, ConsoleError> {
    let lang = Lang::from_headers(&headers);
    let t = lang.texts();
    let username = credentials.username.trim().to_string();
    let again = |error| -> Result<Response, ConsoleError> {
        let mut response = login_page(lang, username.clone(), Some(error))?;
        *response.status_mut() = StatusCode::UNAUTHORIZED;
        Ok(response)
    };
    if username.is_empty() || credentials.password.is_empty() {
        return again(t.login_failed);
    }
    let token = match sign_in(&app.cognito, &app.client_id, &username, &credentials.password).await {
        Ok(token) => token,
        Err(SignInError::BadCredentials) => {
            tracing::info!(user = %username, "sign-in refused");
            return again(t.login_failed);
        }
        Err(SignInError::Challenge(challenge)) => {
            tracing::info!(user = %username, %challenge, "sign-in needs a challenge answered");
            return again(t.login_challenge);
        }
        Err(SignInError::Unavailable(e)) => {
            tracing::warn!(error = %gateway_domain::error::chain(&e), "sign-in unavailable");
            return again(t.login_unavailable);
        }
    };
    let claims = app.verifier.verify(&token).await.map_err(|e| {
        tracing::error!(error = %e, "a fresh token from the pool does not verify");
        ConsoleError::Unavailable(lang)
    })?;
    tracing::info!(user = %claims.username, "signed in");
    let session = SessionData { token, company: None };
    Ok(with_session(&app, &session, Redirect::to("/console").into_response()))
}

/// Adds the signed session cookie (it lives as long as a token at most; the token's own expiry
/// is checked on every request).
pub fn with_session(app: &App, session: &SessionData, mut response: Response) -> Response {
    let value = set_cookie(&app.sessions.seal(session), 12 * 3600);
    if let Ok(v) = HeaderValue::from_str(&value) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

#[derive(Deserialize)]
pub struct Empty {}

/// `POST /console/logout` (with the CSRF token): the cookie is removed.
pub async fn sign_out(Checked(op, _): Checked<Empty>) -> Response {
    tracing::info!(user = %op.username, "signed out");
    let mut response = Redirect::to("/console/login").into_response();
    if let Ok(v) = HeaderValue::from_str(&clear_cookie()) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}
