//! The company's e-mail about a change, to an output's recipients: one line saying what happened,
//! then the facts staff act on (who, what, when, before, where, why, made in which call).

use crate::appointments::record::ChangedBy;
use crate::delivery::email::OutgoingEmail;
use crate::notices::facts::{NoticeFacts, written_moment};
use crate::notices::letter::Letter;
use crate::notices::notice::NoticeEvent;

pub fn subject(facts: &NoticeFacts<'_>) -> String {
    let notice = facts.notice;
    let a = &notice.appointment;
    let when = written_moment(a.start, facts.tz());
    let who = a.customer.name.trim();
    let who = if who.is_empty() { "Anrufer ohne Namen" } else { who };
    match notice.event {
        NoticeEvent::Booked if notice.is_pending() => {
            format!("Terminanfrage (bitte bestätigen): {} am {when} – {who}", facts.service)
        }
        NoticeEvent::Booked => format!("Neuer Termin: {} am {when} – {who}", facts.service),
        NoticeEvent::Rescheduled => format!("Termin verschoben: {} jetzt am {when} – {who}", facts.service),
        NoticeEvent::Cancelled => format!("Termin abgesagt: {} am {when} – {who}", facts.service),
    }
}

/// Who made the change, in words.
fn made_by(by: &ChangedBy) -> String {
    match by {
        ChangedBy::Caller { call_id } => format!("der Anrufer, am Telefon (Anruf {call_id})"),
        ChangedBy::Operator { name } => format!("{name} (Bedienoberfläche)"),
        ChangedBy::Staff => "im Kalender".into(),
    }
}

pub fn compose(facts: &NoticeFacts<'_>, to: &str) -> OutgoingEmail {
    let notice = facts.notice;
    let a = &notice.appointment;
    let headline = match notice.event {
        NoticeEvent::Booked if notice.is_pending() => {
            "Ein Termin wurde angefragt. Er ist erst gültig, wenn Sie ihn im Kalender bestätigen."
        }
        NoticeEvent::Booked => "Ein Termin wurde gebucht.",
        NoticeEvent::Rescheduled => "Ein Termin wurde verschoben.",
        NoticeEvent::Cancelled => "Ein Termin wurde abgesagt.",
    };
    let letter = Letter::default().headline(headline).facts(vec![
        ("Leistung", Some(facts.service.clone())),
        ("Termin", Some(facts.when())),
        ("Bisher", facts.before()),
        ("Ort", Some(facts.place())),
        ("Bei", facts.staff.clone()),
        ("Kunde", Some(a.customer.name.clone())),
        ("Telefon", a.customer.phone.clone()),
        ("E-Mail", a.customer.email.clone()),
        ("Grund", notice.reason.clone()),
        ("Geändert durch", Some(made_by(&notice.changed_by))),
        ("Termin-ID", Some(a.appointment_id.to_string())),
    ]);
    OutgoingEmail {
        to: to.to_string(),
        subject: subject(facts),
        text: letter.text(),
        html: letter.html(),
        attachment: None,
    }
}
