//! Turning what Retell sent into a service case: the draft from `call_analyzed` or from the
//! live `finalize_ticket` function, the priority rules, and merging the second path into the
//! case the first one created.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value};
use ulid::Ulid;

use crate::capture::classify::choose_category;
use crate::capture::problem_since;
use crate::capture::retell::payload::{Call, value_text};
use crate::case::{
    Analysis, CallLink, Caller, CaptureSource, CaseSource, CaseStatus, CaseType, CategoryMatch, EnrichmentStatus,
    OutputStatus, PhoneSource, Priority, ProblemSince, ServiceCase, Utterance,
};
use crate::ids::{CallId, CaseId};
use crate::phone::{is_withheld, to_e164};
use crate::tenancy::tenant::Tenant;
use crate::text::{non_empty, normalize, truncate_chars};

const SUBJECT_CHARS: usize = 80;

/// Looks a value up under the first of several names (agents name their fields differently).
struct Fields<'a>(Vec<&'a Map<String, Value>>);

impl Fields<'_> {
    fn text(&self, names: &[&str]) -> Option<String> {
        names
            .iter()
            .find_map(|n| self.0.iter().find_map(|m| m.get(*n).and_then(value_text)))
    }

    fn value(&self, names: &[&str]) -> Option<&Value> {
        names.iter().find_map(|n| self.0.iter().find_map(|m| m.get(*n)))
    }
}

/// The caller-supplied facts every capture path provides, before classification.
#[derive(Debug, Default)]
struct Facts {
    subject: Option<String>,
    description: String,
    caller_name: Option<String>,
    caller_company: Option<String>,
    agent_phone: Option<String>,
    email: Option<String>,
    location: Option<String>,
    others_affected: Option<bool>,
    problem_since: Option<String>,
    flow_category: Option<String>,
    use_case_detail: Option<String>,
    urgency: Option<String>,
    escalation: bool,
}

