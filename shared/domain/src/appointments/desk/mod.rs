//! The booking desk: the functions the voice agent calls during a call to find, book, move and
//! cancel appointments, each answering with machine fields and one German sentence to read out
//! (with the absolute date whenever something is confirmed). It parses what the caller said,
//! picks service and staff, asks the engine, and turns every outcome — failures included — into
//! something the agent can say. A request that finds the same change in progress (a Retell retry
//! racing the original) waits for the original's stored answer within the voice budget.

pub mod args;
mod availability;
mod booking;
mod changes;
pub mod function;
mod info;
pub mod lookup;
pub mod reply;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::appointments::engine::{Caller, Engine, EngineError};
use crate::appointments::record::Appointment;
use crate::clock::Clock;
use crate::deadline::Deadline;
use crate::error::chain;
use crate::ids::CallId;
use crate::tenancy::Tenant;
use crate::tenancy::tenant::GatewayMode;

pub use args::Args;
pub use function::BookingFunction;
pub use info::booking_variables;
pub use reply::{Reply, Status};

/// Told about every appointment change after it is stored (the company's and the caller's
/// notices are handed off here). Must not fail the call: it logs and leaves the rest to the sweep.
#[async_trait]
pub trait ChangeListener: Send + Sync {
    async fn changed(&self, appointment: &Appointment);
}

/// Who is calling and until when the answer must be ready.
#[derive(Debug, Clone, Copy)]
pub struct DeskCall<'a> {
    pub tenant: &'a Tenant,
    pub call_id: &'a CallId,
    /// The caller's number in E.164 (`None` when withheld): their identity for changes.
    pub caller_number: Option<&'a str>,
    pub deadline: Deadline,
}

impl<'a> DeskCall<'a> {
    fn caller(&self) -> Caller<'a> {
        Caller {
            tenant: self.tenant,
            call_id: self.call_id,
            phone: self.caller_number,
        }
    }
}

pub struct BookingDesk {
    engine: Arc<Engine>,
    clock: Arc<dyn Clock>,
    listener: Option<Arc<dyn ChangeListener>>,
    /// How long to wait between looks at a change another request is making.
    poll: Duration,
}

/// Why a desk method stopped before the end: it has its answer already (usually a question for
/// the caller), or the engine failed.
enum Stop {
    Answer(Reply),
    Engine(EngineError),
}

impl From<Reply> for Stop {
    fn from(reply: Reply) -> Self {
        Stop::Answer(reply)
    }
}

impl From<EngineError> for Stop {
    fn from(e: EngineError) -> Self {
        Stop::Engine(e)
    }
}

type Answered = Result<Reply, Stop>;

/// Kept from the deadline for writing the call event and answering.
const ANSWER_MARGIN: Duration = Duration::from_millis(500);

impl BookingDesk {
    pub fn new(engine: Arc<Engine>, clock: Arc<dyn Clock>) -> Self {
        Self {
            engine,
            clock,
            listener: None,
            poll: Duration::from_millis(250),
        }
    }

    pub fn with_listener(mut self, listener: Arc<dyn ChangeListener>) -> Self {
        self.listener = Some(listener);
        self
    }

    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// Answers one function call. Never fails: every outcome is a speakable [`Reply`].
    pub async fn call(&self, function: BookingFunction, args: Args<'_>, call: &DeskCall<'_>) -> Reply {
        if call.tenant.config.mode == GatewayMode::ServiceDesk {
            return not_offered();
        }
        let Some(setup) = call.tenant.appointments.as_ref() else {
            return not_offered();
        };
        let result = match function {
            BookingFunction::CheckAvailability => self.check_availability(setup, args, call).await,
            BookingFunction::GetAlternatives => self.get_alternatives(setup, args, call).await,
            BookingFunction::FindNextAvailable => self.find_next_available(setup, args, call).await,
            BookingFunction::BookAppointment => self.book(setup, args, call).await,
            BookingFunction::QueryAppointments => self.query(setup, args, call).await,
            BookingFunction::CancelAppointment => self.cancel(setup, args, call).await,
            BookingFunction::RescheduleAppointment => self.reschedule(setup, args, call).await,
            BookingFunction::ListServices => Ok(info::list_services(setup)),
            BookingFunction::GetOpeningHours => info::opening_hours(setup, args, self.now()),
        };
        match result {
            Ok(reply) | Err(Stop::Answer(reply)) => reply,
            Err(Stop::Engine(e)) => failure_reply(function, &e),
        }
    }

