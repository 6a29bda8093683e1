//! Delivery adapters: webhooks over the SSRF-guarded HTTP client, e-mail through SES v2.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{Attachment, Body, Content, Destination, EmailContent, Message};
use gateway_domain::email::OutgoingEmail;
use gateway_domain::ports::{HttpResponse, MailError, Mailer, TransportError, WebhookClient};
use gateway_domain::ssrf::{UrlPolicy, check_url};
use gateway_domain::webhook::WebhookRequest;

use crate::http::guarded_client;

/// Responses are read up to this size (enough for ids and error messages).
const MAX_RESPONSE_BYTES: usize = 64 * 1024;

#[derive(Clone)]
pub struct HttpWebhooks {
    client: reqwest::Client,
    policy: UrlPolicy,
}

impl HttpWebhooks {
    /// 30 s per request, no redirects, every DNS answer checked.
    pub fn new(policy: UrlPolicy) -> Self {
        let client = guarded_client(
            &policy,
            Duration::from_secs(10),
            Duration::from_secs(30),
            Duration::from_secs(30),
        );
        Self { client, policy }
    }
}

#[async_trait]
impl WebhookClient for HttpWebhooks {
    async fn post(&self, request: &WebhookRequest) -> Result<HttpResponse, TransportError> {
        check_url(&request.url, &self.policy).map_err(TransportError::Refused)?;
        let mut req = self.client.post(&request.url).body(request.body.clone());
        for (k, v) in &request.headers {
            req = req.header(k, v);
        }
        let mut response = req.send().await.map_err(|e| {
            let timeout = e.is_timeout();
            let text = e.without_url().to_string();
            // Our resolver's refusal surfaces as a connect error.
            if text.contains("private, loopback or reserved") {
                TransportError::Refused(text)
            } else if timeout {
                TransportError::Timeout(text)
            } else {
                TransportError::Failed(text)
            }
        })?;
        let status = response.status().as_u16();
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| TransportError::Failed(e.without_url().to_string()))?
        {
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
