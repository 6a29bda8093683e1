//! `check_availability` through the HTTP edge with the calendar's answer in memory: what the
//! gateway itself spends per call (signature, parsing, tenant, the German wish, the search for
//! alternatives, the spoken answer, the audit event) without the calendar's network time. The
//! slot cache is off, so every call goes through the calendar port as a first check does.
//! Run: `make bench` (or `cargo bench -p ingest --bench booking_functions`).

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use gateway_domain::appointments::backend::{
    BackendBooking, BackendError, BookingRequest, CalendarBackend, CalendarRef, Reservation, SlotQuery,
};
use gateway_domain::appointments::calendar::local_time::Span;
use gateway_domain::appointments::calendar::slots::{Slot, free_slots};
use gateway_domain::appointments::desk::BookingDesk;
use gateway_domain::appointments::engine::{CalendarBackends, Engine, EnginePorts, EngineSettings};
use gateway_domain::appointments::setup::Appointments;
use gateway_domain::capture::retell::signature;
use gateway_domain::capture::{Booking, Ports};
use gateway_domain::deadline::Deadline;
use gateway_domain::ids::CompanyId;
use gateway_domain::tenancy::{RouteKey, TenantSpec};
use gateway_testkit::appointments::MemoryAppointmentStore;
use gateway_testkit::memory::{FixedClock, MemoryCaseStore, MemoryConfigStore, MemoryQueue};
use serde_json::json;
use tower::ServiceExt;

const KEY: &str = "key_bench";
const PRAXIS: &str = r#"
company: {company_id: praxis, name: Praxis am Platz, mode: appointment}
routes: {agents: [agent_bench]}
appointments:
  calcom: {api_key: cal_bench}
  branches:
  - id: mitte
    name: Praxis Mitte
    time_zone: Europe/Berlin
    opening_hours: {mon: ["08:00-12:00", "13:00-18:00"], tue: ["08:00-12:00", "13:00-18:00"], wed: ["08:00-12:00", "13:00-18:00"], thu: ["08:00-12:00", "13:00-18:00"], fri: ["08:00-14:00"]}
  services:
  - {id: beratung, name: Beratung, duration_minutes: 30, calendar: {calcom: {event_type_id: 1}}}
"#;

/// The calendar's answer, computed once: what a backend would send back, handed over at once.
struct Canned(Vec<Slot>);

#[async_trait]
impl CalendarBackend for Canned {
    async fn free_slots(&self, query: &SlotQuery, _: Deadline) -> Result<Vec<Slot>, BackendError> {
        Ok(self
            .0
            .iter()
            .filter(|s| query.range.start <= s.start && s.end <= query.range.end)
            .cloned()
            .collect())
    }
    async fn reserve(&self, _: &CalendarRef, _: &Slot, _: Deadline) -> Result<Option<Reservation>, BackendError> {
        Ok(None)
    }
    async fn release(&self, _: &Reservation, _: Deadline) -> Result<(), BackendError> {
        Ok(())
    }
    async fn book(&self, _: &BookingRequest, _: Deadline) -> Result<BackendBooking, BackendError> {
        Err(BackendError::Rejected("not part of the benchmark".into()))
    }
    async fn get(&self, _: &CalendarRef, _: &str, _: Deadline) -> Result<BackendBooking, BackendError> {
        Err(BackendError::NotFound)
    }
    async fn cancel(&self, _: &CalendarRef, _: &str, _: &str, _: Deadline) -> Result<(), BackendError> {
        Err(BackendError::NotFound)
    }
    async fn reschedule(
        &self,
        _: &CalendarRef,
        _: &str,
        _: &Slot,
        _: &str,
        _: Deadline,
    ) -> Result<BackendBooking, BackendError> {
        Err(BackendError::NotFound)
    }
}

struct CannedCalendars(Arc<Canned>);

impl CalendarBackends for CannedCalendars {
    fn backend(&self, _: &CompanyId, _: &Appointments) -> Result<Arc<dyn CalendarBackend>, BackendError> {
        Ok(self.0.clone())
    }
}

/// Tuesday 2026-12-01 10:00 in Berlin.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap()
}

