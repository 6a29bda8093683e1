//! Webhook payload templates (tera). Every inserted value is JSON-escaped automatically, and a
//! rendered payload must parse as JSON before it may be sent: no quote, newline, umlaut or emoji
//! in a caller's words can break it. Arrays and objects go in with `| json_encode() | safe`.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use tera::{Context, Tera};

use crate::case::{Analysis, CallLink, Caller, CaptureSource, CaseSource, CaseStatus, CaseType, EnrichmentStatus};
use crate::case::{OutputStatus, Priority, ProblemSince, ServiceCase, Utterance};

const NAME: &str = "payload.json";

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("template does not compile: {0}")]
    Compile(String),
    #[error("template does not render: {0}")]
    Render(String),
    #[error("rendered payload is not valid JSON: {0}")]
    InvalidJson(String),
}

/// Links a payload may carry besides the case itself.
#[derive(Debug, Clone, Default)]
pub struct RenderExtras {
    /// Values a preset reads as `params.*`.
    pub params: std::collections::BTreeMap<String, String>,
    pub audio_url: Option<String>,
    pub audio_url_expires_at: Option<DateTime<Utc>>,
    pub case_url: Option<String>,
    pub include_transcript: bool,
    pub now: Option<DateTime<Utc>>,
}

/// The JSON string escape without the surrounding quotes.
pub fn json_escape(input: &str) -> String {
    let quoted = serde_json::to_string(input).unwrap_or_default();
    quoted[1..quoted.len().saturating_sub(1)].to_string()
}

fn describe(err: &tera::Error) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// A compiled payload template.
pub struct PayloadTemplate {
    tera: Tera,
}

/// Tags a payload never needs and that let a template recurse until the process dies
/// (`{% include %}` of itself, a macro calling itself).
const FORBIDDEN_TAGS: &[&str] = &["include", "import", "extends", "macro"];

/// Longest list `range` makes in a template (tera's own loops forever on `step_by=0`).
const MAX_RANGE: usize = 1000;

fn forbid_tags(source: &str) -> Result<(), TemplateError> {
    for (i, _) in source.match_indices("{%") {
        let tag = source[i + 2..].trim_start_matches(['-', ' ', '\t', '\n', '\r']);
        if let Some(word) = FORBIDDEN_TAGS.iter().find(|w| tag.starts_with(**w)) {
            return Err(TemplateError::Compile(format!(
                "`{{% {word} %}}` is not available in payload templates"
            )));
        }
    }
    Ok(())
}

/// `range(end=…, start=0, step_by=1)`, bounded.
fn safe_range(args: &std::collections::HashMap<String, Value>) -> tera::Result<Value> {
    let number = |name: &str, default: Option<i64>| match args.get(name).and_then(Value::as_i64).or(default) {
        Some(n) => Ok(n),
        None => Err(tera::Error::msg(format!("range needs an integer `{name}`"))),
    };
    let (start, end, step) = (
        number("start", Some(0))?,
        number("end", None)?,
        number("step_by", Some(1))?,
    );
    if step <= 0 {
        return Err(tera::Error::msg("range's step_by must be positive"));
    }
    let count = if end > start {
        ((end - start) as u64).div_ceil(step as u64)
    } else {
        0
    };
    if count > MAX_RANGE as u64 {
        return Err(tera::Error::msg(format!("range is limited to {MAX_RANGE} items")));
    }
    Ok(Value::from(
        (0..count as i64).map(|i| start + i * step).collect::<Vec<_>>(),
    ))
}

/// Runs a step of the template engine; a panic inside it (some filters panic on odd input) is a
/// template error, not a crashed function.
fn contained<T>(step: impl FnOnce() -> Result<T, TemplateError>, what: &str) -> Result<T, TemplateError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(step)).unwrap_or_else(|_| {
        Err(TemplateError::Render(format!(
            "the template engine failed while {what}"
        )))
    })
}

impl PayloadTemplate {
    pub fn compile(source: &str) -> Result<Self, TemplateError> {
        forbid_tags(source)?;
        contained(
            || {
                let mut tera = Tera::default();
                tera.autoescape_on(vec![".json"]);
                tera.set_escape_fn(json_escape);
                // A template must not read the function's environment (credentials live there).
                tera.register_function("get_env", |_: &std::collections::HashMap<String, Value>| {
                    Err(tera::Error::msg("get_env is not available in payload templates"))
                });
                tera.register_function("range", safe_range);
                tera.add_raw_template(NAME, source)
                    .map_err(|e| TemplateError::Compile(describe(&e)))?;
                Ok(Self { tera })
            },
            "compiling",
        )
    }

    /// Renders and checks that the result is JSON.
    pub fn render(&self, context: &Value) -> Result<String, TemplateError> {
        let ctx = Context::from_value(context.clone()).map_err(|e| TemplateError::Render(describe(&e)))?;
        let out = contained(
            || {
                self.tera
                    .render(NAME, &ctx)
                    .map_err(|e| TemplateError::Render(describe(&e)))
            },
            "rendering",
        )?;
        serde_json::from_str::<Value>(&out).map_err(|e| TemplateError::InvalidJson(e.to_string()))?;
        Ok(out)
    }
}

