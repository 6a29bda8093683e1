//! Validation of a tenant document before anything is written: every problem at once, each
//! with the path of the field it concerns (`outputs[1].webhook.url`).

use std::collections::HashSet;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::delivery::template::{check_template, check_template_with};
use crate::locale::{Region, TimeZone};
use crate::phone::to_e164;
use crate::ssrf::{UrlPolicy, check_url};
use crate::tenancy::output::{BUILTIN_PRESETS, MASKED_SECRET, OutputConfig, OutputType};
use crate::tenancy::tenant::{GatewayMode, TenantSpec};

/// One problem in a tenant document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub path: String,
    pub message: String,
}

/// Headers the gateway sets itself; a custom header may not replace them.
pub const RESERVED_HEADERS: &[&str] = &[
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "x-signature",
    "content-length",
    "host",
];

struct Report(Vec<Issue>);

impl Report {
    fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(Issue {
            path: path.into(),
            message: message.into(),
        });
    }
}

fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

fn is_header_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// RFC syntax plus a dotted domain: `someone@nordit` is syntactically fine but undeliverable.
pub fn is_valid_email(address: &str) -> bool {
    email_address::EmailAddress::parse_with_options(address, email_address::Options::default())
        .map(|a| {
            let domain = a.domain();
            domain.contains('.') && !domain.ends_with('.') && !domain.starts_with('[')
        })
        .unwrap_or(false)
}

fn check_emails(r: &mut Report, path: &str, list: &[String]) {
    let mut seen = HashSet::new();
    for (i, e) in list.iter().enumerate() {
        if !is_valid_email(e.trim()) {
            r.add(format!("{path}[{i}]"), format!("'{e}' is not a valid e-mail address"));
        } else if !seen.insert(e.trim().to_ascii_lowercase()) {
            r.add(format!("{path}[{i}]"), format!("'{e}' is listed twice"));
        }
    }
}

/// Checks a `whsec_` secret: base64 of at least 24 random bytes (Standard Webhooks).
pub fn check_secret(secret: &str) -> Result<(), String> {
    if secret == MASKED_SECRET {
        return Ok(());
    }
    let Some(b64) = secret.strip_prefix("whsec_") else {
        return Err("must start with 'whsec_' (Standard Webhooks secret)".into());
    };
    match STANDARD.decode(b64) {
        Ok(bytes) if bytes.len() >= 24 => Ok(()),
        Ok(bytes) => Err(format!("decodes to {} bytes; at least 24 are needed", bytes.len())),
        Err(_) => Err("the part after 'whsec_' is not valid base64".into()),
    }
}

