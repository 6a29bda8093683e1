//! Delivery adapters: webhooks over the SSRF-guarded HTTP client, e-mail through SES v2 (simple
//! content, or raw MIME for messages with an attachment).

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message, RawMessage};
use gateway_domain::deadline::Deadline;
use gateway_domain::delivery::email::OutgoingEmail;
use gateway_domain::delivery::webhook::WebhookRequest;
use gateway_domain::delivery::{HttpResponse, MailError, Mailer, TransportError, WebhookClient};
use gateway_domain::ssrf::{UrlPolicy, check_url};
use mail_builder::MessageBuilder;
use mail_builder::headers::content_type::ContentType;

use crate::http::{Budget, ClientBuildError, blocked_address, guarded_client};

/// Responses are read up to this size (enough for ids and error messages).
const MAX_RESPONSE_BYTES: usize = 64 * 1024;

#[derive(Clone)]
pub struct HttpWebhooks {
    client: reqwest::Client,
    policy: UrlPolicy,
    total: Duration,
}

/// A ticket system's webhook: 30 s per request (less when the invocation ends sooner).
pub const WEBHOOK_BUDGET: Budget = Budget {
    connect: Duration::from_secs(5),
    read: Duration::from_secs(30),
    total: Duration::from_secs(30),
};

/// Slack's incoming webhooks answer in well under a second; an alert must not wait long.
pub const SLACK_BUDGET: Budget = Budget {
    connect: Duration::from_secs(3),
    read: Duration::from_secs(10),
    total: Duration::from_secs(10),
};

/// Below this much time left a request is not started: it could not finish.
const MIN_REQUEST_TIME: Duration = Duration::from_millis(200);

impl HttpWebhooks {
    /// No redirects, every DNS answer checked, the budget's timeouts; fails closed.
    pub fn new(policy: UrlPolicy, budget: Budget) -> Result<Self, ClientBuildError> {
        let client = guarded_client(&policy, budget)?;
        Ok(Self {
            client,
            policy,
            total: budget.total,
        })
    }
}

#[async_trait]
impl WebhookClient for HttpWebhooks {
    async fn post(&self, request: &WebhookRequest, deadline: Deadline) -> Result<HttpResponse, TransportError> {
        check_url(&request.url, &self.policy).map_err(TransportError::Refused)?;
        let time = deadline.cap(self.total);
        if time < MIN_REQUEST_TIME {
            return Err(TransportError::Timeout(
                "not sent: the invocation's deadline leaves no time for it".into(),
            ));
        }
        let mut req = self.client.post(&request.url).timeout(time).body(request.body.clone());
        for (k, v) in &request.headers {
            req = req.header(k, v);
        }
        let mut response = req.send().await.map_err(transport_error)?;
        let status = response.status().as_u16();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
            body.extend_from_slice(&chunk);
            if body.len() >= MAX_RESPONSE_BYTES {
                body.truncate(MAX_RESPONSE_BYTES);
                break;
            }
        }
        Ok(HttpResponse {
            status,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }
}

/// A request error by kind: the guard's refusal (found by type), a timeout, or another failure.
fn transport_error(e: reqwest::Error) -> TransportError {
    if let Some(blocked) = blocked_address(&e) {
        return TransportError::Refused(blocked.to_string());
    }
    let timeout = e.is_timeout();
    // The URL may carry a capability (a Slack webhook URL is one): never in the message.
    let text = gateway_domain::error::chain(&e.without_url());
    if timeout {
        TransportError::Timeout(text)
    } else {
        TransportError::Failed(text)
    }
}

#[derive(Clone)]
pub struct SesMailer {
    client: aws_sdk_sesv2::Client,
    from: String,
}

impl SesMailer {
    /// `from` must be a verified SES identity, e.g. `Service Gateway <gateway@example.com>`.
    pub fn new(client: aws_sdk_sesv2::Client, from: impl Into<String>) -> Self {
        Self {
            client,
            from: from.into(),
        }
    }
}

fn content(text: &str) -> Result<Content, MailError> {
    Content::builder()
        .data(text)
        .charset("UTF-8")
        .build()
        .map_err(|e| MailError::Rejected(e.to_string()))
}

/// `Service Gateway <gateway@example.com>` → (`Some("Service Gateway")`, `gateway@example.com`);
/// a bare address has no name.
pub fn mailbox_parts(mailbox: &str) -> (Option<&str>, &str) {
    let mailbox = mailbox.trim();
    match (mailbox.rfind('<'), mailbox.ends_with('>')) {
        (Some(open), true) => {
            let name = mailbox[..open].trim().trim_matches('"').trim();
            let address = mailbox[open + 1..mailbox.len() - 1].trim();
            ((!name.is_empty()).then_some(name), address)
        }
        _ => (None, mailbox),
    }
}

/// A MIME type with parameters (`text/calendar; charset=UTF-8; method=REQUEST`) as the builder
/// takes it.
fn content_type(text: &str) -> ContentType<'_> {
    let mut parts = text.split(';').map(str::trim);
    let mut ct = ContentType::new(parts.next().unwrap_or("application/octet-stream"));
    for param in parts {
        if let Some((k, v)) = param.split_once('=') {
            ct = ct.attribute(k.trim(), v.trim().trim_matches('"'));
        }
    }
    ct
}

