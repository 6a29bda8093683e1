//! One SQS batch skeleton for the queue consumers (enrich, deliver, alert), as Lambda's event
//! source mapping expects them: every record is handled inside the invocation's deadline, in a
//! tracing span of its own, and comes back as done (deleted), failed (SQS redelivers it, after
//! the consumer's retry step when it has a schedule) or dead-lettered. A record that cannot be
//! read fails the same way; a record without a message id fails the whole batch, since it could
//! not be reported alone and must not be dropped.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use gateway_domain::deadline::Deadline;
use gateway_domain::ids::{CallId, CompanyId};
use gateway_domain::metrics::{Measurement, MetricSink, NoMetrics, Unit, dimensions, names};
use serde::de::DeserializeOwned;
use tracing::Instrument;

/// A queue message about one company's case (by its call) or appointment notice.
pub trait QueueMessage: DeserializeOwned {
    fn company_id(&self) -> &CompanyId;
    /// The call whose case it is about (none for an appointment notice).
    fn call_id(&self) -> Option<&CallId>;
    /// The appointment notice it is about (`<appointment>#<change>`), if it is one.
    fn notice(&self) -> Option<String> {
        None
    }
}

impl QueueMessage for gateway_domain::enrichment::EnrichRequest {
    fn company_id(&self) -> &CompanyId {
        &self.company_id
    }
    fn call_id(&self) -> Option<&CallId> {
        Some(&self.call_id)
    }
}

impl QueueMessage for gateway_domain::delivery::DeliverRequest {
    fn company_id(&self) -> &CompanyId {
        &self.company_id
    }
    fn call_id(&self) -> Option<&CallId> {
        Some(&self.call_id)
    }
}

impl QueueMessage for gateway_domain::notices::DeliveryMessage {
    fn company_id(&self) -> &CompanyId {
        match self {
            Self::Case(case) => &case.company_id,
            Self::Notice(notice) => &notice.company_id,
        }
    }
    fn call_id(&self) -> Option<&CallId> {
        match self {
            Self::Case(case) => Some(&case.call_id),
            Self::Notice(_) => None,
        }
    }
    fn notice(&self) -> Option<String> {
        match self {
            Self::Case(_) => None,
            Self::Notice(notice) => Some(notice.notice().label()),
        }
    }
}

/// What became of one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordOutcome {
    /// Finished: the message is deleted.
    Done,
    /// A later attempt may succeed: the message comes back (after the retry schedule's step).
    Retry(String),
    /// No attempt can succeed: to the dead-letter queue at once (where the consumer has one;
    /// otherwise it fails until SQS moves it there).
    DeadLetter(String),
}

impl RecordOutcome {
    /// The `Result` dimension of the `Attempts` metric.
    fn result(&self) -> &'static str {
        match self {
            RecordOutcome::Done => "done",
            RecordOutcome::Retry(_) => "retry",
            RecordOutcome::DeadLetter(_) => "dead_letter",
        }
    }
}