/// Validates a whole tenant document. `policy` decides whether http URLs are allowed.
pub fn validate(spec: &TenantSpec, policy: &UrlPolicy) -> Vec<Issue> {
    let mut r = Report(Vec::new());
    let c = &spec.company;
    if !is_slug(c.company_id.as_str()) {
        r.add(
            "company.company_id",
            "must be 1-64 lower-case letters, digits, '-' or '_'",
        );
    }
    if c.name.trim().is_empty() {
        r.add("company.name", "must not be empty");
    }
    if let Err(e) = c.time_zone.parse::<TimeZone>() {
        r.add("company.time_zone", e);
    }
    let region = match c.default_region.parse::<Region>() {
        Ok(region) => Some(region),
        Err(e) => {
            r.add("company.default_region", e);
            None
        }
    };
    if !(0.0..=1.0).contains(&c.intent_threshold) {
        r.add("company.intent_threshold", "must be between 0 and 1");
    }
    if c.enrichment_delay_seconds > 900 {
        r.add(
            "company.enrichment_delay_seconds",
            "must be at most 900 (the SQS limit)",
        );
    }
    if c.audio_url_ttl_minutes == 0 || c.audio_url_ttl_minutes > 7 * 24 * 60 {
        r.add("company.audio_url_ttl_minutes", "must be between 1 and 10080 (7 days)");
    }
    if c.case_link_ttl_hours == 0 || c.case_link_ttl_hours > 30 * 24 {
        r.add("company.case_link_ttl_hours", "must be between 1 and 720 (30 days)");
    }
    check_emails(&mut r, "company.admin_emails", &c.admin_emails);
    if let Some(url) = c.slack_webhook_url.as_deref().filter(|u| *u != MASKED_SECRET)
        && let Err(e) = check_url(url, policy)
    {
        r.add("company.slack_webhook_url", e);
    }
    if let Some(billing) = &c.billing {
        for (path, message) in billing.issues() {
            r.add(format!("company.billing.{path}"), message);
        }
    }
    if !(0.0..=1.0).contains(&c.name_match_threshold) {
        r.add("company.name_match_threshold", "must be between 0 and 1");
    }

    let mut agents = HashSet::new();
    for (i, a) in spec.routes.agents.iter().enumerate() {
        if a.trim().is_empty() || a.contains(char::is_whitespace) {
            r.add(format!("routes.agents[{i}]"), "must be a Retell agent_id");
        } else if !agents.insert(a) {
            r.add(format!("routes.agents[{i}]"), format!("'{a}' is listed twice"));
        }
    }
    let mut phones = HashSet::new();
    for (i, p) in spec.routes.phones.iter().enumerate() {
        if to_e164(p, region.unwrap_or_default()).as_deref() != Some(p.as_str()) {
            r.add(
                format!("routes.phones[{i}]"),
                format!("'{p}' is not a valid number in E.164 (+49…)"),
            );
        } else if !phones.insert(p) {
            r.add(format!("routes.phones[{i}]"), format!("'{p}' is listed twice"));
        }
    }

    let output_ids: HashSet<&str> = spec.outputs.iter().map(|o| o.id.as_str()).collect();
    let mut slugs = HashSet::new();
    let mut defaults = 0;
    for (i, cat) in spec.categories.iter().enumerate() {
        let path = format!("categories[{i}]");
        if !is_slug(&cat.slug) {
            r.add(
                format!("{path}.slug"),
                "must be 1-64 lower-case letters, digits, '-' or '_'",
            );
        } else if !slugs.insert(cat.slug.as_str()) {
            r.add(
                format!("{path}.slug"),
                format!("'{}' is used by another category", cat.slug),
            );
        }
        if !(0.0..=10.0).contains(&cat.threshold) {
            r.add(format!("{path}.threshold"), "must be between 0 and 10");
        }
        for (k, kw) in cat.keywords.iter().enumerate() {
            if kw.term.trim().is_empty() {
                r.add(format!("{path}.keywords[{k}].term"), "must not be empty");
            }
            if let Some(w) = kw.weight
                && !(w > 0.0 && w <= 10.0)
            {
                r.add(
                    format!("{path}.keywords[{k}].weight"),
                    "must be greater than 0 and at most 10",
                );
            }
        }
        if let Some(out) = &cat.output
            && !output_ids.contains(out.as_str())
        {
            r.add(
                format!("{path}.output"),
                format!("no output configuration with id '{out}'"),
            );
        }
        if let (Some(a), Some(b)) = (cat.sla_response_hours, cat.sla_resolution_hours)
            && a > b
        {
            r.add(
                format!("{path}.sla_response_hours"),
                "must not be later than sla_resolution_hours",
            );
        }
        defaults += usize::from(cat.is_default);
    }
    if defaults > 1 {
        r.add("categories", "at most one category may be the default (is_default)");
    }

    let preset_slugs: HashSet<&str> = spec.presets.iter().map(|p| p.slug.as_str()).collect();
    let mut seen_presets = HashSet::new();
    for (i, p) in spec.presets.iter().enumerate() {
        let path = format!("presets[{i}]");
        if !is_slug(&p.slug) {
            r.add(
                format!("{path}.slug"),
                "must be 1-64 lower-case letters, digits, '-' or '_'",
            );
        } else if BUILTIN_PRESETS.contains(&p.slug.as_str()) {
            r.add(
                format!("{path}.slug"),
                format!("'{}' is a built-in preset; choose another slug", p.slug),
            );
        } else if !seen_presets.insert(p.slug.as_str()) {
            r.add(
                format!("{path}.slug"),
                format!("'{}' is used by another preset", p.slug),
            );
        }
        if let Err(e) = check_template(&p.template) {
            r.add(format!("{path}.template"), e.to_string());
        }
        check_headers(&mut r, &format!("{path}.headers"), p.headers.keys());
    }

    check_appointments(&mut r, spec, policy);

    let mut ids = HashSet::new();
    for (i, o) in spec.outputs.iter().enumerate() {
        check_output(&mut r, &format!("outputs[{i}]"), o, &preset_slugs, policy);
        if !is_slug(&o.id) {
            r.add(
                format!("outputs[{i}].id"),
                "must be 1-64 lower-case letters, digits, '-' or '_'",
            );
        } else if !ids.insert(o.id.as_str()) {
            r.add(
                format!("outputs[{i}].id"),
                format!("'{}' is used by another output", o.id),
            );
        }
    }
    r.0
}