/// The whole message as MIME: `multipart/mixed` with `multipart/alternative` (text, HTML) and
/// the attachment. Sent raw because SES's simple content cannot carry a part's parameters (the
/// `.ics`'s `method=`), and the local emulator keeps raw messages whole.
pub fn mime(from: &str, email: &OutgoingEmail) -> Result<Vec<u8>, MailError> {
    let (name, address) = mailbox_parts(from);
    let domain = address.rsplit_once('@').map_or("localhost", |(_, d)| d);
    // Internet mail ends lines with CRLF (RFC 5322); parts written as they are must, too.
    let crlf = |body: &str| body.replace("\r\n", "\n").replace('\n', "\r\n");
    let mut message = MessageBuilder::new()
        .message_id(format!("{}@{domain}", ulid::Ulid::new()))
        .to(email.to.as_str())
        .subject(email.subject.as_str())
        .text_body(crlf(&email.text))
        .html_body(crlf(&email.html));
    message = match name {
        Some(name) => message.from((name, address)),
        None => message.from(address),
    };
    if let Some(a) = &email.attachment {
        message = message.attachment(content_type(&a.content_type), a.filename.as_str(), a.bytes.as_slice());
    }
    message
        .write_to_vec()
        .map_err(|e| MailError::Rejected(format!("cannot build the message: {e}")))
}

#[async_trait]
impl Mailer for SesMailer {
    /// A message with an attachment goes raw ([`mime`]), one without as simple content.
    async fn send(&self, email: &OutgoingEmail) -> Result<String, MailError> {
        let content = match &email.attachment {
            Some(_) => {
                let raw = RawMessage::builder()
                    .data(Blob::new(mime(&self.from, email)?))
                    .build()
                    .map_err(|e| MailError::Rejected(e.to_string()))?;
                EmailContent::builder().raw(raw).build()
            }
            None => {
                let message = Message::builder().subject(content(&email.subject)?).body(
                    Body::builder()
                        .text(content(&email.text)?)
                        .html(content(&email.html)?)
                        .build(),
                );
                EmailContent::builder().simple(message.build()).build()
            }
        };
        let result = self
            .client
            .send_email()
            .from_email_address(&self.from)
            .destination(Destination::builder().to_addresses(&email.to).build())
            .content(content)
            .send()
            .await;
        match result {
            Ok(out) => Ok(out.message_id.unwrap_or_default()),
            Err(e) => {
                let service = e.as_service_error();
                let text = aws_sdk_sesv2::error::DisplayErrorContext(&e).to_string();
                match service {
                    Some(s) if s.is_message_rejected() || s.is_bad_request_exception() => {
                        Err(MailError::Rejected(text))
                    }
                    _ => Err(MailError::Unavailable(text)),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gateway_domain::delivery::email::Attachment;

    #[test]
    fn senders_split_into_name_and_address() {
        assert_eq!(
            mailbox_parts("Service Gateway <gateway@example.com>"),
            (Some("Service Gateway"), "gateway@example.com")
        );
        assert_eq!(
            mailbox_parts("\"Praxis, Lister\" <p@x.example>"),
            (Some("Praxis, Lister"), "p@x.example")
        );
        assert_eq!(mailbox_parts("gateway@example.com"), (None, "gateway@example.com"));
    }

    #[test]
    fn a_message_with_an_attachment_is_mixed_with_alternative_text_and_html() {
        let email = OutgoingEmail {
            to: "jonas@example.org".into(),
            subject: "Ihr Termin ist bestätigt".into(),
            text: "Guten Tag,\nbis bald.".into(),
            html: "<p>Guten Tag</p>".into(),
            attachment: Some(Attachment {
                filename: "termin.ics".into(),
                content_type: "text/calendar; charset=UTF-8; method=REQUEST".into(),
                bytes: b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n".to_vec(),
            }),
        };
        let raw = String::from_utf8(mime("Service Gateway <gateway@example.com>", &email).unwrap()).unwrap();
        let headers = raw.split("\r\n\r\n").next().unwrap();
        assert!(headers.contains("Content-Type: multipart/mixed"), "{raw}");
        assert!(
            headers.contains("To: <jonas@example.org>") || headers.contains("To: jonas@example.org"),
            "{headers}"
        );
        assert!(
            headers.contains("From: \"Service Gateway\" <gateway@example.com>")
                || headers.contains("From: Service Gateway <gateway@example.com>"),
            "{headers}"
        );
        assert!(
            headers.contains("Subject: =?utf-8?"),
            "encoded non-ASCII subject: {headers}"
        );
        assert!(
            headers.contains("@example.com>"),
            "a message id of the sender's domain: {headers}"
        );
        assert!(raw.contains("multipart/alternative"));
        assert!(raw.contains("text/plain") && raw.contains("text/html"));
        assert!(
            raw.contains("method=\"REQUEST\"") && raw.contains("termin.ics"),
            "{raw}"
        );
        assert!(
            raw.contains("Guten Tag,\r\nbis bald."),
            "CRLF line ends in every part: {raw}"
        );
        assert!(!raw.replace("\r\n", "").contains('\n'), "no bare LF");
        assert!(raw.is_ascii(), "7-bit transport: every part encoded");
    }
}
