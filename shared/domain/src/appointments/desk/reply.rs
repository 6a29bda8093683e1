//! What a booking function answers: machine fields for the agent's logic and one short German
//! sentence it reads out. Every outcome is speakable, failures included (a callback is offered
//! where the caller cannot get further on the phone).

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::appointments::alternatives::{Answer, Offer, Outcome};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The exact wish is free.
    Available,
    /// Free times inside the caller's window or day.
    Options,
    /// The wish is not free; other times are offered.
    Alternatives,
    NextAvailable,
    /// Nothing free in the searched weeks: a callback is offered.
    NothingFree,
    Booked,
    /// Booked, waiting for the company's confirmation.
    Requested,
    /// Someone else got the time first: other times are offered.
    Taken,
    /// The agent has to ask the caller something first (the sentence is the question).
    Question,
    Appointments,
    NoAppointments,
    /// A fee applies: the caller has to agree before we cancel or move.
    ConfirmFee,
    Cancelled,
    /// The move is possible; the caller confirms it (second call with the confirmation).
    MovePossible,
    Moved,
    /// The caller may not make this change on the phone (number, notice): a callback is offered.
    Refused,
    NotFound,
    Services,
    OpeningHours,
    /// The company does not book appointments by phone.
    NotOffered,
    /// The calendar cannot be reached: a callback is offered.
    Unavailable,
    /// The same request is still being processed (a retry racing the original): ask again.
    InProgress,
}

/// One function's answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reply {
    /// False when the function could not do its job (calendar unreachable, not offered).
    pub success: bool,
    pub status: Status,
    /// What the agent says.
    pub message: String,
    /// The agent should offer a callback (`request_callback`) if the caller wants one.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub callback_offered: bool,
    #[serde(flatten)]
    pub data: Map<String, Value>,
}

impl Reply {
    pub fn new(status: Status, message: impl Into<String>) -> Self {
        Self {
            success: !matches!(status, Status::NotOffered | Status::Unavailable | Status::InProgress),
            status,
            message: message.into(),
            callback_offered: matches!(
                status,
                Status::NothingFree | Status::Refused | Status::NotOffered | Status::Unavailable
            ),
            data: Map::new(),
        }
    }

    pub fn question(message: impl Into<String>) -> Self {
        Self::new(Status::Question, message)
    }

    pub fn with(mut self, key: &str, value: impl Serialize) -> Self {
        self.data
            .insert(key.to_string(), serde_json::to_value(value).unwrap_or(Value::Null));
        self
    }

    pub fn offering_callback(mut self) -> Self {
        self.callback_offered = true;
        self
    }

    /// The calendar could not be reached (or failed): the caller can still get a callback.
    pub fn unavailable() -> Self {
        Self::new(
            Status::Unavailable,
            "Ich komme gerade leider nicht an unseren Terminkalender. Soll ich veranlassen, dass wir Sie zurückrufen?",
        )
    }

    pub fn in_progress() -> Self {
        Self::new(
            Status::InProgress,
            "Einen Moment bitte, ich bin noch dabei. Ich frage gleich noch einmal nach.",
        )
        .with("retry", true)
    }

    /// An availability answer as it stands: the engine's sentence, its offers.
    pub fn from_answer(answer: Answer) -> Self {
        let status = match &answer.outcome {
            Outcome::Available { .. } => Status::Available,
            Outcome::Options { .. } => Status::Options,
            Outcome::Alternatives { .. } => Status::Alternatives,
            Outcome::NothingFree { .. } => Status::NothingFree,
        };
        let reason = match &answer.outcome {
            Outcome::Alternatives { reason, .. } => Some(json!(reason)),
            Outcome::NothingFree { reason } => reason.map(|r| json!(r)),
            _ => None,
        };
        let offers = offers_json(answer.offers());
        let mut reply = Reply::new(status, answer.message)
            .with("available", status == Status::Available)
            .with("offers", offers);
        if let Some(reason) = reason {
            reply = reply.with("reason", reason);
        }
        reply
    }
}

/// Offers as the agent gets them: numbered, with the exact `local_start` to book with.
pub fn offers_json(offers: &[Offer]) -> Vec<Value> {
    offers
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let mut v = json!({
                "number": i + 1,
                "start": o.start,
                "end": o.end,
                "local_start": o.local_start,
                "kind": o.kind,
                "spoken": o.spoken,
            });
            if let (Some(staff), Some(obj)) = (&o.staff, v.as_object_mut()) {
                obj.insert("staff".into(), json!(staff.0));
            }
            v
        })
        .collect()
}

/// "15 Euro", "12,50 Euro".
pub fn speak_euro(amount: f64) -> String {
    let cents = (amount * 100.0).round() as i64;
    if cents % 100 == 0 {
        format!("{} Euro", cents / 100)
    } else {
        format!("{},{:02} Euro", cents / 100, cents % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_offer_a_callback_and_are_not_successes() {
        let r = Reply::unavailable();
        assert!(!r.success && r.callback_offered);
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["status"], "unavailable");
        assert_eq!(v["callback_offered"], true);
        let q = serde_json::to_value(Reply::question("Wann?").with("field", "datum")).unwrap();
        assert_eq!(
            q,
            json!({"success": true, "status": "question", "message": "Wann?", "field": "datum"})
        );
    }

    #[test]
    fn euros_as_spoken() {
        assert_eq!(speak_euro(15.0), "15 Euro");
        assert_eq!(speak_euro(12.5), "12,50 Euro");
        assert_eq!(speak_euro(0.99), "0,99 Euro");
    }
}
