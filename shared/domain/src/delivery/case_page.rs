//! The read-only page behind a signed case link (`links.case_url` in webhook payloads with
//! `include_case_link`, the "Fall ansehen" link in e-mails with `show_admin_link` and in alerts):
//! the case as the standard e-mail shows it. A link is a bearer token, so the page shows no more
//! than every channel of the case's output already carries: the transcript only when all of them
//! include it, the summary and the recording unless the e-mail leaves them out.

use chrono::{DateTime, Utc};

use crate::case::ServiceCase;
use crate::delivery::email::{category_name, compose};
use crate::delivery::service::{channels, output_for};
use crate::delivery::template::{RenderExtras, TemplateError};
use crate::links::LinkSettings;
use crate::tenancy::output::{AudioOption, EmailOutput, EmailTemplate, OutputConfig};
use crate::tenancy::tenant::Tenant;

/// Renders the page; `links` signs the page's recording link (an empty base URL makes it
/// relative to the page).
pub fn render(
    case: &ServiceCase,
    tenant: &Tenant,
    links: &LinkSettings,
    now: DateTime<Utc>,
) -> Result<String, TemplateError> {
    let layout = layout(output_for(tenant, case).ok());
    let mut extras = RenderExtras::default();
    if !matches!(layout.audio, AudioOption::None)
        && let Some(key) = case.enrichment.audio_object_key.as_deref()
    {
        let (link, expires) = links.recording_link(tenant, key, now);
        extras.audio_url = Some(link);
        extras.audio_url_expires_at = Some(expires);
    }
    let page = compose(
        case,
        &tenant.config.name,
        category_name(tenant, case),
        &layout,
        &extras,
        tenant.tz(),
        "",
    )?;
    Ok(page.html)
}

/// The standard e-mail layout, cut to what every delivered channel of `output` carries.
fn layout(output: Option<&OutputConfig>) -> EmailOutput {
    let delivered = output.map(channels).unwrap_or_default();
    let email = output
        .and_then(|o| o.email.as_ref())
        .filter(|_| delivered.contains(&crate::case::Channel::Email));
    let webhook = output
        .and_then(|o| o.webhook.as_ref())
        .filter(|_| delivered.contains(&crate::case::Channel::Webhook));
    let any = email.is_some() || webhook.is_some();
    EmailOutput {
        recipients: Vec::new(),
        muted: Vec::new(),
        fallback: Vec::new(),
        template: EmailTemplate::Standard,
        // Webhook payloads carry the summary and the recording link whenever they exist.
        audio: match email {
            Some(e) => e.audio,
            None if any => AudioOption::Link,
            None => AudioOption::None,
        },
        include_summary: email.is_none_or(|e| e.include_summary),
        include_transcript: any
            && email.is_none_or(|e| e.include_transcript)
            && webhook.is_none_or(|w| w.include_transcript),
        show_admin_link: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::Utterance;
    use crate::delivery::template::sample_case;
    use crate::tenancy::tenant::TenantSpec;

    fn nordit() -> TenantSpec {
        serde_norway::from_str(include_str!("../../../../infra/tenants/nordit.yaml")).unwrap()
    }

    fn page(spec: &TenantSpec) -> String {
        let mut case = sample_case();
        case.company_id = "nordit-hannover".into();
        case.category = Some("print".into());
        case.enrichment.audio_object_key = Some("nordit-hannover/01K/recording.wav".into());
        case.transcript = vec![Utterance {
            role: "user".into(),
            content: "Der Drucker <b>streikt</b>".into(),
        }];
        let links = LinkSettings {
            base_url: String::new(),
            signing_key: "k".into(),
        };
        render(&case, &spec.tenant().unwrap(), &links, Utc::now()).unwrap()
    }

    #[test]
    fn the_page_shows_the_case_escaped_with_what_its_output_shares() {
        // print → hybrid output: e-mail with transcript and audio link, webhook with transcript off.
        let mut spec = nordit();
        let html = page(&spec);
        assert!(html.contains("TKT-2026-00042"));
        assert!(html.contains("NordIT Systemhaus GmbH"));
        assert!(html.contains("Zusammenfassung"));
        assert!(!html.contains("</script>{{"), "description escaped");
        assert!(html.contains("&#x2F;recordings&#x2F;nordit-hannover&#x2F;01K&#x2F;recording.wav?expires="));
        assert!(
            !html.contains("streikt"),
            "the webhook leaves the transcript out, so the page does"
        );
        assert!(!html.contains("/cases/"), "no link to itself");

        spec.outputs[0].webhook.as_mut().unwrap().include_transcript = true;
        let html = page(&spec);
        assert!(
            html.contains("Der Drucker &lt;b&gt;streikt&lt;&#x2F;b&gt;"),
            "transcript, escaped"
        );

        let email = spec.outputs[0].email.as_mut().unwrap();
        email.audio = AudioOption::None;
        email.include_summary = false;
        let html = page(&spec);
        assert!(!html.contains("recording.wav") && !html.contains("Zusammenfassung"));
    }

    #[test]
    fn a_case_without_an_output_shows_no_transcript_or_recording() {
        let mut spec = nordit();
        spec.categories.iter_mut().for_each(|c| c.output = None);
        let html = page(&spec);
        assert!(html.contains("TKT-2026-00042"));
        assert!(!html.contains("streikt") && !html.contains("recording.wav"));
    }
}
