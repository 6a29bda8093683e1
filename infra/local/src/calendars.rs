//! The booking demo's calendars on this machine: a Cal.com stand-in holding the example
//! practice's event types with the practice's hours, and a real Radicale for its house calls.
//! `praxis_tenant` points `infra/tenants/praxis.yaml` at both, so `make run` (and the tests that
//! replay `events/retell/functions/`) book against real HTTP servers on 127.0.0.1.

use calcom_standin::{EventType, Standin};
use chrono::Weekday;
use gateway_domain::appointments::setup::{CalComAccount, CalDavAccount, CalendarBinding};
use gateway_domain::tenancy::TenantSpec;
use gateway_testkit::radicale::Radicale;

use crate::BoxError;

pub const PRAXIS_TENANT: &str = "infra/tenants/praxis.yaml";
/// The key the stand-in accepts (a test key in Cal.com's format).
const CALCOM_KEY: &str = "cal_test_local_standin";
/// The secret the stand-in signs its webhooks with (and the tenant verifies them with).
pub const CALCOM_WEBHOOK_SECRET: &str = "whsec_local_standin_webhooks_0123456789";
/// The collection the practice's house calls go to on the local Radicale.
const HOUSE_CALLS: &str = "/praxis/hausbesuche/";

const MON_THU: [Weekday; 4] = [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu];

/// The practice's hours as its Cal.com schedule: mornings, a lunch break, Friday afternoons
/// shorter, Saturday mornings.
fn practice_hours(event_type: EventType) -> EventType {
    event_type
        .in_zone("Europe/Berlin")
        .with_hours(&MON_THU, (7, 30), (12, 30))
        .add_hours(&MON_THU, (13, 30), (19, 0))
        .add_hours(&[Weekday::Fri], (7, 30), (12, 30))
        .add_hours(&[Weekday::Fri], (13, 30), (16, 0))
        .add_hours(&[Weekday::Sat], (9, 0), (12, 0))
}

/// The Cal.com side of the example practice (ids as in praxis.yaml).
pub fn praxis_calcom() -> calcom_standin::Config {
    calcom_standin::Config::default()
        .with_api_key(CALCOM_KEY)
        .with_event_type(
            practice_hours(EventType::new(1_480_231, "erstbefund", 30))
                .with_buffers(0, 10)
                .with_notice(240)
                .with_horizon_days(42),
        )
        .with_event_type(
            practice_hours(EventType::new(1_480_240, "krankengymnastik-weber", 25))
                .with_interval(15)
                .with_buffers(0, 5)
                .with_notice(120)
                .with_horizon_days(42),
        )
        .with_event_type(
            practice_hours(EventType::new(1_480_241, "krankengymnastik-yilmaz", 25))
                .with_interval(15)
                .with_buffers(0, 5)
                .with_notice(120)
                .with_horizon_days(42),
        )
}

/// The running calendars; dropping them stops both servers.
pub struct LocalCalendars {
    pub calcom: calcom_standin::Running,
    pub radicale: Radicale,
}

impl LocalCalendars {
    pub async fn start() -> Result<Self, BoxError> {
        let calcom = Standin::start(praxis_calcom()).await?;
        let radicale = tokio::task::spawn_blocking(|| {
            let server = Radicale::start();
            let status = server.mkcalendar(HOUSE_CALLS);
            assert_eq!(status, 201, "MKCALENDAR {HOUSE_CALLS}: {status}");
            server
        })
        .await?;
        Ok(Self { calcom, radicale })
    }

    /// Makes the stand-in send its signed webhooks to the gateway at `gateway` (e.g.
    /// `http://127.0.0.1:3000`) for `company`, as a company sets it up in Cal.com.
    pub fn send_webhooks_to(&self, gateway: &str, company: &str) {
        self.calcom.set_webhook(
            &format!("{gateway}/webhooks/calcom/{company}"),
            Some(CALCOM_WEBHOOK_SECRET),
        );
    }

    /// The `host:port`s the functions must be allowed to reach.
    pub fn allow_list(&self) -> Vec<String> {
        vec![self.calcom.addr().to_string(), self.radicale.host_port()]
    }

    /// The example practice pointed at these servers (its placeholders for the real accounts
    /// replaced). `keep_closures: false` drops its holidays, for tests that must not depend on
    /// the date they run.
    pub fn praxis_tenant(&self, mut spec: TenantSpec, keep_closures: bool) -> TenantSpec {
        if let Some(setup) = spec.appointments.as_mut() {
            setup.calcom = Some(CalComAccount {
                api_key: CALCOM_KEY.into(),
                base_url: Some(self.calcom.base_url()),
                webhook_secret: Some(CALCOM_WEBHOOK_SECRET.into()),
            });
            setup.caldav = Some(CalDavAccount {
                base_url: self.radicale.base_url(),
                username: self.radicale.username().into(),
                password: self.radicale.password().into(),
            });
            for service in &mut setup.services {
                if let Some(CalendarBinding::Caldav { calendar }) = service.calendar.as_mut() {
                    *calendar = HOUSE_CALLS.into();
                }
            }
            if !keep_closures {
                for branch in &mut setup.branches {
                    branch.closures.clear();
                }
            }
        }
        spec
    }
}

/// The example practice as written in the repository.
pub fn praxis_spec() -> Result<TenantSpec, BoxError> {
    Ok(serde_norway::from_str(&std::fs::read_to_string(PRAXIS_TENANT)?)?)
}
