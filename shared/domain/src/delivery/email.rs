//! E-mail output: recipients (minus muted, else the fallback list), the original's German
//! subject rules, HTML and text bodies (HTML-escaped), and the technical layout's JSON attachment.

use chrono_tz::Tz;
use serde_json::json;
use tera::{Context, Tera};

use crate::case::{CaseType, Priority, ServiceCase};
use crate::delivery::presets;
use crate::delivery::template::{PayloadTemplate, RenderExtras, TemplateError, render_context};
use crate::tenancy::output::{EmailOutput, EmailTemplate};
use crate::tenancy::tenant::Tenant;
use crate::tenancy::validate::is_valid_email;

/// Transcript lines beyond this many characters are cut (with a notice).
const TRANSCRIPT_LIMIT: usize = 20_000;

#[derive(Debug, Clone, PartialEq)]
pub struct Attachment {
    pub filename: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// One e-mail, for one recipient.
#[derive(Debug, Clone, PartialEq)]
pub struct OutgoingEmail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub attachment: Option<Attachment>,
}

/// Active recipients: the list minus muted addresses; if none remain, the fallback list minus
/// muted. Invalid addresses are dropped (the caller logs them).
pub fn recipients(email: &EmailOutput) -> (Vec<String>, Vec<String>) {
    let muted = |a: &String| email.muted.iter().any(|m| m.eq_ignore_ascii_case(a));
    let pick = |list: &[String]| list.iter().filter(|a| !muted(a)).cloned().collect::<Vec<_>>();
    let mut chosen = pick(&email.recipients);
    if chosen.is_empty() {
        chosen = pick(&email.fallback);
    }
    chosen.into_iter().partition(|a| is_valid_email(a))
}

/// The standard layout's headline per case type.
fn headline(kind: CaseType) -> &'static str {
    match kind {
        CaseType::Incident => "Neue Störungsmeldung",
        CaseType::Callback => "Neue Rückrufbitte",
        CaseType::Request | CaseType::Inquiry => "Neue Anfrage",
    }
}

pub fn priority_label(p: Priority) -> &'static str {
    match p {
        Priority::Critical => "kritisch",
        Priority::High => "hoch",
        Priority::Normal => "normal",
        Priority::Low => "niedrig",
    }
}

/// The original's subject rules: technical `[KRITISCH]`/`[DRINGEND]` + `[Kategorie] TKT-…:
/// Betreff`; standard "Neue Störungsmeldung"/"Neue Anfrage" (+ `[DRINGEND]` when critical).
pub fn subject(case: &ServiceCase, category_name: &str, template: EmailTemplate) -> String {
    let ticket = case.ticket_ref.as_deref().unwrap_or("TKT");
    match template {
        EmailTemplate::Technical => {
            let prefix = match case.priority {
                Priority::Critical => "[KRITISCH] ",
                Priority::High => "[DRINGEND] ",
                _ => "",
            };
            format!("{prefix}[{category_name}] {ticket}: {}", case.subject)
        }
        EmailTemplate::Standard => {
            let kind = headline(case.case_type);
            let urgent = if case.priority == Priority::Critical {
                " [DRINGEND]"
            } else {
                ""
            };
            format!("{kind}{urgent}: {ticket} – {}", case.subject)
        }
    }
}

/// The case's category as people read it ("Allgemein" when it has none).
pub fn category_name<'a>(tenant: &'a Tenant, case: &ServiceCase) -> &'a str {
    case.category
        .as_deref()
        .and_then(|c| tenant.category(c))
        .map_or("Allgemein", |c| c.name.as_str())
}

/// Builds the message for one recipient.
pub fn compose(
    case: &ServiceCase,
    company_name: &str,
    category_name: &str,
    email: &EmailOutput,
    extras: &RenderExtras,
    tz: Tz,
    to: &str,
) -> Result<OutgoingEmail, TemplateError> {
    let subject = subject(case, category_name, email.template);
    let mut budget = TRANSCRIPT_LIMIT;
    let mut truncated = false;
    let transcript: Vec<_> = if email.include_transcript {
        case.transcript
            .iter()
            .take_while(|u| {
                let fits = u.content.len() <= budget;
                budget = budget.saturating_sub(u.content.len());
                truncated |= !fits;
                fits
            })
            .map(|u| json!({"role": if u.role == "agent" { "Agent" } else { "Kunde" }, "content": u.content}))
            .collect()
    } else {
        Vec::new()
    };
    let caller = &case.caller;
    let values = json!({
        "subject": subject,
        "headline": headline(case.case_type),
        "ticket": case.ticket_ref.clone().unwrap_or_default(),
        "company": company_name,
        "created": case.created_at.with_timezone(&tz).format("%d.%m.%Y %H:%M").to_string(),
        "priority_label": priority_label(case.priority),
        "case": {"subject": case.subject, "description": case.description},
        "caller": {
            "name": caller.name, "company": caller.company, "phone": caller.phone,
            "caller_id": caller.caller_id, "email": caller.email, "location": caller.location,
        },
        "problem_since": caller.problem_since.as_ref().map(|p| p.original.clone()),
        "others_affected": match caller.others_affected { Some(true) => "Ja", Some(false) => "Nein", None => "–" },
        "category": category_name,
        "call_id": case.call_id,
        "summary": if email.include_summary { case.analysis.summary.clone() } else { None },
        "audio_url": if matches!(email.audio, crate::tenancy::output::AudioOption::None) { None } else { extras.audio_url.clone() },
        "audio_expires": extras.audio_url_expires_at.map(|t| t.with_timezone(&tz).format("%d.%m.%Y %H:%M").to_string()),
        "transcript": transcript,
        "transcript_truncated": truncated,
        "case_url": if email.show_admin_link { extras.case_url.clone() } else { None },
    });
    let ctx = Context::from_value(values).map_err(|e| TemplateError::Render(e.to_string()))?;
    let mut tera = Tera::default();
    tera.autoescape_on(vec![".html"]);
    let templates = [
        ("mail.html", include_str!("mail/standard.html")),
        ("mail.txt", include_str!("mail/standard.txt")),
    ];
    tera.add_raw_templates(templates)
        .map_err(|e| TemplateError::Compile(e.to_string()))?;
    let html = tera
        .render("mail.html", &ctx)
        .map_err(|e| TemplateError::Render(format!("{e:?}")))?;
    let text = tera
        .render("mail.txt", &ctx)
        .map_err(|e| TemplateError::Render(format!("{e:?}")))?;
    let attachment = match email.template {
        EmailTemplate::Technical => Some(case_json(case, extras)?),
        EmailTemplate::Standard => None,
    };
    Ok(OutgoingEmail {
        to: to.to_string(),
        subject,
        text,
        html,
        attachment,
    })
}