/// The two things a consumer asks of its queue besides receiving and deleting.
#[async_trait]
pub trait QueueControl: Send + Sync {
    /// Makes a failed message visible again after `seconds` instead of the visibility timeout.
    async fn retry_after(&self, receipt_handle: &str, seconds: u32);
    /// Sends a message that can never succeed to the dead-letter queue; `false` if that failed.
    async fn dead_letter(&self, body: &str, reason: &str) -> bool;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Concurrency {
    /// One record after the other (bounded memory, or one alert per case at a time).
    Sequential,
    /// All records of the batch at once (independent cases, I/O bound).
    Concurrent,
}

/// Time a handler keeps back between its outbound calls' deadline and the record's hard stop,
/// to write what happened (the case's marks, the exchange log).
pub const WRAP_UP: Duration = Duration::from_secs(2);

/// One handler call: the message, which receive this is (1 on the first), the deadline, and the
/// message's string attributes (e.g. the `failure_reason` a dead letter carries).
pub struct Record<M> {
    pub message: M,
    pub attempt: u32,
    pub deadline: Deadline,
    pub attributes: BTreeMap<String, String>,
}

pub struct BatchRunner {
    name: &'static str,
    /// The queue, for retry delays and dead letters (a consumer that uses neither has none).
    control: Option<Arc<dyn QueueControl>>,
    concurrency: Concurrency,
    /// Seconds until a failed message comes back after its 1st, 2nd, … receive; empty: the
    /// queue's visibility timeout applies.
    retry_schedule: Vec<u32>,
    /// Whether `DeadLetter` sends the message to a dead-letter queue itself.
    dead_letters: bool,
    /// Each record's attempt and handler time.
    metrics: Arc<dyn MetricSink>,
}

impl BatchRunner {
    pub fn new(name: &'static str, concurrency: Concurrency) -> Self {
        Self {
            name,
            control: None,
            concurrency,
            retry_schedule: Vec::new(),
            dead_letters: false,
            metrics: Arc::new(NoMetrics),
        }
    }

    /// Counts every record's attempt (`Attempts` by function and result) and handler time.
    pub fn with_metrics(mut self, metrics: Arc<dyn MetricSink>) -> Self {
        self.metrics = metrics;
        self
    }

    fn count(&self, company: Option<&CompanyId>, outcome: &RecordOutcome, started: std::time::Instant) {
        self.metrics.put(&[
            Measurement::one(names::ATTEMPTS, company)
                .with(dimensions::FUNCTION, self.name)
                .with(dimensions::RESULT, outcome.result()),
            Measurement::of(
                names::HANDLER_DURATION,
                Unit::Milliseconds,
                started.elapsed().as_secs_f64() * 1000.0,
                company,
            )
            .with(dimensions::FUNCTION, self.name),
        ]);
    }

    /// A failed record comes back after `seconds[attempt - 1]` (the last step repeats).
    pub fn with_retry_schedule(mut self, control: Arc<dyn QueueControl>, seconds: Vec<u32>) -> Self {
        self.control = Some(control);
        self.retry_schedule = seconds;
        self
    }

    /// `DeadLetter` sends the record to the dead-letter queue at once.
    pub fn with_dead_letters(mut self, control: Arc<dyn QueueControl>) -> Self {
        self.control = Some(control);
        self.dead_letters = true;
        self
    }

    /// Runs `handler` on every record and reports the ones that are not done. A record still
    /// running at `deadline` is stopped and reported failed; its handler is told to finish its
    /// outbound calls `WRAP_UP` earlier, so it can record why.
    pub async fn run<M, F, Fut>(
        &self,
        event: &SqsEvent,
        deadline: Deadline,
        handler: F,
    ) -> Result<SqsBatchResponse, lambda_runtime::Error>
    where
        M: QueueMessage,
        F: Fn(Record<M>) -> Fut,
        Fut: Future<Output = RecordOutcome>,
    {
        if event.records.iter().any(|r| r.message_id.is_none()) {
            return Err(format!(
                "{}: SQS record without messageId: failing the batch so nothing is dropped",
                self.name
            )
            .into());
        }
        let done: Vec<bool> = match self.concurrency {
            Concurrency::Concurrent => {
                futures_util::future::join_all(event.records.iter().map(|r| self.one(r, deadline, &handler))).await
            }
            Concurrency::Sequential => {
                let mut done = Vec::with_capacity(event.records.len());
                for record in &event.records {
                    done.push(self.one(record, deadline, &handler).await);
                }
                done
            }
        };
        let mut response = SqsBatchResponse::default();
        for (record, done) in event.records.iter().zip(done) {
            if !done && let Some(id) = &record.message_id {
                response.add_failure(id.clone());
            }
        }
        Ok(response)
    }

