//! The read-only page behind a signed case link (`links.case_url` in webhook payloads, the
//! "Fall ansehen" link in e-mails with `show_admin_link`): the case as the standard e-mail shows
//! it, with summary, transcript and a fresh recording link. HTML-escaped like the e-mail.

use chrono::{DateTime, Utc};

use crate::case::ServiceCase;
use crate::email::{category_name, compose};
use crate::output::{AudioOption, EmailOutput, EmailTemplate};
use crate::template::{RenderExtras, TemplateError};
use crate::tenant::Tenant;

/// Renders the page; `audio` is a signed recording link and when it expires.
pub fn render(
    case: &ServiceCase,
    tenant: &Tenant,
    audio: Option<(String, DateTime<Utc>)>,
) -> Result<String, TemplateError> {
    let layout = EmailOutput {
        recipients: Vec::new(),
        muted: Vec::new(),
        fallback: Vec::new(),
        template: EmailTemplate::Standard,
        audio: AudioOption::Link,
        include_transcript: true,
        include_summary: true,
        show_admin_link: false,
    };
    let (audio_url, audio_url_expires_at) = audio.unzip();
    let extras = RenderExtras {
        audio_url,
        audio_url_expires_at,
        ..Default::default()
    };
    let page = compose(
        case,
        &tenant.config.name,
        category_name(tenant, case),
        &layout,
        &extras,
        tenant.config.tz(),
        "",
    )?;
    Ok(page.html)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::Utterance;
    use crate::template::sample_case;
    use crate::tenant::TenantSpec;

    #[test]
    fn the_page_shows_the_case_escaped_with_transcript_and_recording_link() {
        let spec: TenantSpec = serde_norway::from_str(include_str!("../../../infra/tenants/nordit.yaml")).unwrap();
        let mut case = sample_case();
        case.transcript = vec![Utterance {
            role: "user".into(),
            content: "Der Drucker <b>streikt</b>".into(),
        }];
        let expires = Utc::now();
        let link = "/recordings/nordit/01K/recording.wav?expires=1&sig=ab".to_string();
        let html = render(&case, &spec.tenant(), Some((link, expires))).unwrap();
        assert!(html.contains("TKT-2026-00042"));
        assert!(html.contains("NordIT Systemhaus GmbH"));
        assert!(html.contains("Zusammenfassung"));
        assert!(
            html.contains("Der Drucker &lt;b&gt;streikt&lt;&#x2F;b&gt;"),
            "transcript escaped"
        );
        assert!(!html.contains("</script>{{"), "description escaped");
        assert!(html.contains("&#x2F;recordings&#x2F;nordit&#x2F;01K&#x2F;recording.wav?expires=1&amp;sig=ab"));
        assert!(!html.contains("/cases/"), "no link to itself");
    }
}
