//! Delivery adapters: webhooks over the SSRF-guarded HTTP client, e-mail through SES v2.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{Attachment, Body, Content, Destination, EmailContent, Message};
use gateway_domain::deadline::Deadline;
use gateway_domain::delivery::email::OutgoingEmail;
use gateway_domain::delivery::webhook::WebhookRequest;
use gateway_domain::delivery::{HttpResponse, MailError, Mailer, TransportError, WebhookClient};
use gateway_domain::ssrf::{UrlPolicy, check_url};

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

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, email: &OutgoingEmail) -> Result<String, MailError> {
        let mut message = Message::builder().subject(content(&email.subject)?).body(
            Body::builder()
                .text(content(&email.text)?)
                .html(content(&email.html)?)
                .build(),
        );
        if let Some(a) = &email.attachment {
            let attachment = Attachment::builder()
                .file_name(&a.filename)
                .content_type(&a.content_type)
                .raw_content(Blob::new(a.bytes.clone()))
                .build()
                .map_err(|e| MailError::Rejected(e.to_string()))?;
            message = message.attachments(attachment);
        }
        let result = self
            .client
            .send_email()
            .from_email_address(&self.from)
            .destination(Destination::builder().to_addresses(&email.to).build())
            .content(EmailContent::builder().simple(message.build()).build())
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
