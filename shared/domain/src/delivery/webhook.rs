//! Outbound webhooks: the request (payload from a preset or template, headers, Standard
//! Webhooks signature plus the original's `X-Signature`), and what a response means
//! (success, semantic error in a 2xx body, retry, permanent failure, the created ticket's id).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use sha2::Sha256;

use crate::case::ServiceCase;
use crate::delivery::presets;
use crate::delivery::template::{PayloadTemplate, RenderExtras, TemplateError, render_context};
use crate::tenancy::output::{Preset, WebhookOutput, is_sensitive_header};
use crate::tenancy::validate::RESERVED_HEADERS;

pub const USER_AGENT: &str = "ServiceGateway/1.0";

/// A rendered, signed request ready to send (the body is exactly the bytes that were signed).
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookRequest {
    pub url: String,
    pub body: String,
    pub headers: Vec<(String, String)>,
    /// Where the target puts its ticket id in the response (per preset).
    pub external_id_path: Option<String>,
}

impl WebhookRequest {
    /// Headers safe to store: credentials and signatures replaced.
    pub fn redacted_headers(&self) -> Vec<(String, String)> {
        self.headers
            .iter()
            .map(|(k, v)| {
                let secret = is_sensitive_header(k) || k.starts_with("webhook-signature");
                (k.clone(), if secret { "[REDACTED]".to_string() } else { v.clone() })
            })
            .collect()
    }
}

/// Stable Standard Webhooks message id of a case's webhook (the same on every retry).
pub fn message_id(case: &ServiceCase) -> String {
    format!("msg_{}_webhook", case.case_id)
}

fn hmac(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    // HMAC takes keys of any length.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().to_vec()
}

/// `v1,<base64>` over `{id}.{timestamp}.{body}` with the base64-decoded `whsec_` secret.
pub fn standard_signature(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
    let key = STANDARD.decode(secret.strip_prefix("whsec_")?).ok()?;
    let ts = timestamp.to_string();
    Some(format!(
        "v1,{}",
        STANDARD.encode(hmac(&key, &[id.as_bytes(), b".", ts.as_bytes(), b".", body]))
    ))
}

/// The original's `X-Signature`: lower-case hex HMAC-SHA256 of the exact body, keyed with the
/// secret string as configured.
pub fn legacy_signature(secret: &str, body: &[u8]) -> String {
    hex::encode(hmac(secret.as_bytes(), &[body]))
}

/// Renders and signs the request for one case. `presets` are the company's own.
pub fn build_request(
    case: &ServiceCase,
    output: &WebhookOutput,
    company_presets: &[Preset],
    extras: &RenderExtras,
    timestamp: i64,
) -> Result<WebhookRequest, TemplateError> {
    let company_preset = output
        .preset
        .as_deref()
        .and_then(|p| company_presets.iter().find(|c| c.slug == p));
    let (source, external_id_path, preset_headers): (&str, Option<String>, Vec<(String, String)>) = match (
        &output.template,
        company_preset,
        output.preset.as_deref().and_then(presets::builtin),
    ) {
        (Some(t), _, _) => (t.as_str(), None, Vec::new()),
        (None, Some(p), _) => (
            p.template.as_str(),
            p.external_id_path.clone(),
            p.headers.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        ),
        (None, None, Some(b)) => (b.template, b.external_id_path.map(str::to_string), Vec::new()),
        (None, None, None) => (presets::default_preset().template, None, Vec::new()),
    };
    // The output's own path wins: a preset's default may not fit a customised target.
    let external_id_path = output.external_id_path.clone().or(external_id_path);
    let mut extras = extras.clone();
    extras.params.clone_from(&output.params);
    extras.include_transcript = output.include_transcript;
    let body = PayloadTemplate::compile(source)?.render(&render_context(case, &extras))?;
    let reference = case.ticket_ref.clone().unwrap_or_default();
    let headers = signed_headers(
        vec![("X-Ticket-Reference".into(), reference.to_string())],
        "service_case.created",
        preset_headers,
        output,
        &message_id(case),
        timestamp,
        &body,
    );
    Ok(WebhookRequest {
        url: output.url.clone(),
        body,
        headers,
        external_id_path,
    })
}

