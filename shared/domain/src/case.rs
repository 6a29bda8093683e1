//! The service case: what one call that should become a ticket turns into.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::StoreError;
use crate::ids::{CallId, CaseId, CompanyId, TicketRef};

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? } default $default:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $(
                #[serde(rename = $text)]
                $variant,
            )+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            #[allow(unused_variables)]
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl Default for $name {
            fn default() -> Self { $name::$default }
        }
    };
}

string_enum!(
    /// ITIL-style case type (`problem` in older configs means `inquiry`).
    CaseType { Incident => "incident", Request => "request", Inquiry => "inquiry", Callback => "callback" } default Incident
);
string_enum!(
    /// Priority, urgency and impact share this scale.
    Priority { Critical => "critical", High => "high", Normal => "normal", Low => "low" } default Normal
);
string_enum!(
    CaseStatus { New => "new", Open => "open", Pending => "pending", Resolved => "resolved", Closed => "closed" } default New
);
string_enum!(
    OutputStatus { Pending => "pending", Sent => "sent", Failed => "failed" } default Pending
);
string_enum!(
    EnrichmentStatus {
        Pending => "pending", Enriching => "enriching", Enriched => "enriched",
        Timeout => "timeout", Failed => "failed", Skipped => "skipped"
    } default Pending
);
string_enum!(
    CaseSource {
        Voice => "voice", Email => "email", Web => "web", Api => "api", Manual => "manual",
        Chat => "chat", Callback => "callback", WalkIn => "walk-in"
    } default Voice
);
string_enum!(
    /// Where the caller's phone number came from.
    PhoneSource { Agent => "agent", CallRecord => "call_record" } default CallRecord
);
string_enum!(
    /// Which Retell path contributed to the case.
    CaptureSource {
        FinalizeTicket => "finalize_ticket", CallAnalyzed => "call_analyzed", RequestCallback => "request_callback"
    } default CallAnalyzed
);
string_enum!(
    /// How the category was chosen.
    CategoryMatch { FlowSlug => "flow_slug", Keywords => "keywords", CompanyDefault => "company_default" } default Keywords
);

impl Priority {
    /// Rank for "raise only": a higher number is more urgent.
    pub fn rank(self) -> u8 {
        match self {
            Priority::Low => 0,
            Priority::Normal => 1,
            Priority::High => 2,
            Priority::Critical => 3,
        }
    }

    pub fn max(self, other: Priority) -> Priority {
        if other.rank() > self.rank() { other } else { self }
    }
}

/// "Problem since": the caller's words and the absolute time they resolve to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProblemSince {
    pub original: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub absolute: Option<DateTime<Utc>>,
}

/// Everything known about the person who called.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Caller {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    /// Callback number, E.164 where it could be normalised.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_source: Option<PhoneSource>,
    /// The caller id the call came from; `None` when anonymous or withheld.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caller_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub others_affected: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem_since: Option<ProblemSince>,
}

impl Caller {
    /// Fills what `self` lacks from `other`; values already present win.
    pub fn fill_from(&mut self, other: &Caller) {
        fn fill<T: Clone>(a: &mut Option<T>, b: &Option<T>) {
            if a.is_none() {
                a.clone_from(b);
            }
        }
        fill(&mut self.name, &other.name);
        fill(&mut self.company, &other.company);
        if self.phone.is_none() {
            self.phone.clone_from(&other.phone);
            self.phone_source = other.phone_source;
        }
        fill(&mut self.caller_id, &other.caller_id);
        fill(&mut self.email, &other.email);
        fill(&mut self.location, &other.location);
        fill(&mut self.others_affected, &other.others_affected);
        fill(&mut self.problem_since, &other.problem_since);
    }
}

/// The call the case came from (no recording URLs: those never live on the case).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CallLink {
    pub call_id: CallId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direction: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_number: Option<String>,
    /// The company's number that was called.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_timestamp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_timestamp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disconnection_reason: Option<String>,
}

/// What the post-call analysis contributed.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Analysis {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sentiment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call_successful: Option<bool>,
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub custom_data: Map<String, Value>,
}

string_enum!(
    /// How the caller was recognised.
    MatchKind { AgentPhone => "agent_phone", CallerId => "caller_id", Email => "email", Name => "name", Created => "created" } default CallerId
);

/// The customer a case was linked to, how, and how sure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerMatch {
    pub customer_id: String,
    pub kind: MatchKind,
    pub confidence: f64,
}

/// Results of enrichment (the Retell recording URL is never among them).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Enrichment {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer: Option<CustomerMatch>,
    /// Private object key of the stored recording.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audio_object_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audio_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recording_note: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transcript_segment_count: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transcript_char_count: Option<u64>,
    /// Why enrichment ended `failed` or `timeout`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
}

