//! A company's booking setup: the `appointments:` section of its tenant document (branches with
//! opening hours, services, staff, the calendar each books into, the booking policy, and the
//! credentials of its calendars) and the parsed form the engine works with. `build` parses the
//! document once and reports every problem at once, each with its path.
//!
//! ```yaml
//! appointments:
//!   calcom: {api_key: cal_live_…, webhook_secret: …}  # secrets; base_url defaults to Cal.com's API
//!   caldav: {base_url: https://cloud.example/remote.php/dav, username: praxis, password: …}
//!   branches:
//!   - id: hannover
//!     name: Praxis Hannover
//!     address: Lister Meile 12, 30161 Hannover
//!     time_zone: Europe/Berlin
//!     opening_hours: {mon: ["08:00-12:00", "13:00-18:00"], sat: ["09:00-13:00"]}
//!     closures: [{date: 2026-12-24, reason: Heiligabend}]
//!   staff:
//!   - {id: weber, name: Frau Weber, calendar: {calcom: {event_type_id: 1002}}}
//!   services:
//!   - id: beratung
//!     name: Erstberatung
//!     synonyms: [Beratung, Erstgespräch]
//!     duration_minutes: 30
//!     buffer_after_minutes: 10
//!     min_notice_minutes: 120
//!     horizon_days: 60
//!     staff: [weber]
//!     calendar: {calcom: {event_type_id: 1001}}   # or {caldav: {calendar: /praxis/termine/}}
//!   policy: {cancel_notice_hours: 24, reschedule_notice_hours: 24, fees: [{within_hours: 24, fee_eur: 15}]}
//! ```

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use chrono::TimeDelta;
use serde::{Deserialize, Serialize};

use crate::appointments::backend::CalendarRef;
use crate::appointments::calendar::config::{CalendarConfig, ClosureConfig, WeeklyHoursConfig};
use crate::appointments::calendar::hours::BranchCalendar;
use crate::appointments::calendar::slots::{ServiceRules, StaffId};
use crate::ids::{BranchId, ServiceId};
use crate::tenancy::output::MASKED_SECRET;
use crate::tenancy::validate::Issue;

/// Cal.com's API, unless a company's account lives elsewhere (e.g. its EU instance).
pub const CALCOM_API: &str = "https://api.cal.com/v2";

/// The shortest Cal.com webhook secret accepted.
pub const MIN_WEBHOOK_SECRET_CHARS: usize = 24;

/// The `appointments:` section as operators write it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AppointmentsSpec {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calcom: Option<CalComAccount>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caldav: Option<CalDavAccount>,
    pub branches: Vec<BranchSpec>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub staff: Vec<StaffSpec>,
    pub services: Vec<ServiceSpec>,
    pub policy: BookingPolicy,
    /// Who hears of the appointments the agent books, moves and cancels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notifications: Option<Notifications>,
}

/// Who hears of every booking, move and cancellation a caller or an operator makes (see
/// `crate::notices`): the company through its output configurations, the caller by a
/// confirmation e-mail with a calendar entry.
///
/// ```yaml
/// notifications: {outputs: [empfang], confirm_to_caller: true, organizer_email: termine@praxis.example}
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Notifications {
    /// Output configurations told of every change (their e-mail and webhook channels); default:
    /// the output of the company's default category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outputs: Option<Vec<String>>,
    /// Send a caller who gave an e-mail address a confirmation with the calendar entry.
    #[serde(default = "yes")]
    pub confirm_to_caller: bool,
    /// The calendar entry's organizer (the company); default: the gateway's sender address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organizer_email: Option<String>,
}

fn yes() -> bool {
    true
}

impl Default for Notifications {
    fn default() -> Self {
        Self {
            outputs: None,
            confirm_to_caller: true,
            organizer_email: None,
        }
    }
}

/// A company's Cal.com account: its API key and the secret its webhooks are signed with (both
/// secrets: masked on export, never in `Debug`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalComAccount {
    pub api_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// The secret entered in Cal.com for the webhook to `/webhooks/calcom/{company}`; without it
    /// that route refuses every delivery (404: nothing to verify signatures with).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_secret: Option<String>,
}

impl CalComAccount {
    pub fn base_url(&self) -> &str {
        self.base_url.as_deref().unwrap_or(CALCOM_API)
    }
}

