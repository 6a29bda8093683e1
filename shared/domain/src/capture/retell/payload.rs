//! Retell request bodies, parsed leniently: only what the gateway needs, every field optional
//! (Retell omits rather than nulls), unknown fields ignored. Required fields are checked by the
//! caller so the error can name them.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::capture::error::IngestError;

/// `{"event": …, "call": {…}}` or `{"event":"call_inbound","call_inbound":{…}}`.
#[derive(Debug, Deserialize)]
pub struct WebhookEnvelope {
    pub event: Option<String>,
    pub call: Option<Call>,
    pub call_inbound: Option<InboundCall>,
    /// On transfer events: `{ "number": …, "extension": … }`.
    pub transfer_destination: Option<Value>,
}

/// The call object (Retell's `PhoneCallResponse`/`WebCallResponse`), reduced to what we use.
#[derive(Debug, Default, Deserialize)]
pub struct Call {
    pub call_id: Option<String>,
    pub call_type: Option<String>,
    pub agent_id: Option<String>,
    pub agent_name: Option<String>,
    pub call_status: Option<String>,
    pub direction: Option<String>,
    pub from_number: Option<String>,
    pub to_number: Option<String>,
    pub metadata: Option<Value>,
    pub retell_llm_dynamic_variables: Option<Map<String, Value>>,
    pub collected_dynamic_variables: Option<Map<String, Value>>,
    pub start_timestamp: Option<i64>,
    pub end_timestamp: Option<i64>,
    pub duration_ms: Option<i64>,
    pub disconnection_reason: Option<String>,
    pub transcript: Option<String>,
    pub transcript_object: Option<Vec<TranscriptLine>>,
    pub recording_url: Option<String>,
    pub recording_multi_channel_url: Option<String>,
    pub scrubbed_recording_url: Option<String>,
    pub scrubbed_recording_multi_channel_url: Option<String>,
    pub call_analysis: Option<CallAnalysis>,
    pub data_storage_setting: Option<String>,
    pub opt_in_signed_url: Option<bool>,
    /// Retell's bill for the call (read leniently into the cost ledger; never a 400).
    pub call_cost: Option<Value>,
}

impl Call {
    /// The company's own number: the called number for inbound calls, the caller for outbound.
    pub fn company_number(&self) -> Option<&str> {
        match self.direction.as_deref() {
            Some("outbound") => self.from_number.as_deref(),
            _ => self.to_number.as_deref(),
        }
    }

    /// The other party's number: the caller for inbound calls.
    pub fn customer_number(&self) -> Option<&str> {
        match self.direction.as_deref() {
            Some("outbound") => self.to_number.as_deref(),
            _ => self.from_number.as_deref(),
        }
    }

    /// Text of everything the caller said, in order.
    pub fn user_text(&self) -> String {
        self.transcript_object
            .iter()
            .flatten()
            .filter(|l| l.role == "user")
            .map(|l| l.content.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// One utterance; word timings are skipped without being kept.
#[derive(Debug, Clone, Deserialize)]
pub struct TranscriptLine {
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub content: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct CallAnalysis {
    pub call_summary: Option<String>,
    pub user_sentiment: Option<String>,
    pub call_successful: Option<bool>,
    pub in_voicemail: Option<bool>,
    pub custom_analysis_data: Option<Map<String, Value>>,
}

/// The `call_inbound` object: no call exists yet.
#[derive(Debug, Default, Deserialize)]
pub struct InboundCall {
    pub agent_id: Option<String>,
    pub from_number: Option<String>,
    pub to_number: Option<String>,
    pub call_id: Option<String>,
}

/// A custom-function request: `{"name": …, "args": {…}, "call": {…}}`.
#[derive(Debug, Deserialize)]
pub struct FunctionCall {
    pub name: Option<String>,
    pub args: Option<Map<String, Value>>,
    pub call: Option<Call>,
}

/// Parses a JSON body; a type error names the JSON path of the offending field.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, IngestError> {
    // serde would also accept a JSON array for a struct; Retell only ever sends objects.
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(IngestError::bad_request("body", "body must be a JSON object"));
    }
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        // serde repeats the offending value; a caller's 100 KB string does not belong in a 400.
        let detail = crate::text::truncate_chars(&inner.to_string(), 300);
        if inner.is_syntax() || inner.is_eof() {
            IngestError::bad_request("body", format!("body is not valid JSON: {detail}"))
        } else if path == "." {
            IngestError::bad_request("body", format!("body is not a Retell request: {detail}"))
        } else {
            IngestError::bad_request(path.clone(), format!("field `{path}` is invalid: {detail}"))
        }
    })
}

/// A required non-empty string, or a 400 naming `field`.
pub fn require<'a>(value: Option<&'a str>, field: &str) -> Result<&'a str, IngestError> {
    match value.map(str::trim) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(IngestError::bad_request(
            field,
            format!("missing required field `{field}`"),
        )),
    }
}

/// Reads a string-ish value (Retell's analysis values may be strings, numbers or booleans).
pub fn value_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => crate::text::non_empty(Some(s)),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_errors_name_the_path() {
        let err = parse_json::<WebhookEnvelope>(br#"{"event":"call_ended","call":{"call_id":42}}"#).unwrap_err();
        match err {
            IngestError::BadRequest { field, .. } => assert_eq!(field, "call.call_id"),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn syntax_errors_name_the_body() {
        let err = parse_json::<WebhookEnvelope>(b"{not json").unwrap_err();
        assert!(
            matches!(err, IngestError::BadRequest { ref field, .. } if field == "body"),
            "{err:?}"
        );
        let err = parse_json::<WebhookEnvelope>(b"[1,2]").unwrap_err();
        assert!(
            matches!(err, IngestError::BadRequest { ref field, .. } if field == "body"),
            "{err:?}"
        );
    }

    #[test]
    fn outbound_calls_swap_numbers() {
        let call = Call {
            direction: Some("outbound".into()),
            from_number: Some("+49511".into()),
            to_number: Some("+49170".into()),
            ..Default::default()
        };
        assert_eq!(call.company_number(), Some("+49511"));
        assert_eq!(call.customer_number(), Some("+49170"));
    }
}