string_enum!(
    /// A delivery channel.
    Channel { Email => "email", Webhook => "webhook" } default Webhook
);

/// One channel's delivery state.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ChannelState {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<DateTime<Utc>>,
    /// The target's ticket id (webhook) or the first message id (e-mail).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Recipients the e-mail went to.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub recipients: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Delivery {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<ChannelState>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook: Option<ChannelState>,
}

impl Delivery {
    pub fn sent(&self, channel: Channel) -> bool {
        let state = match channel {
            Channel::Email => &self.email,
            Channel::Webhook => &self.webhook,
        };
        state.as_ref().is_some_and(|s| s.sent_at.is_some())
    }
}

/// Which final-failure alerts went out for a case.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Alerts {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slack_at: Option<DateTime<Utc>>,
}

/// One transcript line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Utterance {
    pub role: String,
    pub content: String,
}

/// A service case. Stored once per call (the call id is part of its key).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceCase {
    pub company_id: CompanyId,
    /// Internal id (ULID), never shown to partners.
    pub case_id: CaseId,
    pub call_id: CallId,
    /// `TKT-YYYY-NNNNN`; set once the case has been handed to enrichment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_ref: Option<TicketRef>,
    pub case_type: CaseType,
    pub priority: Priority,
    pub urgency: Priority,
    pub impact: Priority,
    pub status: CaseStatus,
    pub output_status: OutputStatus,
    pub enrichment_status: EnrichmentStatus,
    pub source: CaseSource,
    pub subject: String,
    pub description: String,
    #[serde(default)]
    pub caller: Caller,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category_match: Option<CategoryMatch>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_case_category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_case_detail: Option<String>,
    #[serde(default)]
    pub analysis: Analysis,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transcript: Vec<Utterance>,
    #[serde(default)]
    pub call: CallLink,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla_response_due_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla_resolution_due_at: Option<DateTime<Utc>>,
    /// The Retell paths that contributed, in arrival order.
    #[serde(default)]
    pub captured_by: Vec<CaptureSource>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When the enrich message went out; `None` while the hand-off is outstanding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enqueued_at: Option<DateTime<Utc>>,
    /// Until when (epoch ms) one request owns the hand-off (ticket number + enqueue).
    #[serde(default)]
    pub handoff_lease_until: i64,
    /// What enrichment found; written only by the enrich function.
    #[serde(default)]
    pub enrichment: Enrichment,
    /// Per-channel delivery state: a channel that succeeded is never sent again.
    #[serde(default)]
    pub delivery: Delivery,
    /// The ticket id the target system returned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_sent_at: Option<DateTime<Utc>>,
    /// The last delivery error (kept while retrying; the case only turns `failed` at the end).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_error: Option<String>,
    /// Final-failure alerts already sent (each channel once).
    #[serde(default)]
    pub alerts: Alerts,
    /// When the case was handed to delivery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_enqueued_at: Option<DateTime<Utc>>,
    /// Optimistic-concurrency version of the content fields.
    #[serde(default)]
    pub version: u64,
}

impl ServiceCase {
    pub fn is_handed_off(&self) -> bool {
        self.enqueued_at.is_some() && self.ticket_ref.is_some()
    }
}

/// Reads one case (every context that acts on a stored case starts here).
#[async_trait::async_trait]
pub trait CaseReader: Send + Sync {
    async fn get_case(&self, company_id: &CompanyId, call_id: &CallId) -> Result<Option<ServiceCase>, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_serialise_as_the_original_values() {
        assert_eq!(serde_json::to_string(&CaseSource::WalkIn).unwrap(), "\"walk-in\"");
        assert_eq!(
            serde_json::to_string(&PhoneSource::CallRecord).unwrap(),
            "\"call_record\""
        );
        assert_eq!(Priority::Normal.max(Priority::Critical), Priority::Critical);
        assert_eq!(Priority::High.max(Priority::Low), Priority::High);
    }

    #[test]
    fn caller_fill_keeps_present_values() {
        let mut a = Caller {
            name: Some("Jonas".into()),
            ..Default::default()
        };
        let b = Caller {
            name: Some("Other".into()),
            phone: Some("+4951187654321".into()),
            phone_source: Some(PhoneSource::Agent),
            ..Default::default()
        };
        a.fill_from(&b);
        assert_eq!(a.name.as_deref(), Some("Jonas"));
        assert_eq!(a.phone.as_deref(), Some("+4951187654321"));
        assert_eq!(a.phone_source, Some(PhoneSource::Agent));
    }
}
