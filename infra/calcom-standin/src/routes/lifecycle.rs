//! `POST /v2/bookings/{uid}/cancel` (200) and `POST /v2/bookings/{uid}/reschedule` (201, new uid).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;

use super::{booking_version, parse_body, path_and_query, success, validation};
use crate::auth::{self, Caller};
use crate::errors::ApiError;
use crate::state::Shared;
use crate::webhooks::Event;

pub async fn cancel(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(uid): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    booking_version(&headers)?;
    let caller = auth::authenticate(&headers, &shared.store())?;
    let reason = validation::cancel(&parse_body(&body)?)?;
    let booking = {
        let mut store = shared.store();
        // The stand-in's only key is the owner's; anonymous cancels record no canceller.
        let by = match caller {
            Caller::ApiKey(_) => store.booking(&uid).map(|b| b.host.email.clone()),
            Caller::Anonymous => None,
        };
        store.cancel_booking(&uid, reason, by)?
    };
    shared.webhooks.emit(&Event::Cancelled(&booking), shared.now()).await;
    Ok(success(StatusCode::OK, booking.to_output()))
}

pub async fn reschedule(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Path(uid): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    // The legacy 2024-04-15 controllers have no reschedule route at all.
    booking_version(&headers).map_err(|_| ApiError::cannot(method.as_str(), &path_and_query(&uri)))?;
    auth::authenticate(&headers, &shared.store())?;
    let input = validation::reschedule(&parse_body(&body)?)?;
    let (new, old) = shared
        .store()
        .reschedule_booking(&uid, input.start, input.rescheduled_by, input.reason)?;
    shared
        .webhooks
        .emit(&Event::Rescheduled { new: &new, old: &old }, shared.now())
        .await;
    Ok(success(StatusCode::CREATED, new.to_output()))
}