impl fmt::Debug for CalComAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CalComAccount")
            .field("api_key", &"<redacted>")
            .field("base_url", &self.base_url)
            .field("webhook_secret", &self.webhook_secret.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// A company's CalDAV server (Nextcloud, iCloud, Radicale, …); the password is a secret (masked
/// on export, never in `Debug`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalDavAccount {
    pub base_url: String,
    pub username: String,
    pub password: String,
}

impl fmt::Debug for CalDavAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CalDavAccount")
            .field("base_url", &self.base_url)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BranchSpec {
    pub id: BranchId,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default = "default_zone")]
    pub time_zone: String,
    pub opening_hours: WeeklyHoursConfig,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub closures: Vec<ClosureConfig>,
}

fn default_zone() -> String {
    "Europe/Berlin".into()
}

/// Where bookings go: one Cal.com event type, per-host child event types of a managed type (the
/// parent's id is refused by Cal.com's booking API), or a CalDAV calendar collection. Written as
/// a map with exactly one key, e.g. `{calcom: {event_type_id: 1001}}` (YAML and JSON alike).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "BindingDoc", into = "BindingDoc")]
pub enum CalendarBinding {
    Calcom { event_type_id: u64 },
    CalcomManaged { hosts: BTreeMap<String, u64> },
    Caldav { calendar: String },
}

