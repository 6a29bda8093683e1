//! Changes the host makes in Cal.com's own web app (not through the API): a reschedule (a new
//! booking with a new uid, the old one cancelled, exactly as the API does it) and a cancellation,
//! both by the host's e-mail, each with its webhook delivered before the change returns. They
//! reach the stand-in through `Running::staff_*` and `POST /_standin/bookings/{uid}/…`, never
//! through `/v2`: the request log and rate limits see nothing of them.

use chrono::{DateTime, Utc};

use crate::errors::ApiError;
use crate::model::Booking;
use crate::state::Shared;
use crate::webhooks::Event;

/// The host moves booking `uid` to `start`; returns the new booking.
pub async fn reschedule(
    shared: &Shared,
    uid: &str,
    start: DateTime<Utc>,
    reason: Option<String>,
) -> Result<Booking, ApiError> {
    let (new, old) = {
        let mut store = shared.store();
        let host = store.booking(uid).map(|b| b.host.email.clone());
        store.reschedule_booking(uid, start, host, reason)?
    };
    shared
        .webhooks
        .emit(&Event::Rescheduled { new: &new, old: &old }, shared.now())
        .await;
    Ok(new)
}

/// The host cancels booking `uid`.
pub async fn cancel(shared: &Shared, uid: &str, reason: Option<String>) -> Result<Booking, ApiError> {
    let booking = {
        let mut store = shared.store();
        let host = store.booking(uid).map(|b| b.host.email.clone());
        store.cancel_booking(uid, reason, host)?
    };
    shared.webhooks.emit(&Event::Cancelled(&booking), shared.now()).await;
    Ok(booking)
}
