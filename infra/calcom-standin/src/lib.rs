//! A stateful, in-memory stand-in for Cal.com API v2 at its real paths (`/v2/slots`,
//! `/v2/slots/reservations`, `/v2/bookings…`), with Cal.com's version routing, envelopes, error texts,
//! idempotent-replay quirk, rate-limit headers, signed webhooks and injectable faults.
//! What is and is not reproduced, with evidence: `FIDELITY.md` beside this crate.
//!
//! ```no_run
//! # async fn demo() -> Result<(), calcom_standin::StandinError> {
//! use calcom_standin::{Config, Endpoint, EventType, Fault, Standin, Times};
//! let cal = Standin::start(Config::default().with_event_type(EventType::new(1001, "beratung", 30))).await?;
//! let base = cal.base_url(); // http://127.0.0.1:PORT/v2
//! cal.set_fault(Endpoint::Create, Fault::CommitThenHang, Times::Next(1));
//! // … drive the adapter against `base` …
//! assert_eq!(cal.count_requests("POST", "/v2/bookings"), 1);
//! # Ok(()) }
//! ```

mod auth;
mod availability;
mod control;
mod errors;
mod faults;
mod model;
mod ops;
mod ratelimit;
mod reqlog;
mod routes;
mod staff;
mod state;
mod time;
pub mod webhooks;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use errors::texts;
pub use faults::{Endpoint, Fault, Times};
pub use model::{Attendee, Booking, BookingStatus, EventType, Host, Origin, Reservation, WEEKDAYS, WorkingHours};
pub use ops::{SeedBooking, SeedReservation};
pub use ratelimit::RateLimit;
pub use reqlog::LoggedRequest;
pub use state::Idempotency;
pub use webhooks::{Delivery, WebhookConfig};

use faults::ArmedFault;
use ratelimit::Limiter;
use state::{Shared, Store, lock};
use webhooks::WebhookHub;

#[derive(Debug, thiserror::Error)]
pub enum StandinError {
    #[error("calcom-standin: {0}")]
    Io(#[from] std::io::Error),
    #[error("calcom-standin: invalid seed: {0}")]
    Seed(String),
    /// Cal.com would refuse the change (the API's error text).
    #[error("calcom-standin: refused: {0}")]
    Refused(String),
}

/// Everything a stand-in starts with; also the JSON seed file format of the binary (camelCase keys).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Config {
    /// 0 = any free port (the default; tests should keep it).
    pub port: u16,
    /// `None`: any `Bearer cal_…` key is accepted. `Some(k)`: only `k`.
    pub api_key: Option<String>,
    /// Frozen clock for past/notice/horizon/reservation checks; `None` = real clock.
    pub now: Option<DateTime<Utc>>,
    pub rate_limit: RateLimit,
    pub idempotency: Idempotency,
    pub webhook: Option<WebhookConfig>,
    pub event_types: Vec<EventType>,
    pub bookings: Vec<SeedBooking>,
    pub reservations: Vec<SeedReservation>,
}

impl Config {
    pub fn from_json(text: &str) -> Result<Self, StandinError> {
        serde_json::from_str(text).map_err(|e| StandinError::Seed(e.to_string()))
    }

    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, StandinError> {
        Self::from_json(&std::fs::read_to_string(path)?)
    }

    pub fn with_event_type(mut self, event_type: EventType) -> Self {
        self.event_types.push(event_type);
        self
    }

    pub fn with_now(mut self, now: DateTime<Utc>) -> Self {
        self.now = Some(now);
        self
    }

    pub fn with_api_key(mut self, key: &str) -> Self {
        self.api_key = Some(key.into());
        self
    }

    pub fn with_rate_limit(mut self, limit: u32, window_seconds: u64) -> Self {
        self.rate_limit = RateLimit { limit, window_seconds };
        self
    }

    pub fn with_webhook(mut self, url: &str, secret: Option<&str>) -> Self {
        self.webhook = Some(WebhookConfig {
            url: url.into(),
            secret: secret.map(str::to_string),
        });
        self
    }
}

fn check_event_type(et: &EventType) -> Result<(), StandinError> {
    let bad = |why: &str| Err(StandinError::Seed(format!("event type {}: {why}", et.id)));
    if time::parse_zone(&et.time_zone).is_none() || time::parse_zone(&et.host.time_zone).is_none() {
        return bad("unknown IANA time zone");
    }
    if et.length_in_minutes == 0 || et.length_options.contains(&0) {
        return bad("length must be at least one minute");
    }
    Ok(())
}

pub struct Standin;

impl Standin {
    /// Binds 127.0.0.1 (port from the config, 0 = free), seeds, and serves in background tasks.
    pub async fn start(config: Config) -> Result<Running, StandinError> {
        let mut store = Store::new();
        store.api_key = config.api_key;
        store.now_override = config.now;
        store.idempotency = config.idempotency;
        for et in config.event_types {
            check_event_type(&et)?;
            store.event_types.insert(et.id, et);
        }
        for seed in config.bookings {
            store.seed_booking(seed).map_err(StandinError::Seed)?;
        }
        for seed in config.reservations {
            store.seed_reservation(seed).map_err(StandinError::Seed)?;
        }
        let (webhooks, worker) = WebhookHub::new();
        webhooks.configure(config.webhook);
        let shared = Arc::new(Shared {
            store: Mutex::new(store),
            log: Mutex::new(Vec::new()),
            faults: Mutex::new(Vec::new()),
            limiter: Mutex::new(Limiter::new(config.rate_limit)),
            webhooks,
        });

        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, config.port)).await?;
        let addr = listener.local_addr()?;
        let app = routes::router(shared.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        let worker = tokio::spawn(worker);
        Ok(Running {
            addr,
            shared,
            server,
            worker,
            stop: Some(stop),
        })
    }
}