fn router() -> axum::Router {
    let spec: TenantSpec = serde_norway::from_str(PRAXIS).unwrap();
    let tenant = spec.tenant().unwrap();
    let setup = tenant.appointments.clone().unwrap();
    let service = &setup.services[0];
    let range = Span::new(now(), now() + TimeDelta::days(30)).unwrap();
    // Half the slots taken, so alternatives have work to do.
    let slots: Vec<Slot> = free_slots(range, &setup.branches[0].calendar, &service.rules, &[], now())
        .unwrap()
        .into_iter()
        .enumerate()
        .filter(|(i, _)| i % 2 == 0)
        .map(|(_, s)| s)
        .collect();
    let config = Arc::new(MemoryConfigStore::default());
    config.put_route(RouteKey::Agent("agent_bench".into()), &spec.company.company_id);
    config.put_tenant(tenant);
    let clock = Arc::new(FixedClock::new(now()));
    let cases = Arc::new(MemoryCaseStore::default());
    let store = Arc::new(MemoryAppointmentStore::default());
    let engine = Arc::new(Engine::new(
        EnginePorts {
            calendars: Arc::new(CannedCalendars(Arc::new(Canned(slots)))),
            store: store.clone(),
            clock: clock.clone(),
        },
        EngineSettings {
            cache_ttl: TimeDelta::zero(),
            ..EngineSettings::default()
        },
    ));
    let ports = Ports {
        cases: cases.clone(),
        config,
        queue: Arc::new(MemoryQueue::default()),
        clock: clock.clone(),
    };
    ingest::App::with_ports(KEY, ports)
        .with_booking(Booking {
            desk: Arc::new(BookingDesk::new(engine, clock)),
            appointments: store,
            events: cases,
        })
        .into_router()
}

fn request(n: usize, time: &str) -> lambda_http::Request {
    let body = json!({
        "name": "check_availability",
        "args": {"dienstleistung": "Beratung", "datum": "nächsten Donnerstag", "uhrzeit": time},
        "call": {"call_id": format!("call_bench_{n}"), "agent_id": "agent_bench", "from_number": "+4951187654321"}
    })
    .to_string();
    let sig = signature::sign(KEY, body.as_bytes(), now().timestamp_millis() as u64);
    lambda_http::http::Request::builder()
        .method("POST")
        .uri("/retell/functions")
        .header("content-type", "application/json")
        .header("x-retell-signature", sig)
        .body(lambda_http::Body::from(body))
        .unwrap()
}

/// Single calls timed one by one: p50/p95/p99 (a figure for the note, never an assertion).
fn percentiles(_: &mut Criterion) {
    const CALLS: usize = 3_000;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let router = router();
    // Every other slot of the 15-minute grid is taken: 08:30 is free, 08:15 is not.
    for (label, time, status) in [
        ("free wish", "halb neun", "available"),
        ("taken wish, alternatives", "Viertel nach acht", "alternatives"),
    ] {
        let resp = rt.block_on(router.clone().oneshot(request(0, time))).unwrap();
        let bytes = rt
            .block_on(http_body_util::BodyExt::collect(resp.into_body()))
            .unwrap()
            .to_bytes();
        let answer: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(
            answer["status"], status,
            "the benchmark measures what it says: {answer}"
        );
        let mut micros: Vec<f64> = (0..CALLS)
            .map(|n| {
                let req = request(n, time);
                let started = Instant::now();
                let resp = rt.block_on(router.clone().oneshot(req)).unwrap();
                assert_eq!(resp.status(), 200);
                started.elapsed().as_secs_f64() * 1e6
            })
            .collect();
        micros.sort_by(f64::total_cmp);
        let at = |q: f64| micros[((CALLS as f64 * q) as usize).min(CALLS - 1)];
        println!(
            "check_availability ({label}), {CALLS} calls through the edge, calendar in memory: \
             p50 {:.0} µs, p95 {:.0} µs, p99 {:.0} µs, max {:.0} µs",
            at(0.50),
            at(0.95),
            at(0.99),
            micros[CALLS - 1]
        );
    }
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let router = router();
    let mut n = 0;
    c.bench_function("check_availability through the edge (taken wish)", |b| {
        b.iter(|| {
            n += 1;
            let resp = rt
                .block_on(router.clone().oneshot(request(n, "Viertel nach acht")))
                .unwrap();
            assert_eq!(resp.status(), 200);
        })
    });
}

criterion_group!(benches, bench, percentiles);
criterion_main!(benches);