/// The variables a template sees (names follow the original system's presets).
pub fn render_context(case: &ServiceCase, extras: &RenderExtras) -> Value {
    let caller = &case.caller;
    let transcript = if extras.include_transcript {
        json!({
            "format": "segments",
            "segments": case.transcript.iter().map(|u| json!({"role": u.role, "content": u.content})).collect::<Vec<_>>(),
            "segment_count": case.transcript.len(),
        })
    } else {
        Value::Null
    };
    json!({
        "ticket": {"reference": case.ticket_ref.clone().unwrap_or_default()},
        "case": {
            "subject": case.subject,
            "description": case.description,
            "case_type": case.case_type.as_str(),
            "priority": case.priority.as_str(),
            "urgency": case.urgency.as_str(),
            "impact": case.impact.as_str(),
            "status": case.status.as_str(),
            "category": case.category.clone().unwrap_or_default(),
            "source": case.source.as_str(),
            "contact_type": contact_type(case.source),
            "created_at": case.created_at.to_rfc3339(),
            "updated_at": case.updated_at.to_rfc3339(),
            "sla_response_due_at": case.sla_response_due_at.map(|t| t.to_rfc3339()),
            "sla_resolution_due_at": case.sla_resolution_due_at.map(|t| t.to_rfc3339()),
        },
        "customer": {
            "name": caller.name.clone().unwrap_or_default(),
            "company": caller.company.clone().unwrap_or_default(),
            "phone": caller.phone.clone().unwrap_or_default(),
            "email": caller.email.clone().unwrap_or_default(),
            "location": caller.location.clone().unwrap_or_default(),
        },
        "call": {
            "call_id": case.call_id,
            "caller_id": caller.caller_id.clone().unwrap_or_default(),
            "called_phone": case.call.to_number.clone().unwrap_or_default(),
            "duration_seconds": case.call.duration_ms.map(|ms| ms / 1000),
        },
        "context": {
            "problem_since": caller.problem_since.as_ref().map(|p| p.original.clone()).unwrap_or_default(),
            "problem_since_absolute": caller.problem_since.as_ref().and_then(|p| p.absolute).map(|t| t.to_rfc3339()),
            "others_affected": caller.others_affected.unwrap_or(false),
            "use_case_detail": case.use_case_detail.clone().unwrap_or_default(),
        },
        "summary": case.analysis.summary.clone().unwrap_or_default(),
        "enrichment": {
            "status": case.enrichment_status.as_str(),
            "audio_available": extras.audio_url.is_some(),
            "audio_url": extras.audio_url.clone().unwrap_or_default(),
            "audio_url_expires_at": extras.audio_url_expires_at.map(|t| t.to_rfc3339()),
            "transcript_available": !case.transcript.is_empty(),
        },
        "links": {"case_url": extras.case_url.clone().unwrap_or_default()},
        "params": extras.params,
        "prio": priority_values(case.priority),
        "transcript": transcript,
        "timestamp": extras.now.unwrap_or(case.updated_at).to_rfc3339(),
        "source": "service_gateway",
    })
}

/// One priority in each ticket system's terms.
fn priority_values(p: Priority) -> Value {
    let (jira, zendesk, servicenow, otrs, freshdesk, zammad, redmine) = match p {
        Priority::Critical => ("Highest", "urgent", "1", "5 very high", 4, 3, 5),
        Priority::High => ("High", "high", "1", "4 high", 3, 3, 4),
        Priority::Normal => ("Medium", "normal", "2", "3 normal", 2, 2, 2),
        Priority::Low => ("Low", "low", "3", "2 low", 1, 1, 1),
    };
    let impact = if p == Priority::Critical { "1" } else { "2" };
    json!({
        "jira": jira, "zendesk": zendesk, "servicenow": servicenow, "servicenow_impact": impact,
        "otrs": otrs, "freshdesk": freshdesk, "zammad": zammad, "redmine": redmine,
    })
}

/// ServiceNow's `contact_type` for a case source (the original's mapping).
pub fn contact_type(source: CaseSource) -> &'static str {
    match source {
        CaseSource::Voice | CaseSource::Callback => "phone",
        CaseSource::Email => "email",
        CaseSource::Web | CaseSource::Api => "self-service",
        CaseSource::Manual | CaseSource::WalkIn => "walk-in",
        CaseSource::Chat => "virtual_agent",
    }
}