/// Handle to a running stand-in. Dropping it stops the server.
pub struct Running {
    addr: SocketAddr,
    shared: Arc<Shared>,
    server: JoinHandle<()>,
    worker: JoinHandle<()>,
    stop: Option<oneshot::Sender<()>>,
}

impl Running {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT/v2` — what the adapter gets instead of `https://api.cal.com/v2`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v2", self.addr)
    }

    pub fn add_event_type(&self, event_type: EventType) -> Result<(), StandinError> {
        check_event_type(&event_type)?;
        self.shared.store().event_types.insert(event_type.id, event_type);
        Ok(())
    }

    /// `None`: any `cal_…` key; `Some(k)`: only `k`. Non-`cal_` bearers always get 401.
    pub fn set_api_key(&self, key: Option<&str>) {
        self.shared.store().api_key = key.map(str::to_string);
    }

    /// Freeze the clock (`Some`) or return to the real one (`None`).
    pub fn set_now(&self, now: Option<DateTime<Utc>>) {
        self.shared.store().now_override = now;
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.shared.now()
    }

    pub fn set_idempotency(&self, mode: Idempotency) {
        self.shared.store().idempotency = mode;
    }

    /// New limit per key and window; all windows restart.
    pub fn set_rate_limit(&self, limit: u32, window_seconds: u64) {
        lock(&self.shared.limiter).set(RateLimit { limit, window_seconds });
    }

    pub fn set_webhook(&self, url: &str, secret: Option<&str>) {
        self.shared.webhooks.configure(Some(WebhookConfig {
            url: url.into(),
            secret: secret.map(str::to_string),
        }));
    }

    pub fn clear_webhook(&self) {
        self.shared.webhooks.configure(None);
    }

    /// Arm a fault for one endpoint group. Faults are taken first-armed-first.
    pub fn set_fault(&self, endpoint: Endpoint, fault: Fault, times: Times) {
        lock(&self.shared.faults).push(ArmedFault::new(Some(endpoint), fault, times));
    }

    /// Arm a fault for every endpoint group.
    pub fn set_fault_everywhere(&self, fault: Fault, times: Times) {
        lock(&self.shared.faults).push(ArmedFault::new(None, fault, times));
    }

    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    /// Every booking, including cancelled ones and "someone else's", in creation order.
    pub fn bookings(&self) -> Vec<Booking> {
        self.shared.store().bookings.clone()
    }

    pub fn booking(&self, uid: &str) -> Option<Booking> {
        self.shared.store().booking(uid).cloned()
    }

    /// Active (unexpired) reservations.
    pub fn reservations(&self) -> Vec<Reservation> {
        let mut store = self.shared.store();
        store.purge_expired_reservations();
        store.reservations.clone()
    }

    /// Put a booking in place without any checks (e.g. a colleague booked by hand in Cal.com).
    pub fn seed_booking(&self, seed: SeedBooking) -> Result<Booking, StandinError> {
        self.shared.store().seed_booking(seed).map_err(StandinError::Seed)
    }

    /// The host moves a booking in Cal.com's web app (a new uid, as every reschedule); its
    /// `BOOKING_RESCHEDULED` webhook is delivered before this returns. Not a `/v2` request.
    pub async fn staff_reschedule(&self, uid: &str, start: DateTime<Utc>) -> Result<Booking, StandinError> {
        staff::reschedule(&self.shared, uid, start, None)
            .await
            .map_err(|e| StandinError::Refused(e.message))
    }

    /// The host cancels a booking in Cal.com's web app; its `BOOKING_CANCELLED` webhook is
    /// delivered before this returns. Not a `/v2` request.
    pub async fn staff_cancel(&self, uid: &str, reason: &str) -> Result<Booking, StandinError> {
        staff::cancel(&self.shared, uid, Some(reason.to_string()))
            .await
            .map_err(|e| StandinError::Refused(e.message))
    }

    pub fn requests(&self) -> Vec<LoggedRequest> {
        lock(&self.shared.log).clone()
    }

    /// Requests with this method whose path equals `path` or starts with `path/`.
    pub fn count_requests(&self, method: &str, path: &str) -> usize {
        let nested = format!("{}/", path.trim_end_matches('/'));
        lock(&self.shared.log)
            .iter()
            .filter(|r| r.method.eq_ignore_ascii_case(method) && (r.path == path || r.path.starts_with(&nested)))
            .count()
    }

    pub fn clear_requests(&self) {
        lock(&self.shared.log).clear();
    }

    /// Webhook deliveries attempted so far (body, signature, receiver's status or error).
    pub fn webhook_deliveries(&self) -> Vec<Delivery> {
        self.shared.webhooks.deliveries()
    }

    /// Waits until at least `count` deliveries were attempted or `timeout` passes; returns what there is.
    pub async fn wait_for_webhooks(&self, count: usize, timeout: Duration) -> Vec<Delivery> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let deliveries = self.webhook_deliveries();
            if deliveries.len() >= count || tokio::time::Instant::now() >= deadline {
                return deliveries;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Stops accepting, lets answered connections finish (hung ones are cut after a second).
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = tokio::time::timeout(Duration::from_secs(1), &mut self.server).await;
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.server.abort();
        self.worker.abort();
    }
}
