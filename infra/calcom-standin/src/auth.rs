//! API-key auth as Cal.com's `ApiAuthStrategy` does it: only bearer values starting `cal_` are API keys,
//! anything else is tried as an OAuth access token (different 401 text). Platform client credentials
//! (`x-cal-client-id`/`x-cal-secret-key`) are not reproduced.

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;

use crate::errors::{ApiError, texts};
use crate::state::Store;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Caller {
    Anonymous,
    /// A valid `cal_…` key; the stand-in treats it as the owner's key.
    ApiKey(String),
}

impl Caller {
    pub fn is_authenticated(&self) -> bool {
        matches!(self, Self::ApiKey(_))
    }
}

fn bearer(headers: &HeaderMap) -> Option<Result<&str, ()>> {
    let raw = headers.get(AUTHORIZATION)?;
    Some(
        raw.to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or(()),
    )
}

/// Optional auth (`OptionalApiAuthGuard`): no header = anonymous; a header that is present must be valid.
pub fn authenticate(headers: &HeaderMap, store: &Store) -> Result<Caller, ApiError> {
    match bearer(headers) {
        None => Ok(Caller::Anonymous),
        Some(Err(())) => Err(ApiError::unauthorized(texts::NO_AUTH)),
        Some(Ok(token)) if !token.starts_with("cal_") => Err(ApiError::unauthorized(texts::INVALID_ACCESS_TOKEN)),
        Some(Ok(token)) => match &store.api_key {
            Some(expected) if expected != token => Err(ApiError::unauthorized(texts::INVALID_API_KEY)),
            _ => Ok(Caller::ApiKey(token.to_string())),
        },
    }
}

/// Required auth (list bookings).
pub fn require(headers: &HeaderMap, store: &Store) -> Result<Caller, ApiError> {
    match authenticate(headers, store)? {
        Caller::Anonymous => Err(ApiError::unauthorized(texts::NO_AUTH)),
        caller => Ok(caller),
    }
}

/// Rate-limit bucket: per key, anonymous callers together.
pub fn rate_key(headers: &HeaderMap) -> String {
    match bearer(headers) {
        Some(Ok(token)) => token.to_string(),
        _ => "anonymous".into(),
    }
}
