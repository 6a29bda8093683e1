//! A company's calendar backend, built from the accounts in its tenant document: Cal.com and/or
//! CalDAV behind one `CalendarBackend` that dispatches on the calendar each call names. Clients
//! are built once per company and account (a changed key or server builds new ones), so a warm
//! function reuses their connections.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use gateway_domain::appointments::backend::{
    BackendBooking, BackendError, BookingRequest, CalendarBackend, CalendarRef, Reservation, SlotQuery,
};
use gateway_domain::appointments::calendar::slots::Slot;
use gateway_domain::appointments::engine::CalendarBackends;
use gateway_domain::appointments::setup::Appointments;
use gateway_domain::deadline::Deadline;
use gateway_domain::ids::CompanyId;
use gateway_domain::ssrf::UrlPolicy;

use crate::calcom::CalCom;
use crate::caldav::CalDav;

/// One company's calendars.
pub struct CompanyCalendars {
    calcom: Option<CalCom>,
    caldav: Option<CalDav>,
}

impl CompanyCalendars {
    fn for_calendar(&self, calendar: &CalendarRef) -> Result<&dyn CalendarBackend, BackendError> {
        let backend: Option<&dyn CalendarBackend> = match calendar {
            CalendarRef::CalCom { .. } => self.calcom.as_ref().map(|c| c as &dyn CalendarBackend),
            CalendarRef::CalDav { .. } => self.caldav.as_ref().map(|c| c as &dyn CalendarBackend),
        };
        backend.ok_or_else(|| BackendError::UnknownCalendar(format!("no account for {}", calendar.key())))
    }
}

#[async_trait]
impl CalendarBackend for CompanyCalendars {
    async fn free_slots(&self, query: &SlotQuery, deadline: Deadline) -> Result<Vec<Slot>, BackendError> {
        self.for_calendar(&query.calendar)?.free_slots(query, deadline).await
    }

    async fn reserve(
        &self,
        calendar: &CalendarRef,
        slot: &Slot,
        deadline: Deadline,
    ) -> Result<Option<Reservation>, BackendError> {
        self.for_calendar(calendar)?.reserve(calendar, slot, deadline).await
    }

    async fn release(&self, reservation: &Reservation, deadline: Deadline) -> Result<(), BackendError> {
        // Only Cal.com hands out reservations.
        match &self.calcom {
            Some(calcom) => calcom.release(reservation, deadline).await,
            None => Ok(()),
        }
    }

    async fn book(&self, request: &BookingRequest, deadline: Deadline) -> Result<BackendBooking, BackendError> {
        self.for_calendar(&request.calendar)?.book(request, deadline).await
    }

    async fn get(&self, calendar: &CalendarRef, uid: &str, deadline: Deadline) -> Result<BackendBooking, BackendError> {
        self.for_calendar(calendar)?.get(calendar, uid, deadline).await
    }

    async fn cancel(
        &self,
        calendar: &CalendarRef,
        uid: &str,
        reason: &str,
        deadline: Deadline,
    ) -> Result<(), BackendError> {
        self.for_calendar(calendar)?
            .cancel(calendar, uid, reason, deadline)
            .await
    }

    async fn reschedule(
        &self,
        calendar: &CalendarRef,
        uid: &str,
        to: &Slot,
        reason: &str,
        deadline: Deadline,
    ) -> Result<BackendBooking, BackendError> {
        self.for_calendar(calendar)?
            .reschedule(calendar, uid, to, reason, deadline)
            .await
    }
}

/// The accounts a set of clients was built for (a change rebuilds them).
#[derive(PartialEq)]
struct Accounts {
    calcom: Option<(String, String)>,
    caldav: Option<(String, String, String)>,
}

impl Accounts {
    fn of(setup: &Appointments) -> Self {
        Self {
            calcom: setup
                .calcom
                .as_ref()
                .map(|a| (a.base_url().to_string(), a.api_key.clone())),
            caldav: setup
                .caldav
                .as_ref()
                .map(|a| (a.base_url.clone(), a.username.clone(), a.password.clone())),
        }
    }
}

/// Every company's calendars, built on first use and kept per container.
pub struct TenantCalendars {
    policy: UrlPolicy,
    built: Mutex<HashMap<CompanyId, (Accounts, Arc<CompanyCalendars>)>>,
}

impl TenantCalendars {
    /// `policy` decides which calendar servers may be reached (strict: https, public addresses).
    pub fn new(policy: UrlPolicy) -> Self {
        Self {
            policy,
            built: Mutex::default(),
        }
    }
}

impl CalendarBackends for TenantCalendars {
    fn backend(&self, company: &CompanyId, setup: &Appointments) -> Result<Arc<dyn CalendarBackend>, BackendError> {
        let accounts = Accounts::of(setup);
        let mut built = self.built.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((known, calendars)) = built.get(company)
            && *known == accounts
        {
            return Ok(calendars.clone());
        }
        let unusable = |e: crate::http::ClientBuildError| BackendError::Unavailable(gateway_domain::error::chain(&e));
        let calendars = Arc::new(CompanyCalendars {
            calcom: setup
                .calcom
                .as_ref()
                .map(|a| CalCom::new(a, self.policy.clone()))
                .transpose()
                .map_err(unusable)?,
            caldav: setup
                .caldav
                .as_ref()
                .map(|a| CalDav::new(a, self.policy.clone()))
                .transpose()
                .map_err(unusable)?,
        });
        built.insert(company.clone(), (accounts, calendars.clone()));
        Ok(calendars)
    }
}