/// A deliberately nasty case (quotes, backslashes, newlines, umlauts, emoji) to prove a template
/// before it is saved.
pub fn sample_case() -> ServiceCase {
    let at = DateTime::parse_from_rfc3339("2026-11-18T13:05:00Z")
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default();
    ServiceCase {
        company_id: "sample".into(),
        case_id: "01JSAMPLE0000000000000000".into(),
        call_id: "call_sample".into(),
        ticket_ref: Some("TKT-2026-00042".into()),
        case_type: CaseType::Incident,
        priority: Priority::High,
        urgency: Priority::High,
        impact: Priority::High,
        status: CaseStatus::New,
        output_status: OutputStatus::Pending,
        enrichment_status: EnrichmentStatus::Enriched,
        source: CaseSource::Voice,
        subject: "Drucker \"Kyocera\" zeigt C6000 – 🖨️ kaputt".into(),
        description: "Zeile 1: \"Zitat\" mit \\Backslash\\\nZeile 2:\tTab, Umlaute äöüß, Emoji 😀\r\n</script>{{ }}"
            .into(),
        caller: Caller {
            name: Some("Jürgen O'Brien-Müller".into()),
            company: Some("Brandt & Söhne \"GmbH\"".into()),
            phone: Some("+4951187654321".into()),
            phone_source: None,
            caller_id: Some("+4951187654321".into()),
            email: Some("j.mueller@brandt.example".into()),
            location: Some("2. OG, Raum \"Nord\"".into()),
            others_affected: Some(true),
            problem_since: Some(ProblemSince {
                original: "seit heute früh".into(),
                absolute: Some(at),
            }),
        },
        category: Some("print".into()),
        category_match: None,
        use_case_category: Some("print".into()),
        use_case_detail: Some("escalation=none; \"detail\"".into()),
        analysis: Analysis {
            summary: Some("Zusammenfassung mit \"Anführungszeichen\"\nund Zeilenumbruch".into()),
            ..Default::default()
        },
        transcript: vec![
            Utterance {
                role: "agent".into(),
                content: "Wie kann ich helfen?".into(),
            },
            Utterance {
                role: "user".into(),
                content: "Der Drucker sagt \"Fehler\" 😡\nSchnell bitte!".into(),
            },
        ],
        call: CallLink {
            call_id: "call_sample".into(),
            to_number: Some("+4951112345670".into()),
            duration_ms: Some(66_840),
            ..Default::default()
        },
        sla_response_due_at: None,
        sla_resolution_due_at: None,
        captured_by: vec![CaptureSource::FinalizeTicket],
        created_at: at,
        updated_at: at,
        enqueued_at: Some(at),
        handoff_lease_until: 0,
        enrichment: Default::default(),
        delivery: Default::default(),
        alerts: Default::default(),
        external_reference: None,
        output_sent_at: None,
        output_error: None,
        delivery_enqueued_at: None,
        version: 0,
    }
}

/// Compiles `source` and renders the nasty sample case with it: what `apply` checks.
pub fn check_template(source: &str) -> Result<(), TemplateError> {
    check_template_with(source, &std::collections::BTreeMap::new())
}

/// The same with an output's `params` (a preset may turn them into numbers or keys).
pub fn check_template_with(
    source: &str,
    params: &std::collections::BTreeMap<String, String>,
) -> Result<(), TemplateError> {
    let template = PayloadTemplate::compile(source)?;
    let extras = RenderExtras {
        params: params.clone(),
        audio_url: Some("https://gateway.example/audio/TKT-2026-00042?sig=abc".into()),
        include_transcript: true,
        ..Default::default()
    };
    template.render(&render_context(&sample_case(), &extras)).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_json_escaped_so_nasty_input_stays_valid_json() {
        let source = r#"{"title": "{{ case.subject }}", "body": "{{ case.description }}\n{{ customer.name }}",
            "company": "{{ customer.company }}", "segments": {{ transcript.segments | json_encode() | safe }},
            "affected": {{ context.others_affected }}}"#;
        let t = PayloadTemplate::compile(source).unwrap();
        let ctx = render_context(
            &sample_case(),
            &RenderExtras {
                include_transcript: true,
                ..Default::default()
            },
        );
        let out: Value = serde_json::from_str(&t.render(&ctx).unwrap()).unwrap();
        assert_eq!(out["title"], sample_case().subject);
        assert!(out["body"].as_str().unwrap().starts_with(&sample_case().description));
        assert_eq!(
            out["segments"][1]["content"],
            "Der Drucker sagt \"Fehler\" 😡\nSchnell bitte!"
        );
        assert_eq!(out["affected"], true);
        assert!(check_template(source).is_ok());
    }

    #[test]
    fn broken_templates_are_reported() {
        assert!(matches!(
            check_template("{{ case.subject "),
            Err(TemplateError::Compile(_))
        ));
        assert!(matches!(
            check_template(r#"{"a": "{{ nope.missing }}"}"#),
            Err(TemplateError::Render(_))
        ));
        assert!(matches!(
            check_template(r#"{"a": {{ case.subject }}}"#),
            Err(TemplateError::InvalidJson(_))
        ));
    }

    #[test]
    fn escape_matches_serde_json() {
        assert_eq!(json_escape("a\"b\\c\nd\u{1}"), r#"a\"b\\c\nd\u0001"#);
        assert_eq!(json_escape("äö😀"), "äö😀");
    }
}