    /// One record; `true` when it is finished (delete it).
    async fn one<M, F, Fut>(&self, record: &SqsMessage, deadline: Deadline, handler: &F) -> bool
    where
        M: QueueMessage,
        F: Fn(Record<M>) -> Fut,
        Fut: Future<Output = RecordOutcome>,
    {
        let started = std::time::Instant::now();
        let message_id = record.message_id.as_deref().unwrap_or_default();
        let attempt = receive_count(record);
        let parsed = record.body.as_deref().map(serde_json::from_str::<M>);
        let Some(Ok(message)) = parsed else {
            let span = tracing::error_span!("record", consumer = self.name, message_id, attempt);
            let outcome = RecordOutcome::DeadLetter(format!("not a {} message", self.name));
            self.count(None, &outcome, started);
            return self.settle(record, attempt, outcome).instrument(span).await;
        };
        let span = tracing::info_span!(
            "record",
            consumer = self.name,
            message_id,
            company_id = %message.company_id(),
            call_id = tracing::field::Empty,
            notice = tracing::field::Empty,
            attempt
        );
        if let Some(call_id) = message.call_id() {
            span.record("call_id", tracing::field::display(call_id));
        }
        if let Some(notice) = message.notice() {
            span.record("notice", notice.as_str());
        }
        let company = message.company_id().clone();
        async move {
            let outcome = if deadline.is_past() {
                RecordOutcome::Retry("the invocation's deadline passed before this record started".into())
            } else {
                let attributes = record
                    .message_attributes
                    .iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.string_value.clone()?)))
                    .collect();
                let work = handler(Record {
                    message,
                    attempt,
                    deadline: deadline.minus(WRAP_UP),
                    attributes,
                });
                match tokio::time::timeout_at(deadline.instant().into(), work).await {
                    Ok(outcome) => outcome,
                    Err(_) => RecordOutcome::Retry(
                        "deadline: not finished before the invocation's deadline (stopped to report it)".into(),
                    ),
                }
            };
            self.count(Some(&company), &outcome, started);
            self.settle(record, attempt, outcome).await
        }
        .instrument(span)
        .await
    }

    async fn settle(&self, record: &SqsMessage, attempt: u32, outcome: RecordOutcome) -> bool {
        match outcome {
            RecordOutcome::Done => true,
            RecordOutcome::Retry(reason) => {
                tracing::warn!(%reason, "record failed; it will be retried");
                if let (Some(control), Some(handle)) = (&self.control, record.receipt_handle.as_deref())
                    && !self.retry_schedule.is_empty()
                {
                    control
                        .retry_after(handle, retry_delay(&self.retry_schedule, attempt))
                        .await;
                }
                false
            }
            RecordOutcome::DeadLetter(reason) => {
                tracing::error!(%reason, "record can never succeed");
                match &self.control {
                    Some(control) if self.dead_letters => {
                        control
                            .dead_letter(record.body.as_deref().unwrap_or_default(), &reason)
                            .await
                    }
                    _ => false,
                }
            }
        }
    }
}

/// `ApproximateReceiveCount` as SQS sets it (1 on the first receive).
pub fn receive_count(record: &SqsMessage) -> u32 {
    record
        .attributes
        .get("ApproximateReceiveCount")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
}

/// The schedule's step for the `attempt`-th failed receive; the last step repeats.
pub fn retry_delay(schedule: &[u32], attempt: u32) -> u32 {
    let i = (attempt.max(1) - 1) as usize;
    schedule.get(i).or(schedule.last()).copied().unwrap_or(60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delay_follows_the_receive_count() {
        assert_eq!(
            [1, 2, 3, 4].map(|n| retry_delay(&[60, 120, 300], n)),
            [60, 120, 300, 300]
        );
    }

    #[test]
    fn receive_count_defaults_to_the_first_receive() {
        let mut record = SqsMessage::default();
        assert_eq!(receive_count(&record), 1);
        record.attributes.insert("ApproximateReceiveCount".into(), "3".into());
        assert_eq!(receive_count(&record), 3);
        record.attributes.insert("ApproximateReceiveCount".into(), "x".into());
        assert_eq!(receive_count(&record), 1);
    }
}
