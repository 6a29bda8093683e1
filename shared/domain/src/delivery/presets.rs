//! The built-in webhook presets: payload templates (tera, values JSON-escaped) for common ticket
//! systems, plus where each system puts the created ticket's id in its response.

pub struct BuiltinPreset {
    pub slug: &'static str,
    pub template: &'static str,
    /// Dotted path of the ticket id in the response, tried before the top-level keys.
    pub external_id_path: Option<&'static str>,
}

const PRESETS: &[BuiltinPreset] = &[
    BuiltinPreset {
        slug: "jira-incident",
        template: include_str!("presets/jira-incident.json"),
        external_id_path: Some("key"),
    },
    BuiltinPreset {
        slug: "jira-service-request",
        template: include_str!("presets/jira-service-request.json"),
        external_id_path: Some("key"),
    },
    BuiltinPreset {
        slug: "servicenow-incident",
        template: include_str!("presets/servicenow-incident.json"),
        external_id_path: Some("result.number"),
    },
    BuiltinPreset {
        slug: "otrs-ticket",
        template: include_str!("presets/otrs-ticket.json"),
        external_id_path: Some("TicketNumber"),
    },
    BuiltinPreset {
        slug: "zendesk-ticket",
        template: include_str!("presets/zendesk-ticket.json"),
        external_id_path: Some("ticket.id"),
    },
    BuiltinPreset {
        slug: "slack-message",
        template: include_str!("presets/slack-message.json"),
        external_id_path: None,
    },
    BuiltinPreset {
        slug: "teams-adaptive-card",
        template: include_str!("presets/teams-adaptive-card.json"),
        external_id_path: None,
    },
    BuiltinPreset {
        slug: "generic-rest",
        template: include_str!("presets/generic-rest.json"),
        external_id_path: None,
    },
    BuiltinPreset {
        slug: "freshdesk-ticket",
        template: include_str!("presets/freshdesk-ticket.json"),
        external_id_path: Some("id"),
    },
    BuiltinPreset {
        slug: "zammad-ticket",
        template: include_str!("presets/zammad-ticket.json"),
        external_id_path: Some("number"),
    },
    BuiltinPreset {
        slug: "redmine-issue",
        template: include_str!("presets/redmine-issue.json"),
        external_id_path: Some("issue.id"),
    },
];

pub fn builtin(slug: &str) -> Option<&'static BuiltinPreset> {
    PRESETS.iter().find(|p| p.slug == slug)
}

/// The payload used when an output names neither a preset nor a template.
pub fn default_preset() -> &'static BuiltinPreset {
    &PRESETS[7]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::template::{PayloadTemplate, RenderExtras, render_context, sample_case};
    use crate::tenancy::output::BUILTIN_PRESETS;
    use serde_json::Value;

    #[test]
    fn every_builtin_renders_valid_json_for_a_nasty_case() {
        assert_eq!(default_preset().slug, "generic-rest");
        let mut case = sample_case();
        case.transcript = (0..400)
            .map(|i| crate::case::Utterance {
                role: if i % 2 == 0 { "agent".into() } else { "user".into() },
                content: format!(
                    "Zeile {i}: \"Zitat\" \\ Backslash, Umlaute äöüß, Emoji 🖨️😡, Tab\t, </p>{{{{ x }}}}\n"
                ),
            })
            .collect();
        let transcript_len: usize = case.transcript.iter().map(|u| u.content.len()).sum();
        assert!(transcript_len > 20_000, "a 20 KB transcript");
        for with_audio in [false, true] {
            let extras = RenderExtras {
                include_transcript: true,
                audio_url: with_audio.then(|| "https://gw.example/recordings/x?sig=\"a\"".to_string()),
                ..Default::default()
            };
            let context = render_context(&case, &extras);
            for slug in BUILTIN_PRESETS {
                let preset = builtin(slug).unwrap_or_else(|| panic!("no template for {slug}"));
                let rendered = PayloadTemplate::compile(preset.template).unwrap().render(&context);
                let body = rendered.unwrap_or_else(|e| panic!("{slug}: {e}"));
                let json: Value = serde_json::from_str(&body).unwrap();
                let text = json.to_string();
                assert!(
                    text.contains("TKT-2026-00042")
                        || slug.starts_with("slack")
                        || slug.starts_with("teams")
                        || text.contains("Kyocera"),
                    "{slug}"
                );
            }
        }
    }
}