/// The written form of a [`CalendarBinding`]: one of three keys.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct BindingDoc {
    #[serde(skip_serializing_if = "Option::is_none")]
    calcom: Option<CalcomEventType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    calcom_managed: Option<CalcomManaged>,
    #[serde(skip_serializing_if = "Option::is_none")]
    caldav: Option<CalDavCalendar>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CalcomEventType {
    event_type_id: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CalcomManaged {
    hosts: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CalDavCalendar {
    calendar: String,
}

impl TryFrom<BindingDoc> for CalendarBinding {
    type Error = String;

    fn try_from(doc: BindingDoc) -> Result<Self, Self::Error> {
        match (doc.calcom, doc.calcom_managed, doc.caldav) {
            (Some(t), None, None) => Ok(CalendarBinding::Calcom {
                event_type_id: t.event_type_id,
            }),
            (None, Some(m), None) => Ok(CalendarBinding::CalcomManaged { hosts: m.hosts }),
            (None, None, Some(c)) => Ok(CalendarBinding::Caldav { calendar: c.calendar }),
            _ => Err("a calendar must name exactly one of calcom, calcom_managed or caldav".into()),
        }
    }
}

impl From<CalendarBinding> for BindingDoc {
    fn from(binding: CalendarBinding) -> Self {
        match binding {
            CalendarBinding::Calcom { event_type_id } => BindingDoc {
                calcom: Some(CalcomEventType { event_type_id }),
                ..Default::default()
            },
            CalendarBinding::CalcomManaged { hosts } => BindingDoc {
                calcom_managed: Some(CalcomManaged { hosts }),
                ..Default::default()
            },
            CalendarBinding::Caldav { calendar } => BindingDoc {
                caldav: Some(CalDavCalendar { calendar }),
                ..Default::default()
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffSpec {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calendar: Option<CalendarBinding>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSpec {
    pub id: ServiceId,
    pub name: String,
    /// Other words callers use for it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub synonyms: Vec<String>,
    /// The branch it is offered at (default: the company's only branch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<BranchId>,
    pub duration_minutes: u32,
    #[serde(default)]
    pub buffer_before_minutes: u32,
    #[serde(default)]
    pub buffer_after_minutes: u32,
    #[serde(default = "default_notice")]
    pub min_notice_minutes: u32,
    #[serde(default = "default_horizon")]
    pub horizon_days: u32,
    /// Who can do it (a staff member's own calendar binding, if any, is used for them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub staff: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calendar: Option<CalendarBinding>,
}

fn default_notice() -> u32 {
    60
}

fn default_horizon() -> u32 {
    60
}

/// A fee read out when a caller cancels or moves an appointment less than `within_hours` before it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeeTier {
    pub within_hours: u32,
    pub fee_eur: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BookingPolicy {
    /// Cancelling later than this before the appointment is refused (a callback is offered).
    pub cancel_notice_hours: u32,
    pub reschedule_notice_hours: u32,
    pub fees: Vec<FeeTier>,
    /// Only a caller whose number matches the appointment's may cancel or move it.
    pub caller_number_must_match: bool,
    /// Alternatives offered when a wish is taken (2–3).
    pub max_alternatives: u8,
}

impl Default for BookingPolicy {
    fn default() -> Self {
        Self {
            cancel_notice_hours: 24,
            reschedule_notice_hours: 24,
            fees: Vec::new(),
            caller_number_must_match: true,
            max_alternatives: 3,
        }
    }
}

impl BookingPolicy {
    /// The fee for changing an appointment `hours_before` it starts (the tightest tier that applies).
    pub fn fee_for(&self, hours_before: f64) -> Option<f64> {
        self.fees
            .iter()
            .filter(|t| hours_before < f64::from(t.within_hours))
            .min_by_key(|t| t.within_hours)
            .map(|t| t.fee_eur)
            .filter(|fee| *fee > 0.0)
    }
}

/// A branch, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct Branch {
    pub id: BranchId,
    pub name: String,
    pub address: Option<String>,
    pub calendar: BranchCalendar,
}

/// A staff member, parsed: their own calendar, if they have one.
#[derive(Debug, Clone, PartialEq)]
pub struct Staff {
    pub id: StaffId,
    pub name: String,
    pub calendar: Option<CalendarRef>,
}

/// A service, parsed: its rules and where each of its staff (or the service itself) books.
#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    pub id: ServiceId,
    pub name: String,
    pub synonyms: Vec<String>,
    pub branch: BranchId,
    pub rules: ServiceRules,
    pub staff: Vec<StaffId>,
    /// The calendar per staff member (managed Cal.com types, staff calendars), and the
    /// service's own calendar for "anyone".
    pub calendars: Vec<(Option<StaffId>, CalendarRef)>,
}

impl Service {
    /// The calendars to search for `staff` (all of them when nobody is preferred).
    pub fn calendars_for(&self, staff: Option<&StaffId>) -> Vec<(Option<StaffId>, CalendarRef)> {
        match staff {
            Some(s) => self
                .calendars
                .iter()
                .filter(|(who, _)| who.as_ref() == Some(s))
                .cloned()
                .collect(),
            None => self.calendars.clone(),
        }
    }
}

/// A company's booking setup, parsed once when its tenant document is read.
#[derive(Debug, Clone, PartialEq)]
pub struct Appointments {
    pub calcom: Option<CalComAccount>,
    pub caldav: Option<CalDavAccount>,
    pub branches: Vec<Branch>,
    pub staff: Vec<Staff>,
    pub services: Vec<Service>,
    pub policy: BookingPolicy,
    pub notifications: Notifications,
}

impl Appointments {
    pub fn branch(&self, id: &BranchId) -> Option<&Branch> {
        self.branches.iter().find(|b| &b.id == id)
    }

    pub fn service(&self, id: &ServiceId) -> Option<&Service> {
        self.services.iter().find(|s| &s.id == id)
    }

    pub fn staff_member(&self, id: &StaffId) -> Option<&Staff> {
        self.staff.iter().find(|s| &s.id == id)
    }
}

fn binding(binding: &CalendarBinding) -> Vec<(Option<StaffId>, CalendarRef)> {
    match binding {
        CalendarBinding::Calcom { event_type_id } => vec![(
            None,
            CalendarRef::CalCom {
                event_type_id: *event_type_id,
            },
        )],
        CalendarBinding::CalcomManaged { hosts } => hosts
            .iter()
            .map(|(staff, id)| (Some(StaffId(staff.clone())), CalendarRef::CalCom { event_type_id: *id }))
            .collect(),
        CalendarBinding::Caldav { calendar } => vec![(
            None,
            CalendarRef::CalDav {
                calendar_path: calendar.clone(),
            },
        )],
    }
}

impl AppointmentsSpec {
    /// Problems of one calendar binding at `path` (`appointments.services[0].calendar`): ids, the
    /// CalDAV collection path, and the account it needs.
    fn binding_issues(&self, path: &str, binding: &CalendarBinding) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let calcom_missing = || {
            (
                path.to_string(),
                "books into Cal.com but appointments.calcom is not set".to_string(),
            )
        };
        match binding {
            CalendarBinding::Calcom { event_type_id } => {
                if *event_type_id == 0 {
                    out.push((
                        format!("{path}.calcom.event_type_id"),
                        "must be a Cal.com event type id".into(),
                    ));
                }
                if self.calcom.is_none() {
                    out.push(calcom_missing());
                }
            }
            CalendarBinding::CalcomManaged { hosts } => {
                if hosts.is_empty() {
                    out.push((
                        format!("{path}.calcom_managed.hosts"),
                        "must map at least one staff member to their event type".into(),
                    ));
                }
                for (host, id) in hosts {
                    if *id == 0 {
                        out.push((
                            format!("{path}.calcom_managed.hosts.{host}"),
                            "must be a Cal.com event type id".into(),
                        ));
                    }
                }
                if self.calcom.is_none() {
                    out.push(calcom_missing());
                }
            }
            CalendarBinding::Caldav { calendar } => {
                if !calendar.starts_with('/') {
                    out.push((
                        format!("{path}.caldav.calendar"),
                        "must be the collection's path on the CalDAV server, starting with '/'".into(),
                    ));
                }
                if self.caldav.is_none() {
                    out.push((
                        path.to_string(),
                        "books into CalDAV but appointments.caldav is not set".into(),
                    ));
                }
            }
        }
        out
    }

    /// The section with its secrets (`calcom.api_key`, `calcom.webhook_secret`,
    /// `caldav.password`) replaced by the mask.
    pub fn masked(&self) -> AppointmentsSpec {
        let mut out = self.clone();
        if let Some(calcom) = out.calcom.as_mut() {
            calcom.api_key = MASKED_SECRET.into();
            if let Some(secret) = calcom.webhook_secret.as_mut() {
                *secret = MASKED_SECRET.into();
            }
        }
        if let Some(caldav) = out.caldav.as_mut() {
            caldav.password = MASKED_SECRET.into();
        }
        out
    }

    /// Takes masked secrets from `stored`, so applying an exported file keeps them. A secret is
    /// only taken for the same account: the Cal.com key while the API's base URL is unchanged, the
    /// CalDAV password while server and user are unchanged (a stored credential never goes to a
    /// new server). A mask left over is reported by [`AppointmentsSpec::masked_secrets`].
    pub fn unmask_from(&mut self, stored: &AppointmentsSpec) {
        if let (Some(calcom), Some(old)) = (self.calcom.as_mut(), stored.calcom.as_ref())
            && calcom.base_url() == old.base_url()
        {
            if calcom.api_key == MASKED_SECRET {
                calcom.api_key.clone_from(&old.api_key);
            }
            if calcom.webhook_secret.as_deref() == Some(MASKED_SECRET) && old.webhook_secret.is_some() {
                calcom.webhook_secret.clone_from(&old.webhook_secret);
            }
        }
        if let (Some(caldav), Some(old)) = (self.caldav.as_mut(), stored.caldav.as_ref())
            && caldav.password == MASKED_SECRET
            && caldav.base_url == old.base_url
            && caldav.username == old.username
        {
            caldav.password.clone_from(&old.password);
        }
    }

    /// Secrets still masked (after [`AppointmentsSpec::unmask_from`]): nothing stored to keep.
    pub fn masked_secrets(&self) -> Vec<Issue> {
        let mut issues = Vec::new();
        if self.calcom.as_ref().is_some_and(|c| c.api_key == MASKED_SECRET) {
            issues.push(Issue {
                path: "appointments.calcom.api_key".into(),
                message: "is masked, and no key is stored for this account to keep (give the key)".into(),
            });
        }
        if self
            .calcom
            .as_ref()
            .is_some_and(|c| c.webhook_secret.as_deref() == Some(MASKED_SECRET))
        {
            issues.push(Issue {
                path: "appointments.calcom.webhook_secret".into(),
                message: "is masked, and no secret is stored for this account to keep (give the secret)".into(),
            });
        }
        if self.caldav.as_ref().is_some_and(|c| c.password == MASKED_SECRET) {
            issues.push(Issue {
                path: "appointments.caldav.password".into(),
                message: "is masked, and no password is stored for this server and user to keep (give the password)"
                    .into(),
            });
        }
        issues
    }

    /// Parses the section, or lists every problem (paths start with `appointments.`).
    pub fn build(&self) -> Result<Appointments, Vec<Issue>> {
        let mut issues = Vec::new();
        let mut add = |path: String, message: String| issues.push(Issue { path, message });
        let mut branches = Vec::new();
        let mut seen = HashSet::new();
        for (i, b) in self.branches.iter().enumerate() {
            let path = format!("appointments.branches[{i}]");
            if b.id.trim().is_empty() {
                add(format!("{path}.id"), "must not be empty".into());
            } else if !seen.insert(b.id.clone()) {
                add(format!("{path}.id"), format!("'{}' is listed twice", b.id));
            }
            if b.name.trim().is_empty() {
                add(format!("{path}.name"), "must not be empty".into());
            }
            let config = CalendarConfig {
                time_zone: b.time_zone.clone(),
                opening_hours: b.opening_hours.clone(),
                closures: b.closures.clone(),
            };
            match config.build() {
                Ok(calendar) => branches.push(Branch {
                    id: b.id.clone(),
                    name: b.name.clone(),
                    address: b.address.clone(),
                    calendar,
                }),
                Err(e) => {
                    e.0.into_iter()
                        .for_each(|i| add(format!("{path}.{}", i.path), i.message))
                }
            }
        }
        let mut staff = Vec::new();
        let mut staff_ids = HashSet::new();
        for (i, s) in self.staff.iter().enumerate() {
            let path = format!("appointments.staff[{i}]");
            if s.id.trim().is_empty() {
                add(format!("{path}.id"), "must not be empty".into());
            } else if !staff_ids.insert(s.id.clone()) {
                add(format!("{path}.id"), format!("'{}' is listed twice", s.id));
            }
            if s.name.trim().is_empty() {
                add(format!("{path}.name"), "must not be empty".into());
            }
            let calendar = match &s.calendar {
                Some(CalendarBinding::CalcomManaged { .. }) => {
                    add(
                        format!("{path}.calendar"),
                        "a staff member books into one calendar".into(),
                    );
                    None
                }
                Some(b) => {
                    self.binding_issues(&format!("{path}.calendar"), b)
                        .into_iter()
                        .for_each(|(p, m)| add(p, m));
                    binding(b).into_iter().next().map(|(_, c)| c)
                }
                None => None,
            };
            staff.push(Staff {
                id: StaffId(s.id.clone()),
                name: s.name.clone(),
                calendar,
            });
        }
        let mut services = Vec::new();
        let mut service_ids = HashSet::new();
        for (i, s) in self.services.iter().enumerate() {
            let path = format!("appointments.services[{i}]");
            if s.id.trim().is_empty() {
                add(format!("{path}.id"), "must not be empty".into());
            } else if !service_ids.insert(s.id.clone()) {
                add(format!("{path}.id"), format!("'{}' is listed twice", s.id));
            }
            if s.name.trim().is_empty() {
                add(format!("{path}.name"), "must not be empty".into());
            }
            let branch = match (&s.branch, self.branches.as_slice()) {
                (Some(b), _) if self.branches.iter().any(|x| &x.id == b) => Some(b.clone()),
                (Some(b), _) => {
                    add(format!("{path}.branch"), format!("no branch '{b}'"));
                    None
                }
                (None, [only]) => Some(only.id.clone()),
                (None, _) => {
                    add(
                        format!("{path}.branch"),
                        "is required when the company has several branches (or none)".into(),
                    );
                    None
                }
            };
            if s.duration_minutes == 0 || s.duration_minutes > 8 * 60 {
                add(format!("{path}.duration_minutes"), "must be between 1 and 480".into());
            }
            if s.horizon_days == 0 || s.horizon_days > 366 {
                add(format!("{path}.horizon_days"), "must be between 1 and 366".into());
            }
            let mut rules = ServiceRules::new(TimeDelta::minutes(i64::from(s.duration_minutes)));
            rules.buffer_before = TimeDelta::minutes(i64::from(s.buffer_before_minutes));
            rules.buffer_after = TimeDelta::minutes(i64::from(s.buffer_after_minutes));
            rules.min_notice = TimeDelta::minutes(i64::from(s.min_notice_minutes));
            rules.horizon_days = s.horizon_days;
            for (j, who) in s.staff.iter().enumerate() {
                if !self.staff.iter().any(|x| &x.id == who) {
                    add(format!("{path}.staff[{j}]"), format!("no staff member '{who}'"));
                }
            }
            let mut calendars = s.calendar.as_ref().map(binding).unwrap_or_default();
            if let Some(CalendarBinding::CalcomManaged { hosts }) = &s.calendar {
                for host in hosts.keys() {
                    if !s.staff.contains(host) {
                        add(
                            format!("{path}.calendar.calcom_managed.hosts.{host}"),
                            "is not among the service's staff".into(),
                        );
                    }
                }
            }
            for who in &s.staff {
                let own = staff.iter().find(|x| &x.id.0 == who).and_then(|x| x.calendar.clone());
                let covered = calendars.iter().any(|(w, _)| w.as_ref().is_some_and(|w| &w.0 == who));
                if let (Some(own), false) = (own, covered) {
                    calendars.push((Some(StaffId(who.clone())), own));
                }
            }
            if let Some(b) = &s.calendar {
                self.binding_issues(&format!("{path}.calendar"), b)
                    .into_iter()
                    .for_each(|(p, m)| add(p, m));
            } else if calendars.is_empty() {
                add(
                    format!("{path}.calendar"),
                    "is required (or staff with calendars of their own)".into(),
                );
            }
            // Without a calendar for "anyone" (managed types), a staff member without a calendar of
            // their own for this service could never be offered.
            if !calendars.is_empty() && !calendars.iter().any(|(who, _)| who.is_none()) {
                for (j, who) in s.staff.iter().enumerate() {
                    let known = self.staff.iter().any(|x| &x.id == who);
                    let covered = calendars.iter().any(|(w, _)| w.as_ref().is_some_and(|w| &w.0 == who));
                    if known && !covered {
                        add(
                            format!("{path}.staff[{j}]"),
                            format!(
                                "'{who}' has no calendar for this service (not a host in calendar.calcom_managed.hosts, no calendar of their own)"
                            ),
                        );
                    }
                }
            }
            if let Err(e) = rules.validate() {
                add(path.clone(), e.to_string());
            }
            if let Some(branch) = branch {
                services.push(Service {
                    id: s.id.clone(),
                    name: s.name.clone(),
                    synonyms: s.synonyms.clone(),
                    branch,
                    rules,
                    staff: s.staff.iter().cloned().map(StaffId).collect(),
                    calendars,
                });
            }
        }
        if let Some(calcom) = &self.calcom
            && !calcom.api_key.starts_with("cal_")
            && calcom.api_key != MASKED_SECRET
        {
            add(
                "appointments.calcom.api_key".into(),
                "must be a Cal.com API key (cal_live_… or cal_test_…)".into(),
            );
        }
        if let Some(secret) = self.calcom.as_ref().and_then(|c| c.webhook_secret.as_deref())
            && secret != MASKED_SECRET
            && secret.trim().chars().count() < MIN_WEBHOOK_SECRET_CHARS
        {
            // Cal.com signs without a timestamp: a short secret can be guessed from one captured delivery.
            add(
                "appointments.calcom.webhook_secret".into(),
                format!(
                    "must be at least {MIN_WEBHOOK_SECRET_CHARS} characters (a random string, entered in Cal.com too); leave it out to receive no webhooks"
                ),
            );
        }
        if !(1..=3).contains(&self.policy.max_alternatives) {
            add(
                "appointments.policy.max_alternatives".into(),
                "must be 1, 2 or 3".into(),
            );
        }
        let mut tiers = HashSet::new();
        for (i, fee) in self.policy.fees.iter().enumerate() {
            if fee.within_hours == 0 {
                add(
                    format!("appointments.policy.fees[{i}].within_hours"),
                    "must be at least 1".into(),
                );
            } else if !tiers.insert(fee.within_hours) {
                add(
                    format!("appointments.policy.fees[{i}].within_hours"),
                    format!("a tier for {} hours is listed twice", fee.within_hours),
                );
            }
            if !(0.0..=1000.0).contains(&fee.fee_eur) {
                add(
                    format!("appointments.policy.fees[{i}].fee_eur"),
                    "must be between 0 and 1000".into(),
                );
            }
        }
        let notifications = self.notifications.clone().unwrap_or_default();
        let mut outputs = HashSet::new();
        for (i, output) in notifications.outputs.iter().flatten().enumerate() {
            let path = format!("appointments.notifications.outputs[{i}]");
            if output.trim().is_empty() {
                add(path, "must name an output configuration".into());
            } else if !outputs.insert(output.as_str()) {
                add(path, format!("'{output}' is listed twice"));
            }
        }
        if let Some(organizer) = &notifications.organizer_email
            && !crate::tenancy::validate::is_valid_email(organizer)
        {
            add(
                "appointments.notifications.organizer_email".into(),
                format!("'{organizer}' is not a valid e-mail address"),
            );
        }
        if !issues.is_empty() {
            return Err(issues);
        }
        Ok(Appointments {
            notifications,
            calcom: self.calcom.clone(),
            caldav: self.caldav.clone(),
            branches,
            staff,
            services,
            policy: self.policy.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> AppointmentsSpec {
        serde_json::from_value(serde_json::json!({
            "calcom": {"api_key": "cal_test_abc"},
            "caldav": {"base_url": "https://cloud.example/remote.php/dav", "username": "praxis", "password": "s3cret"},
            "branches": [{"id": "main", "name": "Praxis", "opening_hours": {"mon": ["08:00-12:00"]}}],
            "staff": [{"id": "weber", "name": "Frau Weber"}, {"id": "yilmaz", "name": "Herr Yilmaz"}],
            "services": [
                {"id": "kg", "name": "Krankengymnastik", "duration_minutes": 25, "staff": ["weber", "yilmaz"],
                 "calendar": {"calcom_managed": {"hosts": {"weber": 11, "yilmaz": 12}}}},
                {"id": "hausbesuch", "name": "Hausbesuch", "duration_minutes": 45,
                 "calendar": {"caldav": {"calendar": "/calendars/praxis/hausbesuche/"}}}
            ]
        }))
        .unwrap()
    }

    fn issues(spec: &AppointmentsSpec) -> Vec<String> {
        spec.build()
            .err()
            .unwrap_or_default()
            .iter()
            .map(|i| format!("{}: {}", i.path, i.message))
            .collect()
    }

    #[test]
    fn masking_hides_both_secrets_and_unmasking_restores_them() {
        let stored = spec();
        let mut masked = stored.masked();
        assert_eq!(masked.calcom.as_ref().unwrap().api_key, MASKED_SECRET);
        assert_eq!(masked.caldav.as_ref().unwrap().password, MASKED_SECRET);
        let text = serde_json::to_string(&masked).unwrap();
        assert!(!text.contains("cal_test_abc") && !text.contains("s3cret"), "{text}");
        assert!(masked.build().is_ok(), "a masked section still parses");
        assert_eq!(masked.masked_secrets().len(), 2);
        masked.unmask_from(&stored);
        assert_eq!(masked, stored);
        assert!(masked.masked_secrets().is_empty());
        // Secrets given in the document win over the stored ones.
        let mut new = stored.clone();
        new.caldav.as_mut().unwrap().password = "new-pass".into();
        new.unmask_from(&stored);
        assert_eq!(new.caldav.unwrap().password, "new-pass");
    }

    #[test]
    fn a_stored_secret_never_follows_the_account_to_another_server_or_user() {
        let stored = spec();
        let mut moved = stored.masked();
        moved.calcom.as_mut().unwrap().base_url = Some("https://api.cal.eu/v2".into());
        moved.caldav.as_mut().unwrap().username = "someone-else".into();
        moved.unmask_from(&stored);
        let left: Vec<String> = moved.masked_secrets().into_iter().map(|i| i.path).collect();
        assert_eq!(left, ["appointments.calcom.api_key", "appointments.caldav.password"]);
        let mut fresh = stored.masked();
        fresh.unmask_from(&AppointmentsSpec::default());
        assert_eq!(
            fresh.masked_secrets().len(),
            2,
            "nothing stored: the masks stay and are reported"
        );
    }

    #[test]
    fn secrets_never_show_in_debug() {
        let built = spec().build().unwrap();
        let text = format!("{built:?}");
        assert!(!text.contains("cal_test_abc") && !text.contains("s3cret"), "{text}");
        assert!(text.contains("<redacted>"));
    }

    #[test]
    fn managed_event_types_book_per_host() {
        let built = spec().build().unwrap();
        let kg = built.service(&"kg".into()).unwrap();
        let weber = StaffId("weber".into());
        assert_eq!(
            kg.calendars_for(Some(&weber)),
            [(Some(weber.clone()), CalendarRef::CalCom { event_type_id: 11 })]
        );
        assert_eq!(kg.calendars_for(None).len(), 2);
    }

    #[test]
    fn calendar_bindings_are_checked_where_they_are_written() {
        let mut s = spec();
        s.calcom = None;
        s.staff[0].calendar = Some(CalendarBinding::Caldav {
            calendar: "calendars/weber".into(),
        });
        // Yilmaz is no host of the managed type and has no calendar: never bookable for KG.
        if let Some(CalendarBinding::CalcomManaged { hosts }) = &mut s.services[0].calendar {
            hosts.remove("yilmaz");
            hosts.insert("weber".into(), 0);
        }
        s.services[1].name = " ".into();
        assert_eq!(
            issues(&s),
            [
                "appointments.staff[0].calendar.caldav.calendar: must be the collection's path on the CalDAV server, starting with '/'",
                "appointments.services[0].calendar.calcom_managed.hosts.weber: must be a Cal.com event type id",
                "appointments.services[0].calendar: books into Cal.com but appointments.calcom is not set",
                "appointments.services[0].staff[1]: 'yilmaz' has no calendar for this service (not a host in calendar.calcom_managed.hosts, no calendar of their own)",
                "appointments.services[1].name: must not be empty",
            ]
        );
    }

    #[test]
    fn fee_tiers_are_checked() {
        let mut s = spec();
        s.policy.fees = vec![
            FeeTier {
                within_hours: 24,
                fee_eur: 15.0,
            },
            FeeTier {
                within_hours: 24,
                fee_eur: 10.0,
            },
            FeeTier {
                within_hours: 0,
                fee_eur: -1.0,
            },
        ];
        assert_eq!(
            issues(&s),
            [
                "appointments.policy.fees[1].within_hours: a tier for 24 hours is listed twice",
                "appointments.policy.fees[2].within_hours: must be at least 1",
                "appointments.policy.fees[2].fee_eur: must be between 0 and 1000",
            ]
        );
    }

    #[test]
    fn the_webhook_secret_is_masked_kept_and_never_shown_like_the_api_key() {
        let mut stored = spec();
        let secret = "whsec_4f9a1c7e2b8d6a3f5e0c9b7a";
        stored.calcom.as_mut().unwrap().webhook_secret = Some(secret.into());
        assert!(stored.build().is_ok());
        let mut masked = stored.masked();
        assert_eq!(
            masked.calcom.as_ref().unwrap().webhook_secret.as_deref(),
            Some(MASKED_SECRET)
        );
        let text = serde_json::to_string(&masked).unwrap();
        assert!(!text.contains(secret), "{text}");
        assert!(masked.build().is_ok(), "a masked secret still parses");
        assert_eq!(masked.masked_secrets().len(), 3);
        masked.unmask_from(&stored);
        assert_eq!(masked, stored);
        // Not for another account, and never in Debug.
        let mut moved = stored.masked();
        moved.calcom.as_mut().unwrap().base_url = Some("https://api.cal.eu/v2".into());
        moved.unmask_from(&stored);
        let left: Vec<String> = moved.masked_secrets().into_iter().map(|i| i.path).collect();
        assert!(
            left.contains(&"appointments.calcom.webhook_secret".to_string()),
            "{left:?}"
        );
        let debug = format!("{:?}", stored.build().unwrap());
        assert!(
            !debug.contains(secret) && debug.contains("webhook_secret: Some(\"<redacted>\")"),
            "{debug}"
        );
        // Without a secret nothing is masked or reported for it.
        assert_eq!(spec().masked().calcom.unwrap().webhook_secret, None);
    }

    #[test]
    fn a_short_webhook_secret_is_refused() {
        let mut s = spec();
        s.calcom.as_mut().unwrap().webhook_secret = Some("geheim".into());
        assert_eq!(
            issues(&s),
            [
                "appointments.calcom.webhook_secret: must be at least 24 characters (a random string, entered in Cal.com too); leave it out to receive no webhooks"
            ]
        );
    }
}
