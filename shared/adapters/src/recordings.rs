//! Copies a call recording from Retell into private S3 storage, streamed: the download is cut
//! into 8 MiB parts that are uploaded as they fill, so memory stays bounded by the part size
//! whatever the recording's size. Recordings under one part go up in a single PutObject.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart, ServerSideEncryption};
use gateway_domain::deadline::Deadline;
use gateway_domain::enrichment::{RecordingCopy, RecordingError, RecordingStore};
use gateway_domain::ssrf::{UrlPolicy, check_url};

use crate::http::{Budget, ClientBuildError, guarded_client};

/// A recording: connect 10 s, no data for 30 s, the whole copy 240 s (or the deadline).
pub const RECORDING_BUDGET: Budget = Budget {
    connect: Duration::from_secs(10),
    read: Duration::from_secs(30),
    total: Duration::from_secs(240),
};

pub const PART_SIZE: usize = 8 * 1024 * 1024;

#[derive(Clone)]
pub struct S3Recordings {
    http: reqwest::Client,
    total: Duration,
    s3: Client,
    bucket: String,
    policy: UrlPolicy,
    part_size: usize,
}

fn failed(context: &str, e: impl std::fmt::Display) -> RecordingError {
    RecordingError::Failed(format!("{context}: {e}"))
}

fn download_error(e: reqwest::Error) -> RecordingError {
    let timeout = e.is_timeout();
    // reqwest errors carry the URL, which is a capability: drop it.
    let e = e.without_url();
    if timeout {
        RecordingError::Timeout(e.to_string())
    } else {
        failed("download", e)
    }
}

impl S3Recordings {
    /// With `RECORDING_BUDGET`; fails closed.
    pub fn new(s3: Client, bucket: impl Into<String>, policy: UrlPolicy) -> Result<Self, ClientBuildError> {
        Self::with_budget(s3, bucket, policy, RECORDING_BUDGET)
    }

    pub fn with_budget(
        s3: Client,
        bucket: impl Into<String>,
        policy: UrlPolicy,
        budget: Budget,
    ) -> Result<Self, ClientBuildError> {
        let http = guarded_client(&policy, budget)?;
        Ok(Self {
            http,
            total: budget.total,
            s3,
            bucket: bucket.into(),
            policy,
            part_size: PART_SIZE,
        })
    }

    async fn existing_size(&self, key: &str) -> Result<Option<u64>, RecordingError> {
        match self.s3.head_object().bucket(&self.bucket).key(key).send().await {
            Ok(head) => Ok(Some(head.content_length().unwrap_or(0).max(0) as u64)),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(None),
            Err(e) => Err(failed(
                "check stored recording",
                aws_sdk_s3::error::DisplayErrorContext(&e),
            )),
        }
    }

    async fn upload(
        &self,
        mut response: reqwest::Response,
        key: &str,
        content_type: &str,
    ) -> Result<u64, RecordingError> {
        let mut buffer: Vec<u8> = Vec::with_capacity(self.part_size);
        let mut upload_id: Option<String> = None;
        let mut parts: Vec<CompletedPart> = Vec::new();
        let mut total: u64 = 0;
        let result: Result<(), RecordingError> = async {
            while let Some(chunk) = response.chunk().await.map_err(download_error)? {
                total += chunk.len() as u64;
                buffer.extend_from_slice(&chunk);
                while buffer.len() >= self.part_size {
                    let rest = buffer.split_off(self.part_size);
                    let part = std::mem::replace(&mut buffer, rest);
                    if upload_id.is_none() {
                        upload_id = Some(self.start_multipart(key, content_type).await?);
                    }
                    let id = upload_id.as_deref().unwrap_or_default();
                    parts.push(self.upload_part(key, id, parts.len() as i32 + 1, part).await?);
                }
            }
            Ok(())
        }
        .await;
        if let Err(e) = result {
            if let Some(id) = &upload_id {
                self.abort(key, id).await;
            }
            return Err(e);
        }
        match upload_id {
            None => {
                self.s3
                    .put_object()
                    .bucket(&self.bucket)
                    .key(key)
                    .content_type(content_type)
                    .server_side_encryption(ServerSideEncryption::Aes256)
                    .body(ByteStream::from(buffer))
                    .send()
                    .await
                    .map_err(|e| failed("store recording", aws_sdk_s3::error::DisplayErrorContext(&e)))?;
            }
            Some(id) => {
                if !buffer.is_empty() {
                    match self.upload_part(key, &id, parts.len() as i32 + 1, buffer).await {
                        Ok(p) => parts.push(p),
                        Err(e) => {
                            self.abort(key, &id).await;
                            return Err(e);
                        }
                    }
                }
                let done = CompletedMultipartUpload::builder().set_parts(Some(parts)).build();
                if let Err(e) = self
                    .s3
                    .complete_multipart_upload()
                    .bucket(&self.bucket)
                    .key(key)
                    .upload_id(&id)
                    .multipart_upload(done)
                    .send()
                    .await
                {
                    self.abort(key, &id).await;
                    return Err(failed("complete upload", aws_sdk_s3::error::DisplayErrorContext(&e)));
                }
            }
        }
        Ok(total)
    }

    async fn start_multipart(&self, key: &str, content_type: &str) -> Result<String, RecordingError> {
        let out = self
            .s3
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .server_side_encryption(ServerSideEncryption::Aes256)
            .send()
            .await
            .map_err(|e| failed("start upload", aws_sdk_s3::error::DisplayErrorContext(&e)))?;
        out.upload_id.ok_or_else(|| failed("start upload", "no upload id"))
    }

    async fn upload_part(
        &self,
        key: &str,
        upload_id: &str,
        number: i32,
        bytes: Vec<u8>,
    ) -> Result<CompletedPart, RecordingError> {
        let out = self
            .s3
            .upload_part()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .part_number(number)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(|e| failed("upload part", aws_sdk_s3::error::DisplayErrorContext(&e)))?;
        Ok(CompletedPart::builder()
            .set_e_tag(out.e_tag)
            .part_number(number)
            .build())
    }

    async fn abort(&self, key: &str, upload_id: &str) {
        let res = self
            .s3
            .abort_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .send()
            .await;
        if let Err(e) = res {
            tracing::warn!(error = %aws_sdk_s3::error::DisplayErrorContext(&e), "could not abort multipart upload");
        }
    }
}

#[async_trait]
impl RecordingStore for S3Recordings {
    async fn copy(&self, url: &str, key: &str, deadline: Deadline) -> Result<RecordingCopy, RecordingError> {
        check_url(url, &self.policy).map_err(|e| failed("recording URL refused", e))?;
        if let Some(bytes) = self.existing_size(key).await? {
            return Ok(RecordingCopy {
                bytes,
                already_present: true,
            });
        }
        // The download (and so the upload it feeds) ends by the deadline; a cut-off copy aborts
        // its multipart upload like any other failed one.
        let response = self
            .http
            .get(url)
            .timeout(deadline.cap(self.total))
            .send()
            .await
            .map_err(download_error)?;
        let status = response.status();
        if !status.is_success() {
            return Err(failed("download", format!("HTTP {status}")));
        }
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("audio/wav")
            .to_string();
        let bytes = self.upload(response, key, &content_type).await?;
        Ok(RecordingCopy {
            bytes,
            already_present: false,
        })
    }
}
