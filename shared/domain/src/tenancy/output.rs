//! Output configurations (where a category's cases are delivered) and webhook presets.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Shown instead of a secret by `export`; applying it keeps the stored secret.
pub const MASKED_SECRET: &str = "********";

/// The built-in webhook presets (payload shapes for common ticket systems).
pub const BUILTIN_PRESETS: &[&str] = &[
    "jira-incident",
    "jira-service-request",
    "servicenow-incident",
    "otrs-ticket",
    "zendesk-ticket",
    "slack-message",
    "teams-adaptive-card",
    "generic-rest",
    "freshdesk-ticket",
    "zammad-ticket",
    "redmine-issue",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputType {
    Email,
    Webhook,
    /// E-mail and webhook, each delivered (and retried) on its own.
    Hybrid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum EmailTemplate {
    #[default]
    Standard,
    /// The IT layout with the case as a JSON attachment.
    Technical,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AudioOption {
    None,
    #[default]
    Link,
    Attachment,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailOutput {
    pub recipients: Vec<String>,
    /// Paused recipients: configured, but not sent to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub muted: Vec<String>,
    /// Used only when no primary recipient is active.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fallback: Vec<String>,
    #[serde(default)]
    pub template: EmailTemplate,
    #[serde(default)]
    pub audio: AudioOption,
    #[serde(default = "yes")]
    pub include_transcript: bool,
    #[serde(default = "yes")]
    pub include_summary: bool,
    #[serde(default)]
    pub show_admin_link: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookOutput {
    pub url: String,
    /// Extra headers (often authorisation for the ticket system: treated as secret).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// A built-in or company preset slug; exclusive with `template`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<String>,
    /// A custom tera template rendering the JSON payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// Where the created ticket's id is in the target's answer, as a dotted path
    /// (`data.id` for Roundup's REST API); overrides the preset's path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id_path: Option<String>,
    /// `whsec_…` signing secret (Standard Webhooks + `X-Signature`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    #[serde(default)]
    pub include_transcript: bool,
    /// Put the signed link to the case's page into the payload (`links.case_url`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub include_case_link: bool,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Header carrying a stable per-case-and-channel id, e.g. `Idempotency-Key` for Zendesk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_header: Option<String>,
    /// Values a preset reads (`params.project_key`, `params.queue`, …).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, String>,
    /// HTTP statuses that will not succeed on a retry (dead-letter at once). 410 always is.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub permanent_statuses: Vec<u16>,
}

/// Where a category's cases go.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputConfig {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(rename = "type")]
    pub kind: OutputType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<EmailOutput>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<WebhookOutput>,
}

/// A company's own webhook preset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preset {
    pub slug: String,
    #[serde(default)]
    pub name: String,
    /// Tera template of the JSON payload.
    pub template: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// Where the created ticket's id sits in the response (`result.number`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id_path: Option<String>,
}

impl OutputConfig {
    /// Replaces secrets (webhook secret, header values) with the mask.
    pub fn masked(&self) -> OutputConfig {
        let mut out = self.clone();
        if let Some(w) = out.webhook.as_mut() {
            if w.secret.is_some() {
                w.secret = Some(MASKED_SECRET.into());
            }
            for (k, v) in w.headers.iter_mut() {
                if is_sensitive_header(k) {
                    *v = MASKED_SECRET.into();
                }
            }
        }
        out
    }

    /// Takes masked values from `stored`, so applying an exported file keeps the secrets.
    pub fn unmask_from(&mut self, stored: &OutputConfig) {
        let (Some(w), Some(old)) = (self.webhook.as_mut(), stored.webhook.as_ref()) else {
            return;
        };
        if w.secret.as_deref() == Some(MASKED_SECRET) {
            w.secret.clone_from(&old.secret);
        }
        for (k, v) in w.headers.iter_mut() {
            if v == MASKED_SECRET
                && let Some(old_value) = old.headers.get(k)
            {
                v.clone_from(old_value);
            }
        }
    }
}

/// Header names that carry credentials (never exported, logged or stored in exchange logs).
pub fn is_sensitive_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [
        "auth",
        "token",
        "key",
        "secret",
        "signature",
        "cookie",
        "password",
        "session",
    ]
    .iter()
    .any(|part| n.contains(part))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking_hides_secrets_and_unmasking_restores_them() {
        let out = OutputConfig {
            id: "o".into(),
            name: String::new(),
            kind: OutputType::Webhook,
            email: None,
            webhook: Some(WebhookOutput {
                url: "https://x.example/hook".into(),
                headers: BTreeMap::from([
                    ("Authorization".into(), "Basic abc".into()),
                    ("X-Source".into(), "gateway".into()),
                ]),
                preset: Some("generic-rest".into()),
                template: None,
                external_id_path: None,
                secret: Some("whsec_abc".into()),
                include_transcript: false,
                include_case_link: false,
                enabled: true,
                idempotency_header: None,
                params: BTreeMap::new(),
                permanent_statuses: vec![],
            }),
        };
        let mut masked = out.masked();
        let w = masked.webhook.as_ref().unwrap();
        assert_eq!(w.secret.as_deref(), Some(MASKED_SECRET));
        assert_eq!(w.headers["Authorization"], MASKED_SECRET);
        assert_eq!(w.headers["X-Source"], "gateway");
        masked.unmask_from(&out);
        assert_eq!(masked, out);
    }
}