/// The `appointments:` section: everything `AppointmentsSpec::build` finds, the calendar servers'
/// URLs (tenant-controlled: the SSRF policy applies), the CalDAV login, and that a company that
/// books appointments has something to book.
fn check_appointments(r: &mut Report, spec: &TenantSpec, policy: &UrlPolicy) {
    let mode = match spec.company.mode {
        GatewayMode::Appointment => Some("appointment"),
        GatewayMode::Hybrid => Some("hybrid"),
        GatewayMode::ServiceDesk => None,
    };
    let Some(a) = &spec.appointments else {
        if let Some(mode) = mode {
            r.add(
                "appointments",
                format!("is required in mode {mode} (branches, services and the calendars they book into)"),
            );
        }
        return;
    };
    if let Some(mode) = mode
        && a.services.is_empty()
    {
        r.add(
            "appointments.services",
            format!("mode {mode} needs at least one service"),
        );
    }
    if let Err(issues) = a.build() {
        r.0.extend(issues);
    }
    // Notices go to the company's own outputs: each one named must exist.
    for (i, id) in a
        .notifications
        .iter()
        .flat_map(|n| n.outputs.iter().flatten())
        .enumerate()
    {
        if !id.trim().is_empty() && !spec.outputs.iter().any(|o| &o.id == id) {
            r.add(
                format!("appointments.notifications.outputs[{i}]"),
                format!("no output configuration '{id}'"),
            );
        }
    }
    if let Some(url) = a.calcom.as_ref().and_then(|c| c.base_url.as_deref())
        && let Err(e) = check_url(url, policy)
    {
        r.add("appointments.calcom.base_url", e);
    }
    if let Some(dav) = &a.caldav {
        if let Err(e) = check_url(&dav.base_url, policy) {
            r.add("appointments.caldav.base_url", e);
        }
        if dav.username.trim().is_empty() {
            r.add("appointments.caldav.username", "must not be empty");
        }
        if dav.password.is_empty() {
            r.add("appointments.caldav.password", "must not be empty");
        }
    }
}

fn check_headers<'a>(r: &mut Report, path: &str, names: impl Iterator<Item = &'a String>) {
    for name in names {
        if !is_header_name(name) {
            r.add(format!("{path}.{name}"), "is not a valid header name");
        } else if RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            r.add(
                format!("{path}.{name}"),
                "is set by the gateway (signature headers cannot be overridden)",
            );
        }
    }
}

