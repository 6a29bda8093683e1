//! The caller's confirmation: short, friendly German, the facts a caller checks (what, when,
//! where, with whom), how to move or cancel (call us) and what that costs late, and the calendar
//! entry as an `.ics` attachment.

use crate::delivery::email::{Attachment, OutgoingEmail};
use crate::notices::facts::{NoticeFacts, euros, written_moment};
use crate::notices::ics::{Invitation, Method};
use crate::notices::letter::Letter;
use crate::notices::notice::NoticeEvent;

/// The attachment's file name.
fn file_name(method: Method) -> &'static str {
    match method {
        Method::Request => "termin.ics",
        Method::Cancel => "termin-abgesagt.ics",
    }
}

/// "Guten Tag Jonas Weber," or "Guten Tag," without a name.
fn greeting(name: &str) -> String {
    let name = name.trim();
    if name.is_empty() {
        "Guten Tag,".into()
    } else {
        format!("Guten Tag {name},")
    }
}

/// The subject line: what happened and the time, in words a caller reads at a glance.
pub fn subject(facts: &NoticeFacts<'_>) -> String {
    let a = &facts.notice.appointment;
    let when = written_moment(a.start, facts.tz());
    match facts.notice.event {
        NoticeEvent::Booked if facts.notice.is_pending() => {
            format!("Ihr Termin ist angefragt: {} am {when}", facts.service)
        }
        NoticeEvent::Booked => format!("Ihr Termin ist bestätigt: {} am {when}", facts.service),
        NoticeEvent::Rescheduled => format!("Ihr Termin wurde verschoben: {} jetzt am {when}", facts.service),
        NoticeEvent::Cancelled => format!("Ihr Termin wurde abgesagt: {} am {when}", facts.service),
    }
}

/// The confirmation for `to`, with `invitation` attached.
pub fn compose(facts: &NoticeFacts<'_>, to: &str, invitation: &Invitation) -> OutgoingEmail {
    let notice = facts.notice;
    let event = notice.event;
    let (headline, lead) = match event {
        NoticeEvent::Booked if notice.is_pending() => (
            "Ihr Termin ist angefragt.",
            "Wir haben Ihren Terminwunsch erhalten, der Termin ist aber noch nicht bestätigt. Sobald er bestätigt ist, bekommen Sie eine Bestätigung.",
        ),
        NoticeEvent::Booked => (
            "Ihr Termin ist bestätigt.",
            "Vielen Dank für Ihren Anruf. Wir haben diesen Termin für Sie eingetragen:",
        ),
        NoticeEvent::Rescheduled => (
            "Ihr Termin wurde verschoben.",
            "Wie am Telefon besprochen, gilt ab jetzt diese Zeit:",
        ),
        NoticeEvent::Cancelled => (
            "Ihr Termin wurde abgesagt.",
            "Diesen Termin haben wir für Sie abgesagt:",
        ),
    };
    let when_label = match event {
        NoticeEvent::Rescheduled => "Neuer Termin",
        NoticeEvent::Cancelled => "Abgesagt",
        NoticeEvent::Booked => "Termin",
    };
    let calendar_hint = match event {
        NoticeEvent::Booked => "Im Anhang finden Sie den Termin für Ihren Kalender.",
        NoticeEvent::Rescheduled => "Mit dem Anhang wird der Termin in Ihrem Kalender auf die neue Zeit geändert.",
        NoticeEvent::Cancelled => "Mit dem Anhang wird der Termin aus Ihrem Kalender entfernt.",
    };
    let mut letter = Letter::default()
        .paragraph(greeting(&notice.appointment.customer.name))
        .headline(headline)
        .paragraph(lead)
        .facts(vec![
            ("Leistung", Some(facts.service.clone())),
            (when_label, Some(facts.when())),
            ("Bisher", facts.before()),
            ("Ort", Some(facts.place())),
            ("Bei", facts.staff.clone()),
        ])
        .paragraph(calendar_hint);
    letter = match event {
        NoticeEvent::Cancelled => {
            let mut closing = vec!["Möchten Sie einen neuen Termin vereinbaren? Rufen Sie uns gerne an.".to_string()];
            if let Some(fee) = facts.late_fee() {
                closing.push(format!(
                    "Für die kurzfristige Absage berechnen wir laut unseren Bedingungen {}.",
                    euros(fee)
                ));
            }
            letter.paragraph(closing.join(" "))
        }
        _ => {
            let mut rules = facts.change_rules();
            if let (NoticeEvent::Rescheduled, Some(fee)) = (event, facts.late_fee()) {
                rules.push(format!(
                    "Für diese kurzfristige Verschiebung berechnen wir laut unseren Bedingungen {}.",
                    euros(fee)
                ));
            }
            letter.paragraph(rules.join(" "))
        }
    };
    let letter = letter.paragraph(format!("Mit freundlichen Grüßen\n{}", facts.company));
    OutgoingEmail {
        to: to.to_string(),
        subject: subject(facts),
        text: letter.text(),
        html: letter.html(),
        attachment: Some(Attachment {
            filename: file_name(invitation.method).into(),
            content_type: invitation.content_type(),
            bytes: invitation.text.clone().into_bytes(),
        }),
    }
}
