//! What the delivery queue carries: a case to deliver (the message it always carried, parsed
//! exactly as before) or an appointment notice. The delivery DLQ carries the same messages, so
//! the alert function reads them with the same type.

use serde::{Deserialize, Serialize};

use crate::delivery::DeliverRequest;
use crate::ids::{AppointmentId, CompanyId};
use crate::notices::notice::NoticeRef;

/// The marker that tells a notice message from a case message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    AppointmentNotice,
}

/// `{"kind": "appointment_notice", "company_id": …, "appointment_id": …, "change": 2}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeMessage {
    pub kind: MessageKind,
    pub company_id: CompanyId,
    pub appointment_id: AppointmentId,
    pub change: u32,
}

impl NoticeMessage {
    pub fn notice(&self) -> NoticeRef {
        NoticeRef {
            company_id: self.company_id.clone(),
            appointment_id: self.appointment_id.clone(),
            change: self.change,
        }
    }
}

impl From<&NoticeRef> for NoticeMessage {
    fn from(n: &NoticeRef) -> Self {
        Self {
            kind: MessageKind::AppointmentNotice,
            company_id: n.company_id.clone(),
            appointment_id: n.appointment_id.clone(),
            change: n.change,
        }
    }
}

/// One message of the delivery queue (or its DLQ). A notice is recognised by its `kind`; any
/// other message is read as a case's `{company_id, call_id, case_id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DeliveryMessage {
    Notice(NoticeMessage),
    Case(DeliverRequest),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{CallId, CaseId};

    #[test]
    fn case_messages_parse_as_before_and_notices_by_their_kind() {
        let case: DeliveryMessage =
            serde_json::from_str(r#"{"company_id":"nordit","call_id":"call_1","case_id":"01J"}"#).unwrap();
        assert_eq!(
            case,
            DeliveryMessage::Case(DeliverRequest {
                company_id: CompanyId::new("nordit"),
                call_id: CallId::new("call_1"),
                case_id: CaseId::new("01J"),
            })
        );
        let notice = NoticeRef {
            company_id: CompanyId::new("praxis"),
            appointment_id: AppointmentId::new("01JAPPT"),
            change: 2,
        };
        let text = serde_json::to_string(&NoticeMessage::from(&notice)).unwrap();
        assert_eq!(
            text,
            r#"{"kind":"appointment_notice","company_id":"praxis","appointment_id":"01JAPPT","change":2}"#
        );
        match serde_json::from_str::<DeliveryMessage>(&text).unwrap() {
            DeliveryMessage::Notice(m) => assert_eq!(m.notice(), notice),
            other => panic!("{other:?}"),
        }
        for bad in [
            r#"{"company_id":"nordit"}"#,
            r#"{"kind":"other","company_id":"p","appointment_id":"a","change":1}"#,
        ] {
            assert!(serde_json::from_str::<DeliveryMessage>(bad).is_err(), "{bad}");
        }
    }
}