/// The headers of a signed request, the same for case and appointment webhooks: the gateway's
/// (`Content-Type`, `User-Agent`, `X-Event: event` and `own`), then a preset's and the output's
/// custom headers (which may not replace them), the idempotency header and, with a secret, the
/// Standard Webhooks headers with `id` plus the original's `X-Signature`, all over `body`.
pub fn signed_headers(
    own: Vec<(String, String)>,
    event: &str,
    preset_headers: Vec<(String, String)>,
    output: &WebhookOutput,
    id: &str,
    timestamp: i64,
    body: &str,
) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = vec![
        ("Content-Type".into(), "application/json".into()),
        ("User-Agent".into(), USER_AGENT.into()),
    ];
    headers.extend(own);
    headers.push(("X-Event".into(), event.into()));
    // Preset headers first, then the output's own; neither may replace what the gateway sets.
    for (k, v) in preset_headers
        .into_iter()
        .chain(output.headers.iter().map(|(k, v)| (k.clone(), v.clone())))
    {
        let lower = k.to_ascii_lowercase();
        if RESERVED_HEADERS.contains(&lower.as_str()) || ["content-type", "user-agent"].contains(&lower.as_str()) {
            continue;
        }
        headers.retain(|(existing, _)| !existing.eq_ignore_ascii_case(&k));
        headers.push((k, v));
    }
    if let Some(name) = &output.idempotency_header {
        headers.push((name.clone(), id.to_string()));
    }
    if let Some(secret) = output.secret.as_deref()
        && let Some(signature) = standard_signature(secret, id, timestamp, body.as_bytes())
    {
        headers.push(("webhook-id".into(), id.to_string()));
        headers.push(("webhook-timestamp".into(), timestamp.to_string()));
        headers.push(("webhook-signature".into(), signature));
        headers.push(("X-Signature".into(), legacy_signature(secret, body.as_bytes())));
    }
    headers
}

/// What a response means for the delivery.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Delivered {
        external_id: Option<String>,
    },
    /// Worth another attempt (5xx, 429, timeouts, a 2xx whose body reports an error, …).
    Retry {
        class: String,
        message: String,
    },
    /// Will not succeed later (410, or a status the output marks permanent).
    Permanent {
        class: String,
        message: String,
    },
}

fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Object(o) => ["message", "ErrorMessage", "reason", "detail", "description"]
            .iter()
            .find_map(|k| o.get(*k).and_then(text_of))
            .or_else(|| Some(v.to_string())),
        Value::Array(a) => a.first().and_then(text_of),
        _ => None,
    }
}

fn sanitize(message: &str) -> String {
    let clean: String = message.chars().filter(|c| !c.is_control() || *c == ' ').collect();
    crate::text::truncate_chars(clean.trim(), 500)
}

/// Detects an error reported inside a 2xx body (the original's `ResponseBodyAnalyzer` patterns).
pub fn semantic_error(body: &str) -> Option<(String, String)> {
    let v: Value = serde_json::from_str(body).ok()?;
    let o = v.as_object()?;
    let hit = |pattern: &str, message: Option<String>| {
        Some((
            format!("SemanticError:{pattern}"),
            sanitize(&message.unwrap_or_else(|| pattern.to_string())),
        ))
    };
    if let Some(e) = o
        .get("error")
        .filter(|e| !matches!(e, Value::Null | Value::Bool(false)) && text_of(e).is_some())
    {
        return hit("error", text_of(e));
    }
    if let Some(Value::Array(errors)) = o.get("errors")
        && !errors.is_empty()
    {
        return hit("errors", text_of(&errors[0]));
    }
    if let Some(m) = o.get("error_message").and_then(text_of) {
        return hit("error_message", Some(m));
    }
    if o.get("success") == Some(&Value::Bool(false)) {
        let m = ["message", "reason", "error"]
            .iter()
            .find_map(|k| o.get(*k).and_then(text_of));
        return hit("success_false", m);
    }
    match o.get("status") {
        Some(Value::Number(n)) if n.as_u64().is_some_and(|s| s >= 400) => {
            return hit("status_code", Some(format!("status {n}")));
        }
        Some(Value::String(s))
            if ["failed", "failure", "error", "rejected", "denied", "invalid"]
                .contains(&s.to_ascii_lowercase().as_str()) =>
        {
            let m = o.get("message").and_then(text_of).unwrap_or_else(|| s.clone());
            return hit("status", Some(m));
        }
        _ => {}
    }
    if let Some(e) = o.get("exception").and_then(text_of) {
        return hit("exception", Some(e));
    }
    if let Some(f) = o.get("fault").and_then(text_of) {
        return hit("fault", Some(f));
    }
    // OTRS/Znuny answer 200 with {"Error": {"ErrorCode", "ErrorMessage"}}.
    if let Some(e) = o.get("Error").and_then(text_of) {
        return hit("Error", Some(e));
    }
    None
}