fn check_output(r: &mut Report, path: &str, o: &OutputConfig, presets: &HashSet<&str>, policy: &UrlPolicy) {
    let wants_email = matches!(o.kind, OutputType::Email | OutputType::Hybrid);
    let wants_webhook = matches!(o.kind, OutputType::Webhook | OutputType::Hybrid);
    match (&o.email, wants_email) {
        (None, true) => r.add(format!("{path}.email"), "is required for this output type"),
        (Some(_), false) => r.add(
            format!("{path}.email"),
            "is set but the output type does not send e-mail",
        ),
        (Some(e), true) => {
            check_emails(r, &format!("{path}.email.recipients"), &e.recipients);
            check_emails(r, &format!("{path}.email.muted"), &e.muted);
            check_emails(r, &format!("{path}.email.fallback"), &e.fallback);
            let active = e.recipients.iter().filter(|a| !e.muted.contains(a)).count();
            if active == 0 && e.fallback.is_empty() {
                r.add(
                    format!("{path}.email.recipients"),
                    "no active recipient and no fallback address",
                );
            }
        }
        (None, false) => {}
    }
    match (&o.webhook, wants_webhook) {
        (None, true) => r.add(format!("{path}.webhook"), "is required for this output type"),
        (Some(_), false) => r.add(
            format!("{path}.webhook"),
            "is set but the output type does not send webhooks",
        ),
        (Some(w), true) => {
            if let Err(e) = check_url(&w.url, policy) {
                r.add(format!("{path}.webhook.url"), e);
            }
            match (&w.preset, &w.template) {
                (Some(_), Some(_)) => r.add(format!("{path}.webhook"), "set either preset or template, not both"),
                (Some(p), None) if !BUILTIN_PRESETS.contains(&p.as_str()) && !presets.contains(p.as_str()) => r.add(
                    format!("{path}.webhook.preset"),
                    format!("unknown preset '{p}' (built-in: {})", BUILTIN_PRESETS.join(", ")),
                ),
                (Some(p), None) => {
                    if let Some(builtin) = crate::delivery::presets::builtin(p)
                        && let Err(e) = check_template_with(builtin.template, &w.params)
                    {
                        r.add(
                            format!("{path}.webhook.params"),
                            format!("preset '{p}' with these params: {e}"),
                        );
                    }
                }
                (None, Some(t)) => {
                    if let Err(e) = check_template_with(t, &w.params) {
                        r.add(format!("{path}.webhook.template"), e.to_string());
                    }
                }
                _ => {}
            }
            if let Some(p) = &w.external_id_path
                && (p.is_empty() || p.split('.').any(|seg| seg.trim().is_empty()))
            {
                r.add(
                    format!("{path}.webhook.external_id_path"),
                    "must be a dotted path of field names, e.g. data.id",
                );
            }
            if let Some(s) = &w.secret
                && let Err(e) = check_secret(s)
            {
                r.add(format!("{path}.webhook.secret"), e);
            }
            check_headers(r, &format!("{path}.webhook.headers"), w.headers.keys());
            if let Some(h) = &w.idempotency_header
                && !is_header_name(h)
            {
                r.add(
                    format!("{path}.webhook.idempotency_header"),
                    "is not a valid header name",
                );
            }
        }
        (None, false) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::appointments::calendar::slots::StaffId;
    use crate::appointments::setup::CALCOM_API;

    const PRAXIS: &str = include_str!("../../../../infra/tenants/praxis.yaml");

    fn doc(yaml: &str) -> TenantSpec {
        serde_norway::from_str(yaml).unwrap()
    }

    fn paths(issues: &[Issue]) -> Vec<String> {
        issues.iter().map(|i| format!("{}: {}", i.path, i.message)).collect()
    }

    #[test]
    fn the_praxis_example_validates_under_the_strict_policy_and_builds() {
        let spec = doc(PRAXIS);
        let issues = validate(&spec, &UrlPolicy::strict());
        assert!(issues.is_empty(), "{:#?}", paths(&issues));
        assert_eq!(spec.company.mode, GatewayMode::Appointment);
        let tenant = spec.tenant().unwrap();
        let a = tenant.appointments.expect("appointments built");
        assert_eq!(a.branches.len(), 1);
        assert_eq!(a.branches[0].calendar.closures.len(), 2);
        assert_eq!(a.staff.len(), 2);
        let ids: Vec<&str> = a.services.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["erstbefund", "krankengymnastik", "hausbesuch"]);
        let kg = a.service(&"krankengymnastik".into()).unwrap();
        assert_eq!(kg.calendars_for(Some(&StaffId("yilmaz".into()))).len(), 1);
        assert_eq!(kg.calendars_for(None).len(), 2);
        assert_eq!(a.calcom.as_ref().unwrap().base_url(), CALCOM_API);
        assert!(a.calcom.as_ref().unwrap().api_key.starts_with("cal_test_"));
        assert!(a.caldav.is_some());
        assert_eq!(a.policy.fee_for(72.0), None);
        assert_eq!(a.policy.fee_for(30.0), Some(10.0));
        assert_eq!(a.policy.fee_for(3.0), Some(15.0));
    }

    #[test]
    fn every_appointments_problem_is_reported_at_once_with_its_path() {
        let spec = doc(r#"
company: {company_id: praxis, name: Praxis, mode: appointment}
appointments:
  caldav: {base_url: "http://10.0.0.5/dav", username: " ", password: geheim}
  branches:
  - id: main
    name: Praxis
    time_zone: Europe/Hanover
    opening_hours: {mon: ["12:00-08:00"], tue: ["08:00-12:00", "11:00-13:00"]}
  - {id: main, name: Zweigstelle, opening_hours: {}}
  staff:
  - {id: weber, name: Frau Weber}
  - {id: weber, name: Noch eine Frau Weber}
  services:
  - {id: kg, name: KG, branch: main, duration_minutes: 25, staff: [mueller], calendar: {calcom: {event_type_id: 7}}}
  - {id: kg, name: KG lang, branch: main, duration_minutes: 50}
"#);
        let issues = paths(&validate(&spec, &UrlPolicy::strict()));
        let text = issues.join("\n");
        for expected in [
            "appointments.branches[0].time_zone:",
            "appointments.branches[0].opening_hours.mon[0]:",
            "appointments.branches[0].opening_hours.tue[1]: '11:00-13:00' overlaps",
            "appointments.branches[1].id: 'main' is listed twice",
            "appointments.staff[1].id: 'weber' is listed twice",
            "appointments.services[0].staff[0]: no staff member 'mueller'",
            "appointments.services[0].calendar: books into Cal.com but appointments.calcom is not set",
            "appointments.services[1].id: 'kg' is listed twice",
            "appointments.services[1].calendar: is required",
            "appointments.caldav.base_url: must use https",
            "appointments.caldav.username: must not be empty",
        ] {
            assert!(text.contains(expected), "missing {expected} in:\n{text}");
        }
        assert_eq!(issues.len(), 11, "{text}");
    }

    #[test]
    fn calendar_server_urls_follow_the_url_policy() {
        let yaml = PRAXIS
            .replace(
                "https://cloud.physio-lister-platz.example/remote.php/dav",
                "http://127.0.0.1:5232/",
            )
            .replace("  calcom:\n", "  calcom:\n    base_url: https://169.254.169.254/v2\n");
        let spec = doc(&yaml);
        let strict = paths(&validate(&spec, &UrlPolicy::strict()));
        assert!(
            strict[0].starts_with("appointments.calcom.base_url: address 169.254.169.254"),
            "{strict:?}"
        );
        assert!(
            strict[1].starts_with("appointments.caldav.base_url: must use https"),
            "{strict:?}"
        );
        assert_eq!(strict.len(), 2, "{strict:?}");
        // Local mode: http and the allow-listed loopback server are fine; the metadata address never is.
        let local = paths(&validate(&spec, &UrlPolicy::local(vec!["127.0.0.1:5232".into()])));
        assert_eq!(local.len(), 1, "{local:?}");
        assert!(local[0].starts_with("appointments.calcom.base_url:"), "{local:?}");
    }

    #[test]
    fn appointment_and_hybrid_companies_need_services_a_service_desk_does_not() {
        let mut spec = doc(PRAXIS);
        spec.appointments = None;
        assert_eq!(
            paths(&validate(&spec, &UrlPolicy::strict())),
            ["appointments: is required in mode appointment (branches, services and the calendars they book into)"]
        );
        spec.company.mode = GatewayMode::ServiceDesk;
        assert!(validate(&spec, &UrlPolicy::strict()).is_empty());

        let mut spec = doc(PRAXIS);
        spec.company.mode = GatewayMode::Hybrid;
        spec.appointments.as_mut().unwrap().services.clear();
        assert_eq!(
            paths(&validate(&spec, &UrlPolicy::strict())),
            ["appointments.services: mode hybrid needs at least one service"]
        );
    }

    #[test]
    fn masked_calendar_secrets_pass_validation() {
        let mut spec = doc(PRAXIS);
        spec.appointments = spec.appointments.as_ref().map(|a| a.masked());
        let a = spec.appointments.as_ref().unwrap();
        assert_eq!(a.calcom.as_ref().unwrap().api_key, MASKED_SECRET);
        assert_eq!(a.caldav.as_ref().unwrap().password, MASKED_SECRET);
        assert!(validate(&spec, &UrlPolicy::strict()).is_empty());
        // An empty password or a key that is not Cal.com's does not.
        let a = spec.appointments.as_mut().unwrap();
        a.caldav.as_mut().unwrap().password.clear();
        a.calcom.as_mut().unwrap().api_key = "sk_live_123".into();
        assert_eq!(
            paths(&validate(&spec, &UrlPolicy::strict())),
            [
                "appointments.calcom.api_key: must be a Cal.com API key (cal_live_… or cal_test_…)",
                "appointments.caldav.password: must not be empty"
            ]
        );
    }
}
