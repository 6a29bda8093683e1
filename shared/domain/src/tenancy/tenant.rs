//! Tenant configuration: a company's gateway settings, its categories and its routes.

use serde::{Deserialize, Serialize};

use crate::appointments::setup::{Appointments, AppointmentsSpec};
use crate::case::{CaseType, Priority};
use crate::ids::CompanyId;
use crate::locale::{Region, TimeZone};
use crate::tenancy::output::{OutputConfig, Preset};

/// How a company's calls are handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum GatewayMode {
    /// Calls book appointments; no service cases.
    #[default]
    Appointment,
    /// Every call that reports a problem becomes a service case.
    ServiceDesk,
    /// Intent detection decides per call, with a fallback mode.
    Hybrid,
}

/// The mode a hybrid company falls back to when the intent is unclear.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum FallbackMode {
    Appointment,
    #[default]
    ServiceDesk,
}

/// One company's gateway configuration (one source of truth, read by every function).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CompanyConfig {
    pub company_id: CompanyId,
    pub name: String,
    pub mode: GatewayMode,
    pub hybrid_fallback_mode: FallbackMode,
    /// Minimum share of the winning intent's score (0..=1) for hybrid routing.
    pub intent_threshold: f64,
    /// Delay before enrichment starts, in seconds (SQS caps it at 900).
    pub enrichment_delay_seconds: u32,
    pub audio_url_ttl_minutes: u32,
    /// Lifetime of the signed case links in e-mails (`show_admin_link`) and webhook payloads.
    pub case_link_ttl_hours: u32,
    pub alerts_enabled: bool,
    pub admin_emails: Vec<String>,
    pub default_case_type: CaseType,
    pub default_priority: Priority,
    /// IANA time zone, e.g. `Europe/Berlin` (parsed into the `Tenant` when read).
    pub time_zone: String,
    /// BCP 47 locale, e.g. `de-DE`.
    pub locale: String,
    /// Region for phone numbers written without a country code (ISO 3166 alpha-2).
    pub default_region: String,
    pub sla_tracking_enabled: bool,
    /// Minimum Jaro-Winkler similarity (0..=1) for matching a caller to a customer by name.
    pub name_match_threshold: f64,
    /// Create an "unknown caller" customer when nobody matches (needs a caller number).
    pub create_unknown_callers: bool,
    /// Copy Retell's PII-scrubbed recording instead of the original.
    pub use_scrubbed_recording: bool,
    /// Slack incoming-webhook URL for delivery alerts (a secret: masked on export).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slack_webhook_url: Option<String>,
    /// Pricing and exchange rates for the cost ledger; without it calls are recorded unpriced.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing: Option<crate::costs::Billing>,
}

impl Default for CompanyConfig {
    fn default() -> Self {
        Self {
            company_id: CompanyId::default(),
            name: String::new(),
            mode: GatewayMode::Appointment,
            hybrid_fallback_mode: FallbackMode::ServiceDesk,
            intent_threshold: 0.6,
            enrichment_delay_seconds: 90,
            audio_url_ttl_minutes: 60,
            case_link_ttl_hours: 72,
            alerts_enabled: true,
            admin_emails: Vec::new(),
            default_case_type: CaseType::Incident,
            default_priority: Priority::Normal,
            time_zone: "Europe/Berlin".into(),
            locale: "de-DE".into(),
            default_region: "DE".into(),
            sla_tracking_enabled: true,
            name_match_threshold: 0.88,
            create_unknown_callers: false,
            use_scrubbed_recording: false,
            slack_webhook_url: None,
            billing: None,
        }
    }
}

/// An intent keyword with its weight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Keyword {
    pub term: String,
    /// Defaults to max(0.3, length / 10) like the original classifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<f64>,
}

impl Keyword {
    pub fn new(term: &str, weight: f64) -> Self {
        Self {
            term: term.to_string(),
            weight: Some(weight),
        }
    }

    pub fn effective_weight(&self) -> f64 {
        self.weight
            .unwrap_or_else(|| (self.term.chars().count() as f64 / 10.0).max(0.3))
    }
}