fn scalar_id(v: &Value) -> Option<String> {
    let text = match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    let clean: String = text.chars().filter(|c| !c.is_control()).collect();
    let clean = clean.trim();
    (!clean.is_empty()).then(|| crate::text::truncate_chars(clean, 100))
}

/// The created ticket's id: the preset's path first, then the first non-empty scalar among the
/// original's top-level keys (`id`, `key`, `ticket_id`, `number`, `issue_id`, `case_id`, `sys_id`).
pub fn external_id(body: &str, path: Option<&str>) -> Option<String> {
    let v: Value = serde_json::from_str(body).ok()?;
    if let Some(path) = path {
        let found = path.split('.').try_fold(&v, |cur, key| cur.get(key));
        if let Some(id) = found.and_then(scalar_id) {
            return Some(id);
        }
    }
    ["id", "key", "ticket_id", "number", "issue_id", "case_id", "sys_id"]
        .iter()
        .find_map(|k| v.get(*k).and_then(scalar_id))
}

/// Classifies an HTTP response.
pub fn verdict(status: u16, body: &str, permanent_statuses: &[u16], external_id_path: Option<&str>) -> Verdict {
    // The body may echo credentials: redact before it reaches a log or the case.
    let snippet = || sanitize(&crate::exchange::redact_body(body, 200));
    match status {
        200..=299 => match semantic_error(body) {
            Some((class, message)) => Verdict::Retry { class, message },
            None => Verdict::Delivered {
                external_id: external_id(body, external_id_path),
            },
        },
        s if s == 410 || permanent_statuses.contains(&s) => Verdict::Permanent {
            class: "HttpError".into(),
            message: format!("HTTP {s}: {}", snippet()),
        },
        s => Verdict::Retry {
            class: "HttpError".into(),
            message: format!("HTTP {s}: {}", snippet()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::template::sample_case;
    use std::collections::BTreeMap;

    #[test]
    fn standard_webhooks_test_vector() {
        let sig = standard_signature(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(sig.as_deref(), Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="));
    }

    fn output() -> WebhookOutput {
        WebhookOutput {
            url: "https://tickets.example/api".into(),
            headers: BTreeMap::from([
                ("Authorization".into(), "Bearer t0ken".into()),
                ("X-Signature".into(), "forged".into()),
                ("Content-Type".into(), "text/plain".into()),
            ]),
            preset: Some("zendesk-ticket".into()),
            template: None,
            external_id_path: None,
            secret: Some("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into()),
            include_transcript: false,
            include_case_link: false,
            enabled: true,
            idempotency_header: Some("Idempotency-Key".into()),
            params: BTreeMap::new(),
            permanent_statuses: vec![],
        }
    }

    #[test]
    fn an_inline_template_says_where_the_created_tickets_id_is() {
        // Roundup's REST API answers {"data": {"id": "1", "link": …}}.
        let roundup = WebhookOutput {
            preset: None,
            template: Some(r#"{"title": "{{ case.subject }}"}"#.into()),
            external_id_path: Some("data.id".into()),
            ..output()
        };
        let req = build_request(&sample_case(), &roundup, &[], &RenderExtras::default(), 1_700_000_000).unwrap();
        assert_eq!(req.external_id_path.as_deref(), Some("data.id"));
        let answer = r#"{"data": {"id": "17", "link": "https://roundup.example/rest/data/issue/17"}}"#;
        assert_eq!(
            verdict(201, answer, &[], req.external_id_path.as_deref()),
            Verdict::Delivered {
                external_id: Some("17".into())
            }
        );
        let without = WebhookOutput {
            external_id_path: None,
            ..roundup
        };
        let req = build_request(&sample_case(), &without, &[], &RenderExtras::default(), 1_700_000_000).unwrap();
        assert_eq!(
            verdict(201, answer, &[], req.external_id_path.as_deref()),
            Verdict::Delivered { external_id: None },
            "without the path the nested id is not found"
        );
    }

    #[test]
    fn requests_are_signed_over_the_exact_body_and_custom_headers_cannot_override() {
        let req = build_request(&sample_case(), &output(), &[], &RenderExtras::default(), 1_700_000_000).unwrap();
        let get = |name: &str| {
            req.headers
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(get("Content-Type"), ["application/json"]);
        assert_eq!(
            get("X-Signature"),
            [legacy_signature(
                "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                req.body.as_bytes()
            )]
        );
        assert_eq!(get("Authorization"), ["Bearer t0ken"]);
        assert_eq!(get("Idempotency-Key"), get("webhook-id"));
        assert_eq!(get("webhook-id"), [message_id(&sample_case())]);
        assert_eq!(req.external_id_path.as_deref(), Some("ticket.id"));
        let redacted = format!("{:?}", req.redacted_headers());
        assert!(!redacted.contains("t0ken") && !redacted.contains(&get("X-Signature")[0]) && !redacted.contains("v1,"));
        serde_json::from_str::<Value>(&req.body).unwrap();
    }

    #[test]
    fn semantic_errors_and_their_harmless_twins() {
        for (body, class) in [
            (r#"{"error": "invalid signature"}"#, "SemanticError:error"),
            (
                r#"{"errors": [{"message": "project required"}]}"#,
                "SemanticError:errors",
            ),
            (r#"{"error_message": "quota"}"#, "SemanticError:error_message"),
            (r#"{"success": false, "reason": "nope"}"#, "SemanticError:success_false"),
            (r#"{"status": 500}"#, "SemanticError:status_code"),
            (r#"{"status": "rejected"}"#, "SemanticError:status"),
            (r#"{"exception": "NullPointer"}"#, "SemanticError:exception"),
            (r#"{"fault": {"faultstring": "x"}}"#, "SemanticError:fault"),
            (
                r#"{"Error": {"ErrorCode": "TicketCreate.Auth", "ErrorMessage": "auth failed"}}"#,
                "SemanticError:Error",
            ),
        ] {
            assert_eq!(semantic_error(body).map(|e| e.0).as_deref(), Some(class), "{body}");
        }
        for body in [
            r#"{"error": ""}"#,
            r#"{"errors": []}"#,
            r#"{"success": true}"#,
            r#"{"status": 200}"#,
            r#"{"status": "success"}"#,
            "ok",
            r#"{"error": null}"#,
        ] {
            assert_eq!(semantic_error(body), None, "{body}");
        }
        let msg = semantic_error("{\"error\": \"bad\\u0000\\nthing\"}").unwrap().1;
        assert!(!msg.contains('\u{0}') && !msg.contains('\n'));
    }

    #[test]
    fn external_ids_follow_the_originals_rules_plus_preset_paths() {
        assert_eq!(
            external_id(r#"{"id":"10042","key":"SUP-7","self":"x"}"#, None).as_deref(),
            Some("10042")
        );
        assert_eq!(
            external_id(r#"{"id":"10042","key":"SUP-7"}"#, Some("key")).as_deref(),
            Some("SUP-7")
        );
        assert_eq!(
            external_id(r#"{"result":{"number":"INC0010001","sys_id":"abc"}}"#, None),
            None
        );
        assert_eq!(
            external_id(r#"{"result":{"number":"INC0010001"}}"#, Some("result.number")).as_deref(),
            Some("INC0010001")
        );
        assert_eq!(
            external_id(r#"{"number":"INC7","sys_id":"abc"}"#, None).as_deref(),
            Some("INC7")
        );
        assert_eq!(external_id(r#"{"id":0}"#, None).as_deref(), Some("0"));
        assert_eq!(external_id(r#"{"id":{"x":1},"key":"K"}"#, None).as_deref(), Some("K"));
        assert_eq!(
            external_id(r#"{"ticket":{"id":42}}"#, Some("ticket.id")).as_deref(),
            Some("42")
        );
    }

    #[test]
    fn verdicts() {
        assert_eq!(
            verdict(201, r#"{"id":5}"#, &[], None),
            Verdict::Delivered {
                external_id: Some("5".into())
            }
        );
        assert!(matches!(
            verdict(200, r#"{"success":false}"#, &[], None),
            Verdict::Retry { .. }
        ));
        assert!(matches!(verdict(503, "busy", &[], None), Verdict::Retry { .. }));
        assert!(matches!(verdict(302, "", &[], None), Verdict::Retry { .. }));
        assert!(matches!(verdict(410, "gone", &[], None), Verdict::Permanent { .. }));
        assert!(matches!(verdict(401, "no", &[401], None), Verdict::Permanent { .. }));
    }
}
