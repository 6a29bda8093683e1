//! Gateway-signed links: a recording redirects to a short-lived presigned S3 URL, a case opens as
//! a read-only page (served with the headers a page needs: no caching, no referrer, no framing,
//! a strict content security policy).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, RawQuery, State};
use axum::http::header::{self, HeaderName, HeaderValue};
use axum::http::{StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use gateway_domain::error::chain;
use gateway_domain::ids::{CallId, CompanyId};
use gateway_domain::keys::{KeyRing, KeyUsed};
use gateway_domain::links::{LinkError, LinkSettings, verify_with};

use crate::App;
use crate::edge::EdgeError;

/// Presigned S3 URLs behind a recording link live this long (the link itself carries the TTL).
const PRESIGNED: Duration = Duration::from_secs(60);

pub struct SignedLinks {
    s3: aws_sdk_s3::Client,
    bucket: String,
    /// The keys a link is checked against: the current one and, during a rotation, the previous.
    keys: KeyRing,
    /// The current key, with an empty base URL: links on the case page are relative to it (and
    /// always signed with the current key).
    links: LinkSettings,
}

impl SignedLinks {
    pub fn new(s3: aws_sdk_s3::Client, bucket: &str, keys: KeyRing) -> Self {
        Self {
            s3,
            bucket: bucket.into(),
            links: LinkSettings {
                base_url: String::new(),
                signing_key: keys.current().to_string(),
            },
            keys,
        }
    }
}

/// The link settings when the link is valid, else why not.
fn checked<'a>(app: &'a App, path: &str, query: Option<&str>) -> Result<&'a SignedLinks, EdgeError> {
    let links = app
        .links
        .as_ref()
        .ok_or_else(|| EdgeError::NotFound("signed links are not enabled".into()))?;
    match verify_with(&links.keys, path, query.unwrap_or_default(), chrono::Utc::now()) {
        Ok(KeyUsed::Current) => Ok(links),
        Ok(KeyUsed::Previous) => {
            tracing::info!(key = "previous", "link signed with the previous link key");
            Ok(links)
        }
        Err(LinkError::Malformed) => Err(EdgeError::BadRequest("link needs expires and sig".into())),
        Err(LinkError::BadSignature) => Err(EdgeError::Forbidden("invalid link signature")),
        Err(LinkError::Expired) => Err(EdgeError::Gone),
    }
}

/// `GET /recordings/<key>?expires=…&sig=…`: redirects to a presigned URL valid for a minute.
pub async fn recording(
    State(app): State<Arc<App>>,
    Path(key): Path<String>,
    uri: Uri,
    RawQuery(query): RawQuery,
) -> Result<Response, EdgeError> {
    let links = checked(&app, uri.path(), query.as_deref())?;
    let presign = aws_sdk_s3::presigning::PresigningConfig::expires_in(PRESIGNED).map_err(|e| {
        tracing::error!(error = %chain(&e), "presigning config");
        EdgeError::Internal
    })?;
    let url = links
        .s3
        .get_object()
        .bucket(&links.bucket)
        .key(key)
        .presigned(presign)
        .await
        .map_err(|e| {
            tracing::error!(error = %chain(&e), "presigning the recording URL");
            EdgeError::Internal
        })?;
    let location = HeaderValue::from_str(url.uri()).map_err(|_| EdgeError::Internal)?;
    Ok((
        StatusCode::FOUND,
        [
            (header::LOCATION, location),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
    )
        .into_response())
}

/// `GET /cases/<company>/<call>?expires=…&sig=…`: the case as a read-only page.
pub async fn case_page(
    State(app): State<Arc<App>>,
    Path((company, call)): Path<(String, String)>,
    uri: Uri,
    RawQuery(query): RawQuery,
) -> Result<Response, EdgeError> {
    let links = checked(&app, uri.path(), query.as_deref())?;
    let (company, call) = (CompanyId::new(company), CallId::new(call));
    let found = tokio::try_join!(app.cases.get_case(&company, &call), app.config.tenant(&company));
    let (case, tenant) = match found {
        Ok((Some(case), Some(tenant))) => (case, tenant),
        Ok(_) => return Err(EdgeError::NotFound("no such case".into())),
        Err(e) if e.is_retryable() => {
            tracing::warn!(error = %chain(&e), "case page: store unavailable");
            return Err(EdgeError::Unavailable);
        }
        Err(e) => {
            tracing::error!(error = %chain(&e), "case page");
            return Err(EdgeError::Internal);
        }
    };
    let html =
        gateway_domain::delivery::case_page::render(&case, &tenant, &links.links, chrono::Utc::now()).map_err(|e| {
            tracing::error!(error = %chain(&e), "rendering the case page");
            EdgeError::Internal
        })?;
    Ok(Html(html).into_response())
}

/// Adds the headers every HTML page of the gateway is served with.
pub async fn page_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CACHE_CONTROL, "no-store"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (HeaderName::from_static("x-robots-tag"), "noindex"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        ),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}