/// Parses German/English yes-no answers ("ja", "nein", true, 1).
pub fn yes_no(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => n.as_f64().map(|x| x > 0.0),
        Value::String(s) => match normalize(s).as_str() {
            "ja" | "j" | "yes" | "y" | "true" | "1" | "jawohl" | "genau" => Some(true),
            "nein" | "n" | "no" | "false" | "0" | "nee" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// Priority rules: an explicit urgency or an escalation marker raise it, others affected means at
/// least high. Rules only raise the category/company default, never lower it.
pub fn priority_for(
    base: Priority,
    others_affected: Option<bool>,
    urgency: Option<&str>,
    escalation: bool,
) -> Priority {
    let mut p = base;
    if others_affected == Some(true) {
        p = p.max(Priority::High);
    }
    if let Some(u) = urgency {
        let u = normalize(u);
        let stated = if ["kritisch", "critical", "notfall", "sehr hoch", "emergency"]
            .iter()
            .any(|k| u.contains(k))
        {
            Priority::Critical
        } else if ["hoch", "high", "dringend", "urgent", "eilig"]
            .iter()
            .any(|k| u.contains(k))
        {
            Priority::High
        } else {
            Priority::Low
        };
        p = p.max(stated);
    }
    if escalation {
        p = Priority::Critical;
    }
    p
}

fn has_escalation_marker(detail: Option<&str>) -> bool {
    detail.is_some_and(|d| {
        let n = normalize(d);
        n.contains("escalation critical") || n.contains("eskalation") || n.contains("escalation kritisch")
    })
}

/// Draft of a case from the live `finalize_ticket` function's arguments.
pub fn from_finalize(
    tenant: &Tenant,
    call: &Call,
    call_id: &CallId,
    args: &Map<String, Value>,
    problem_description: &str,
    now: DateTime<Utc>,
) -> ServiceCase {
    let f = Fields(vec![args]);
    let use_case_detail = f.text(&["use_case_detail"]);
    let facts = Facts {
        subject: None,
        description: problem_description.to_string(),
        caller_name: f.text(&["customer_name"]),
        caller_company: f.text(&["customer_company"]),
        agent_phone: f.text(&["customer_phone"]),
        email: f.text(&["customer_email"]),
        location: f.text(&["customer_location"]),
        others_affected: f.value(&["others_affected"]).and_then(yes_no),
        problem_since: f.text(&["problem_since"]),
        flow_category: f.text(&["use_case_category"]),
        escalation: has_escalation_marker(use_case_detail.as_deref()),
        urgency: f.text(&["urgency"]),
        use_case_detail,
    };
    build(tenant, call, call_id, facts, CaptureSource::FinalizeTicket, now)
}

/// Draft of a callback case from the live `request_callback` function: the caller asked to be
/// called back (or the agent offered it because a booking or change was not possible).
pub fn from_callback(
    tenant: &Tenant,
    call: &Call,
    call_id: &CallId,
    args: &Map<String, Value>,
    now: DateTime<Utc>,
) -> ServiceCase {
    let f = Fields(vec![args]);
    let reason = f.text(&["reason", "grund", "anliegen", "problem_description"]);
    let service = f.text(&["service_name", "dienstleistung", "service"]);
    let mut description = reason
        .clone()
        .unwrap_or_else(|| "Der Anrufer bittet um Rückruf.".to_string());
    for (label, names) in [
        (
            "Gewünschte Leistung",
            &["service_name", "dienstleistung", "service"][..],
        ),
        (
            "Gewünschtes Zeitfenster für den Rückruf",
            &["preferred_time_window", "zeitfenster", "rueckrufzeit", "preferred_time"][..],
        ),
        ("Notizen", &["notes", "notizen", "anmerkung"][..]),
    ] {
        if let Some(value) = f.text(names) {
            description.push_str(&format!("\n{label}: {value}"));
        }
    }
    let topic = reason.or(service).unwrap_or_else(|| "ohne Angabe".to_string());
    let facts = Facts {
        subject: Some(truncate_chars(&format!("Rückrufbitte: {}", subject_line(&topic)), 255)),
        description,
        caller_name: f.text(&["customer_name", "name"]),
        agent_phone: f.text(&[
            "phone_number",
            "customer_phone",
            "callback_number",
            "telefon",
            "telefonnummer",
        ]),
        email: f.text(&["customer_email", "email"]),
        urgency: f.text(&["priority", "urgency", "dringlichkeit"]),
        ..Facts::default()
    };
    let mut case = build(tenant, call, call_id, facts, CaptureSource::RequestCallback, now);
    case.case_type = CaseType::Callback;
    case
}

/// Draft of a case from a `call_analyzed` webhook (summary, custom analysis data, transcript).
pub fn from_analysis(tenant: &Tenant, call: &Call, call_id: &CallId, now: DateTime<Utc>) -> ServiceCase {
    let empty = Map::new();
    let analysis = call.call_analysis.as_ref();
    let custom = analysis.and_then(|a| a.custom_analysis_data.as_ref()).unwrap_or(&empty);
    let collected = call.collected_dynamic_variables.as_ref().unwrap_or(&empty);
    let f = Fields(vec![custom, collected]);
    let summary = analysis.and_then(|a| non_empty(a.call_summary.as_deref()));
    let user_text = call.user_text();
    let description = f
        .text(&["problem_description", "description", "beschreibung", "problem"])
        .or_else(|| summary.clone())
        .or_else(|| non_empty(Some(&user_text)))
        .unwrap_or_else(|| "Anruf ohne Beschreibung".to_string());
    let affected_many = f
        .value(&["affected_users", "betroffene_nutzer"])
        .and_then(Value::as_f64)
        .map(|n| n > 1.0);
    let use_case_detail = f.text(&["use_case_detail"]);
    let facts = Facts {
        subject: f.text(&["subject", "betreff", "problem_summary"]),
        description,
        caller_name: f.text(&["customer_name", "caller_name"]),
        caller_company: f.text(&["customer_company", "caller_company"]),
        agent_phone: f.text(&["customer_phone", "callback_number", "callback_phone"]),
        email: f.text(&["customer_email", "caller_email", "email"]),
        location: f.text(&["customer_location", "location", "standort"]),
        others_affected: f.value(&["others_affected"]).and_then(yes_no).or(affected_many),
        problem_since: f.text(&["problem_since"]),
        flow_category: f.text(&["use_case_category", "problem_category", "category", "kategorie"]),
        escalation: has_escalation_marker(use_case_detail.as_deref())
            || f.value(&["escalation", "eskalation"]).and_then(yes_no) == Some(true),
        urgency: f.text(&["urgency", "priority", "dringlichkeit"]),
        use_case_detail,
    };
    let mut case = build(tenant, call, call_id, facts, CaptureSource::CallAnalyzed, now);
    case.analysis = Analysis {
        summary,
        sentiment: analysis.and_then(|a| a.user_sentiment.clone()),
        call_successful: analysis.and_then(|a| a.call_successful),
        custom_data: custom.clone(),
    };
    case.transcript = call
        .transcript_object
        .iter()
        .flatten()
        .map(|l| Utterance {
            role: l.role.clone(),
            content: l.content.clone(),
        })
        .collect();
    case
}

fn build(
    tenant: &Tenant,
    call: &Call,
    call_id: &CallId,
    facts: Facts,
    source: CaptureSource,
    now: DateTime<Utc>,
) -> ServiceCase {
    let cfg = &tenant.config;
    let caller_id = call.customer_number().filter(|n| !is_withheld(n)).map(str::to_string);
    let agent_phone = facts.agent_phone.as_deref().and_then(|p| to_e164(p, tenant.region));
    let (phone, phone_source) = match (agent_phone, &caller_id) {
        (Some(p), _) => (Some(p), Some(PhoneSource::Agent)),
        (None, Some(id)) => (Some(id.clone()), Some(PhoneSource::CallRecord)),
        (None, None) => (None, None),
    };
    let problem_since = facts.problem_since.map(|original| ProblemSince {
        absolute: problem_since::resolve(&original, now, tenant.tz()),
        original,
    });
    let text = [
        facts.subject.as_deref(),
        Some(facts.description.as_str()),
        facts.use_case_detail.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join("\n");
    let choice = choose_category(tenant, facts.flow_category.as_deref(), &text);
    let category = choice.as_ref().and_then(|c| tenant.category(&c.slug));
    let base_priority = category
        .and_then(|c| c.default_priority)
        .unwrap_or(cfg.default_priority);
    let priority = priority_for(
        base_priority,
        facts.others_affected,
        facts.urgency.as_deref(),
        facts.escalation,
    );
    let subject = facts.subject.unwrap_or_else(|| subject_line(&facts.description));
    let mut case = ServiceCase {
        company_id: cfg.company_id.clone(),
        case_id: CaseId::new(Ulid::from_datetime(now.into()).to_string()),
        call_id: call_id.clone(),
        ticket_ref: None,
        case_type: category
            .and_then(|c| c.default_case_type)
            .unwrap_or(cfg.default_case_type),
        priority,
        urgency: priority,
        impact: priority,
        status: CaseStatus::New,
        output_status: OutputStatus::Pending,
        enrichment_status: EnrichmentStatus::Pending,
        source: CaseSource::Voice,
        subject: truncate_chars(&subject, 255),
        description: facts.description,
        caller: Caller {
            name: facts.caller_name,
            company: facts.caller_company,
            phone,
            phone_source,
            caller_id,
            email: facts.email.map(|e| e.to_lowercase()),
            location: facts.location,
            others_affected: facts.others_affected,
            problem_since,
        },
        category: choice.as_ref().map(|c| c.slug.clone()),
        category_match: choice.map(|c| c.how),
        use_case_category: facts.flow_category,
        use_case_detail: facts.use_case_detail,
        analysis: Analysis::default(),
        transcript: Vec::new(),
        call: call_link(call, call_id),
        sla_response_due_at: None,
        sla_resolution_due_at: None,
        captured_by: vec![source],
        created_at: now,
        updated_at: now,
        enqueued_at: None,
        handoff_lease_until: 0,
        enrichment: Default::default(),
        delivery: Default::default(),
        alerts: Default::default(),
        external_reference: None,
        output_sent_at: None,
        output_error: None,
        delivery_enqueued_at: None,
        version: 0,
    };
    apply_sla(tenant, &mut case);
    case
}

/// A subject from a description: its first sentence, cut at a word boundary with "…" if long.
pub fn subject_line(description: &str) -> String {
    let first_line = description
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or_default();
    let sentence = first_line
        .match_indices(['.', '!', '?'])
        .map(|(i, _)| i)
        .find(|&i| first_line[i + 1..].starts_with(' ') && i > 10 && !is_abbreviation(&first_line[..i]))
        .map_or(first_line, |i| &first_line[..i]);
    if sentence.chars().count() <= SUBJECT_CHARS {
        return sentence.to_string();
    }
    let cut = truncate_chars(sentence, SUBJECT_CHARS - 1);
    let at_word = cut
        .rfind(' ')
        .filter(|&i| i > SUBJECT_CHARS / 2)
        .map_or(cut.as_str(), |i| &cut[..i]);
    format!("{}…", at_word.trim_end_matches([',', ';', ':', ' ']))
}

/// "2." in "im 2. OG", "Nr." or "z.B.": a short word before the dot is not a sentence end.
fn is_abbreviation(before_dot: &str) -> bool {
    let word = before_dot.rsplit(' ').next().unwrap_or_default();
    word.chars().count() <= 3 || word.chars().all(|c| c.is_ascii_digit())
}

fn call_link(call: &Call, call_id: &CallId) -> CallLink {
    CallLink {
        call_id: call_id.clone(),
        agent_id: call.agent_id.clone(),
        agent_name: call.agent_name.clone(),
        direction: call.direction.clone(),
        from_number: call.from_number.clone(),
        to_number: call.to_number.clone(),
        start_timestamp: call.start_timestamp,
        end_timestamp: call.end_timestamp,
        duration_ms: call.duration_ms,
        disconnection_reason: call.disconnection_reason.clone(),
    }
}

/// SLA due dates from the category's hours, counted from creation (when the company tracks SLAs).
fn apply_sla(tenant: &Tenant, case: &mut ServiceCase) {
    let category = case.category.as_deref().and_then(|slug| tenant.category(slug));
    let due = |hours: Option<u32>| {
        hours
            .filter(|_| tenant.config.sla_tracking_enabled)
            .map(|h| case.created_at + Duration::hours(i64::from(h)))
    };
    case.sla_response_due_at = due(category.and_then(|c| c.sla_response_hours));
    case.sla_resolution_due_at = due(category.and_then(|c| c.sla_resolution_hours));
}

/// Merges a second capture of the same call into the stored case. `None` when `incoming`'s path
/// already contributed (a retry: nothing to change).
pub fn merge(
    tenant: &Tenant,
    existing: &ServiceCase,
    incoming: &ServiceCase,
    now: DateTime<Utc>,
) -> Option<ServiceCase> {
    let source = *incoming.captured_by.first()?;
    if existing.captured_by.contains(&source) {
        return None;
    }
    let mut merged = existing.clone();
    match source {
        // The agent's explicit ticket data is authoritative for content and caller.
        CaptureSource::FinalizeTicket => {
            merged.subject.clone_from(&incoming.subject);
            merged.description.clone_from(&incoming.description);
            merged.use_case_category = incoming.use_case_category.clone().or(merged.use_case_category);
            merged.use_case_detail = incoming.use_case_detail.clone().or(merged.use_case_detail);
            let mut caller = incoming.caller.clone();
            caller.fill_from(&existing.caller);
            merged.caller = caller;
            if incoming.category.is_some() && incoming.category_match != Some(CategoryMatch::CompanyDefault) {
                merged.category.clone_from(&incoming.category);
                merged.category_match = incoming.category_match;
            }
        }
        // The callback wish is added to whatever the call already became; a case only the
        // analysis made so far becomes the callback case.
        CaptureSource::RequestCallback => {
            if existing.captured_by.iter().all(|s| *s == CaptureSource::CallAnalyzed) {
                merged.subject.clone_from(&incoming.subject);
                merged.case_type = CaseType::Callback;
            }
            merged.description = format!("{}\n\n{}", existing.description, incoming.description);
            let mut caller = incoming.caller.clone();
            caller.fill_from(&existing.caller);
            merged.caller = caller;
        }
        // The analysis adds what only exists after the call.
        CaptureSource::CallAnalyzed => {
            merged.analysis = incoming.analysis.clone();
            if !incoming.transcript.is_empty() {
                merged.transcript.clone_from(&incoming.transcript);
            }
            merged.caller.fill_from(&incoming.caller);
            merged.call = CallLink {
                call_id: merged.call.call_id.clone(),
                ..incoming.call.clone()
            };
            if merged.category.is_none() || merged.category_match == Some(CategoryMatch::CompanyDefault) {
                merged.category = incoming.category.clone().or(merged.category);
                merged.category_match = incoming.category_match.or(merged.category_match);
            }
        }
    }
    merged.priority = existing.priority.max(incoming.priority);
    merged.urgency = existing.urgency.max(incoming.urgency);
    merged.impact = existing.impact.max(incoming.impact);
    merged.captured_by.push(source);
    merged.updated_at = now;
    apply_sla(tenant, &mut merged);
    Some(merged)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::CaseType;
    use crate::tenancy::tenant::{Category, CompanyConfig, GatewayMode, Keyword};
    use chrono::TimeZone;
    use serde_json::json;

    fn tenant() -> Tenant {
        Tenant {
            config: CompanyConfig {
                company_id: "nordit".into(),
                mode: GatewayMode::ServiceDesk,
                ..Default::default()
            },
            categories: vec![
                Category {
                    slug: "print".into(),
                    name: "Drucker".into(),
                    keywords: vec![Keyword::new("drucker", 1.0)],
                    sla_response_hours: Some(4),
                    sla_resolution_hours: Some(24),
                    default_case_type: Some(CaseType::Incident),
                    ..Default::default()
                },
                Category {
                    slug: "network".into(),
                    name: "Netzwerk".into(),
                    keywords: vec![Keyword::new("wlan", 1.0)],
                    ..Default::default()
                },
            ],
            ..Default::default()
        }
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 18, 13, 0, 0).unwrap()
    }

    fn call() -> Call {
        Call {
            call_id: Some("call_1".into()),
            agent_id: Some("agent_1".into()),
            direction: Some("inbound".into()),
            from_number: Some("+4951187654321".into()),
            to_number: Some("+4951112345670".into()),
            ..Default::default()
        }
    }

    #[test]
    fn finalize_builds_a_complete_case() {
        let args = json!({
            "customer_name": "Jonas Weber", "customer_company": "Brandt Elektrotechnik GmbH",
            "customer_phone": "0511 2233445", "customer_email": "J.Weber@Brandt.example",
            "customer_location": "2. OG", "others_affected": "ja", "problem_since": "seit heute früh",
            "use_case_category": "other"
        });
        let c = from_finalize(
            &tenant(),
            &call(),
            &CallId::new("call_1"),
            args.as_object().unwrap(),
            "Der Etagendrucker druckt nicht, Fehler C6000",
            now(),
        );
        assert_eq!(c.category.as_deref(), Some("print"));
        assert_eq!(c.priority, Priority::High, "others affected → high");
        assert_eq!((c.urgency, c.impact), (Priority::High, Priority::High));
        assert_eq!(c.caller.phone.as_deref(), Some("+495112233445"));
        assert_eq!(c.caller.phone_source, Some(PhoneSource::Agent));
        assert_eq!(c.caller.caller_id.as_deref(), Some("+4951187654321"));
        assert_eq!(c.caller.email.as_deref(), Some("j.weber@brandt.example"));
        assert!(c.caller.problem_since.as_ref().unwrap().absolute.is_some());
        assert_eq!(c.subject, "Der Etagendrucker druckt nicht, Fehler C6000");
        assert_eq!(c.sla_response_due_at, Some(now() + Duration::hours(4)));
        assert_eq!(c.captured_by, vec![CaptureSource::FinalizeTicket]);
    }

    #[test]
    fn phone_falls_back_to_caller_id_and_anonymous_is_blank() {
        let args = json!({"customer_phone": "weiß ich nicht"});
        let c = from_finalize(
            &tenant(),
            &call(),
            &CallId::new("call_1"),
            args.as_object().unwrap(),
            "WLAN weg",
            now(),
        );
        assert_eq!(c.caller.phone.as_deref(), Some("+4951187654321"));
        assert_eq!(c.caller.phone_source, Some(PhoneSource::CallRecord));
        assert_eq!(c.priority, Priority::Normal);
        let mut anon = call();
        anon.from_number = Some("anonymous".into());
        let c = from_finalize(&tenant(), &anon, &CallId::new("call_1"), &Map::new(), "WLAN weg", now());
        assert_eq!((c.caller.phone.as_deref(), c.caller.caller_id.as_deref()), (None, None));
    }

    #[test]
    fn subjects_are_a_first_sentence_cut_at_a_word() {
        assert_eq!(subject_line("Drucker kaputt. Bitte schnell kommen."), "Drucker kaputt");
        assert_eq!(
            subject_line("Der Drucker im 2. OG ist kaputt. Bitte schnell."),
            "Der Drucker im 2. OG ist kaputt"
        );
        let long = "Jonas Weber (Brandt Elektrotechnik GmbH) meldete, dass der Etagendrucker Kyocera TASKalfa 3554ci ausgefallen ist";
        let s = subject_line(long);
        assert!(s.ends_with('…') && s.chars().count() <= 80, "{s}");
        assert!(
            s.starts_with("Jonas Weber (Brandt Elektrotechnik GmbH) meldete, dass der Etagendrucker"),
            "{s}"
        );
        assert_eq!(subject_line("\n  \nWLAN weg\nmehr"), "WLAN weg");
    }

    #[test]
    fn escalation_marker_is_critical() {
        let args = json!({"use_case_detail": "Server down; escalation=critical"});
        let c = from_finalize(
            &tenant(),
            &call(),
            &CallId::new("call_1"),
            args.as_object().unwrap(),
            "Server steht",
            now(),
        );
        assert_eq!(c.priority, Priority::Critical);
        assert_eq!(
            priority_for(Priority::Normal, None, Some("hoch"), false),
            Priority::High
        );
        assert_eq!(
            priority_for(Priority::High, None, Some("niedrig"), false),
            Priority::High,
            "rules never lower"
        );
    }

    #[test]
    fn merge_keeps_both_paths() {
        let args = json!({"customer_name": "Jonas Weber"});
        let first = from_finalize(
            &tenant(),
            &call(),
            &CallId::new("call_1"),
            args.as_object().unwrap(),
            "Drucker kaputt",
            now(),
        );
        let mut analyzed_call = call();
        analyzed_call.duration_ms = Some(66_840);
        analyzed_call.call_analysis = Some(crate::capture::retell::payload::CallAnalysis {
            call_summary: Some("Der Drucker im 2. OG ist ausgefallen.".into()),
            user_sentiment: Some("Neutral".into()),
            custom_analysis_data: json!({"urgency": "hoch", "customer_email": "jw@example.com"})
                .as_object()
                .cloned(),
            ..Default::default()
        });
        let second = from_analysis(&tenant(), &analyzed_call, &CallId::new("call_1"), now());
        let merged = merge(&tenant(), &first, &second, now()).unwrap();
        assert_eq!(merged.case_id, first.case_id);
        assert_eq!(merged.description, "Drucker kaputt");
        assert_eq!(merged.caller.name.as_deref(), Some("Jonas Weber"));
        assert_eq!(merged.caller.email.as_deref(), Some("jw@example.com"));
        assert_eq!(
            merged.analysis.summary.as_deref(),
            Some("Der Drucker im 2. OG ist ausgefallen.")
        );
        assert_eq!(merged.call.duration_ms, Some(66_840));
        assert_eq!(merged.priority, Priority::High);
        assert_eq!(
            merged.captured_by,
            vec![CaptureSource::FinalizeTicket, CaptureSource::CallAnalyzed]
        );
        assert_eq!(
            merge(&tenant(), &merged, &second, now()),
            None,
            "a retry changes nothing"
        );
    }
}