    /// Runs an engine call; while the same change is in progress elsewhere (a retry racing the
    /// original), looks again until the answer is stored or the deadline is near.
    async fn patiently<T, F, Fut>(&self, deadline: Deadline, mut attempt: F) -> Result<T, EngineError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, EngineError>>,
    {
        let stop = deadline.minus(ANSWER_MARGIN);
        loop {
            match attempt().await {
                Err(EngineError::InProgress) if stop.remaining() > self.poll => tokio::time::sleep(self.poll).await,
                other => return other,
            }
        }
    }

    async fn changed(&self, appointment: &Appointment) {
        if let Some(listener) = &self.listener {
            listener.changed(appointment).await;
        }
    }

    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }
}

fn not_offered() -> Reply {
    Reply::new(
        Status::NotOffered,
        "Termine kann ich am Telefon leider nicht vereinbaren. Soll ich veranlassen, dass wir Sie zurückrufen?",
    )
}

/// What the caller hears when the engine failed; the cause goes to the log only.
fn failure_reply(function: BookingFunction, err: &EngineError) -> Reply {
    match err {
        EngineError::NotSetUp => not_offered(),
        EngineError::InProgress => Reply::in_progress(),
        EngineError::UnknownService(id) => {
            tracing::error!(function = function.name(), service = %id, "the booking setup names an unknown service");
            Reply::unavailable()
        }
        other => {
            tracing::warn!(function = function.name(), error = %chain(other), "booking function failed");
            Reply::unavailable()
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use crate::appointments::setup::{Appointments, AppointmentsSpec};

    /// The example practice of `infra/tenants/praxis.yaml`, reduced to what the desk needs.
    pub(crate) fn praxis() -> Appointments {
        let doc = r#"
branches:
- id: lister-platz
  name: Physiotherapie am Lister Platz
  address: Lister Platz 3, 30163 Hannover
  time_zone: Europe/Berlin
  opening_hours:
    mon: ["07:30-12:30", "13:30-19:00"]
    tue: ["07:30-12:30", "13:30-19:00"]
    wed: ["07:30-12:30", "13:30-19:00"]
    thu: ["07:30-12:30", "13:30-19:00"]
    fri: ["07:30-12:30", "13:30-16:00"]
    sat: ["09:00-12:00"]
  closures:
  - {from: 2026-12-24, to: 2026-12-26, reason: Weihnachten}
staff:
- {id: weber, name: Frau Weber}
- {id: yilmaz, name: Herr Yilmaz}
services:
- id: erstbefund
  name: Erstbefund und Beratung
  synonyms: [Erstberatung, Befundaufnahme]
  duration_minutes: 30
  calendar: {calcom: {event_type_id: 1}}
- id: krankengymnastik
  name: Krankengymnastik
  synonyms: [KG, Physiotherapie]
  duration_minutes: 25
  staff: [weber, yilmaz]
  calendar: {calcom_managed: {hosts: {weber: 2, yilmaz: 3}}}
- id: hausbesuch
  name: Hausbesuch
  duration_minutes: 45
  calendar: {caldav: {calendar: /praxis/hausbesuche/}}
policy:
  cancel_notice_hours: 12
  fees: [{within_hours: 24, fee_eur: 15}]
"#;
        let mut spec: AppointmentsSpec = serde_norway::from_str(doc).expect("praxis setup");
        spec.calcom = Some(crate::appointments::setup::CalComAccount {
            api_key: "cal_test".into(),
            base_url: None,
            webhook_secret: None,
        });
        spec.caldav = Some(crate::appointments::setup::CalDavAccount {
            base_url: "https://dav.example".into(),
            username: "u".into(),
            password: "p".into(),
        });
        spec.build().expect("valid praxis setup")
    }
}