/// A service-case category of one company.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Category {
    pub slug: String,
    pub name: String,
    pub keywords: Vec<Keyword>,
    /// Minimum summed keyword score for a match.
    pub threshold: f64,
    pub default_case_type: Option<CaseType>,
    pub default_priority: Option<Priority>,
    pub sla_response_hours: Option<u32>,
    pub sla_resolution_hours: Option<u32>,
    /// Which output configuration delivers this category's cases.
    pub output: Option<String>,
    /// The category used when nothing else matches.
    pub is_default: bool,
    pub active: bool,
}

impl Default for Category {
    fn default() -> Self {
        Self {
            slug: String::new(),
            name: String::new(),
            keywords: Vec::new(),
            threshold: 0.5,
            default_case_type: None,
            default_priority: None,
            sla_response_hours: None,
            sla_resolution_hours: None,
            output: None,
            is_default: false,
            active: true,
        }
    }
}

/// A company's configuration as the functions use it: the document's parts, with the time zone
/// and phone region parsed once when it was read (no code further on meets an unknown zone).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Tenant {
    pub config: CompanyConfig,
    pub categories: Vec<Category>,
    pub outputs: Vec<OutputConfig>,
    pub presets: Vec<Preset>,
    pub time_zone: TimeZone,
    pub region: Region,
    /// The booking setup, when the company books appointments.
    pub appointments: Option<Appointments>,
}

/// A stored tenant document that cannot be used (validation at apply time makes it rare).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TenantError {
    #[error("company.time_zone: {0}")]
    TimeZone(String),
    #[error("company.default_region: {0}")]
    Region(String),
    #[error("{0}")]
    Appointments(String),
}

impl Tenant {
    pub fn company_id(&self) -> &CompanyId {
        &self.config.company_id
    }

    /// The company's time zone.
    pub fn tz(&self) -> chrono_tz::Tz {
        self.time_zone.tz()
    }

    pub fn category(&self, slug: &str) -> Option<&Category> {
        self.categories.iter().find(|c| c.slug == slug)
    }
}

/// What a route maps to a company.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum RouteKey {
    /// A Retell `agent_id`.
    Agent(String),
    /// A phone number in E.164.
    Phone(String),
}

/// A tenant as operators write it (YAML or JSON): company settings, routes, categories, output
/// configurations and the company's own webhook presets, in one document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantSpec {
    pub company: CompanyConfig,
    #[serde(default)]
    pub routes: Routes,
    #[serde(default)]
    pub categories: Vec<Category>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outputs: Vec<OutputConfig>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub presets: Vec<Preset>,
    /// Branches, services, staff, calendars and booking policy (appointment and hybrid modes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appointments: Option<AppointmentsSpec>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Routes {
    /// Retell `agent_id`s answering for this company.
    pub agents: Vec<String>,
    /// The company's phone numbers in E.164.
    pub phones: Vec<String>,
}

impl TenantSpec {
    /// The tenant as the functions use it, its time zone and region parsed.
    pub fn tenant(&self) -> Result<Tenant, TenantError> {
        Ok(Tenant {
            config: self.company.clone(),
            categories: self.categories.clone(),
            outputs: self.outputs.clone(),
            presets: self.presets.clone(),
            time_zone: self.company.time_zone.parse().map_err(TenantError::TimeZone)?,
            region: self.company.default_region.parse().map_err(TenantError::Region)?,
            appointments: match &self.appointments {
                Some(spec) => Some(spec.build().map_err(|issues| {
                    let lines: Vec<String> = issues.iter().map(|i| format!("{}: {}", i.path, i.message)).collect();
                    TenantError::Appointments(lines.join("; "))
                })?),
                None => None,
            },
        })
    }

    pub fn route_keys(&self) -> Vec<RouteKey> {
        let agents = self.routes.agents.iter().cloned().map(RouteKey::Agent);
        agents
            .chain(self.routes.phones.iter().cloned().map(RouteKey::Phone))
            .collect()
    }
}