/// `case_TKT-…_<timestamp>.json`: the generic payload with the transcript.
fn case_json(case: &ServiceCase, extras: &RenderExtras) -> Result<Attachment, TemplateError> {
    let mut extras = extras.clone();
    extras.include_transcript = true;
    let body = PayloadTemplate::compile(presets::default_preset().template)?.render(&render_context(case, &extras))?;
    let stamp = extras.now.unwrap_or(case.updated_at).format("%Y%m%d%H%M%S");
    Ok(Attachment {
        filename: format!("case_{}_{stamp}.json", case.ticket_ref.as_deref().unwrap_or("TKT")),
        content_type: "application/json".into(),
        bytes: body.into_bytes(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::template::sample_case;

    fn email(template: EmailTemplate) -> EmailOutput {
        EmailOutput {
            recipients: vec!["a@x.example".into(), "b@x.example".into(), "kaputt@".into()],
            muted: vec!["B@x.example".into()],
            fallback: vec!["f@x.example".into()],
            template,
            audio: crate::tenancy::output::AudioOption::Link,
            include_transcript: true,
            include_summary: true,
            show_admin_link: false,
        }
    }

    #[test]
    fn recipients_skip_muted_and_fall_back() {
        let (ok, bad) = recipients(&email(EmailTemplate::Standard));
        assert_eq!(
            (ok, bad),
            (vec!["a@x.example".to_string()], vec!["kaputt@".to_string()])
        );
        let mut e = email(EmailTemplate::Standard);
        e.muted = e.recipients.clone();
        assert_eq!(recipients(&e).0, ["f@x.example"]);
    }

    #[test]
    fn subject_rules() {
        let mut case = sample_case();
        case.priority = Priority::Critical;
        assert_eq!(
            subject(&case, "Drucker", EmailTemplate::Technical),
            format!("[KRITISCH] [Drucker] TKT-2026-00042: {}", case.subject)
        );
        case.priority = Priority::High;
        assert!(subject(&case, "Drucker", EmailTemplate::Technical).starts_with("[DRINGEND] [Drucker] TKT-2026-00042"));
        assert!(
            subject(&case, "Drucker", EmailTemplate::Standard).starts_with("Neue Störungsmeldung: TKT-2026-00042 – ")
        );
        case.priority = Priority::Critical;
        assert!(subject(&case, "Drucker", EmailTemplate::Standard).starts_with("Neue Störungsmeldung [DRINGEND]: "));
    }

    #[test]
    fn html_is_escaped_and_the_technical_mail_carries_the_case_as_json() {
        let case = sample_case();
        let m = compose(
            &case,
            "NordIT",
            "Drucker",
            &email(EmailTemplate::Technical),
            &RenderExtras::default(),
            chrono_tz::Europe::Berlin,
            "a@x.example",
        )
        .unwrap();
        assert!(
            m.html.contains("&lt;&#x2F;script&gt;") || m.html.contains("&lt;/script&gt;"),
            "{}",
            m.html
        );
        assert!(!m.html.contains("</script>"));
        assert!(m.text.contains("</script>"), "the text part is plain");
        assert!(m.text.contains("Weitere betroffen: Ja"));
        let a = m.attachment.unwrap();
        assert!(a.filename.starts_with("case_TKT-2026-00042_") && a.filename.ends_with(".json"));
        let json: serde_json::Value = serde_json::from_slice(&a.bytes).unwrap();
        assert_eq!(json["reference"], "TKT-2026-00042");
        assert_eq!(json["transcript"]["segment_count"], 2);
        let m = compose(
            &case,
            "NordIT",
            "Drucker",
            &email(EmailTemplate::Standard),
            &RenderExtras::default(),
            chrono_tz::Europe::Berlin,
            "a@x.example",
        )
        .unwrap();
        assert!(m.attachment.is_none());
    }
}
