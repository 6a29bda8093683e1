//! A notice with the words it is told in: the company, service, branch and staff as the
//! company's configuration names them now (the ids where a name is gone), the times written out
//! in German in the appointment's own zone, and the company's rules for moving and cancelling.
//!
//! Written style, decided: absolute dates with weekday and year ("Dienstag, 8. Dezember 2026"),
//! times in 24-hour form with minutes ("14:30 Uhr", "9:05 Uhr"): a letter is read later and
//! elsewhere, so nothing relative ("morgen") and nothing ambiguous ("halb drei").

use chrono::{DateTime, Datelike, Timelike, Utc};
use chrono_tz::Tz;

use crate::appointments::calendar::slots::StaffId;
use crate::appointments::setup::BookingPolicy;
use crate::appointments::speech::speak::{month_name, weekday_name};
use crate::notices::notice::{AppointmentNotice, NoticeEvent};
use crate::tenancy::Tenant;

/// "Dienstag, 8. Dezember 2026".
pub fn written_date(t: DateTime<Tz>) -> String {
    format!(
        "{}, {}. {} {}",
        weekday_name(t.weekday()),
        t.day(),
        month_name(t.month()),
        t.year()
    )
}

/// "14:30", "9:05".
pub fn written_clock(t: DateTime<Tz>) -> String {
    format!("{}:{:02}", t.hour(), t.minute())
}

/// "Dienstag, 8. Dezember 2026, 14:30 Uhr".
pub fn written_moment(t: DateTime<Utc>, tz: Tz) -> String {
    let local = t.with_timezone(&tz);
    format!("{}, {} Uhr", written_date(local), written_clock(local))
}

/// "Dienstag, 8. Dezember 2026, 14:30 bis 15:00 Uhr" (both dates when it ends on another day).
pub fn written_span(start: DateTime<Utc>, end: DateTime<Utc>, tz: Tz) -> String {
    let (s, e) = (start.with_timezone(&tz), end.with_timezone(&tz));
    if s.date_naive() == e.date_naive() {
        format!("{}, {} bis {} Uhr", written_date(s), written_clock(s), written_clock(e))
    } else {
        format!("{} bis {}", written_moment(start, tz), written_moment(end, tz))
    }
}

/// "15 €", "12,50 €".
pub fn euros(amount: f64) -> String {
    if amount.fract() == 0.0 {
        format!("{amount:.0} €")
    } else {
        format!("{amount:.2} €").replace('.', ",")
    }
}

/// "1 Stunde", "24 Stunden".
fn hours(n: u32) -> String {
    if n == 1 {
        "1 Stunde".into()
    } else {
        format!("{n} Stunden")
    }
}

/// A notice and the names it is told with.
#[derive(Debug, Clone, PartialEq)]
pub struct NoticeFacts<'a> {
    pub notice: &'a AppointmentNotice,
    pub company: String,
    pub service: String,
    pub branch: String,
    pub address: Option<String>,
    pub staff: Option<String>,
    /// The company's rules for moving and cancelling (when it has a booking setup).
    pub policy: Option<BookingPolicy>,
}

impl<'a> NoticeFacts<'a> {
    pub fn resolve(notice: &'a AppointmentNotice, tenant: &Tenant) -> Self {
        let a = &notice.appointment;
        let setup = tenant.appointments.as_ref();
        let branch = setup.and_then(|s| s.branch(&a.branch_id));
        let staff = a.staff_id.as_ref().map(|id| {
            setup
                .and_then(|s| s.staff_member(&StaffId(id.clone())))
                .map_or_else(|| id.clone(), |m| m.name.clone())
        });
        Self {
            notice,
            company: tenant.config.name.clone(),
            service: setup
                .and_then(|s| s.service(&a.service_id))
                .map_or_else(|| a.service_id.to_string(), |s| s.name.clone()),
            branch: branch.map_or_else(|| a.branch_id.to_string(), |b| b.name.clone()),
            address: branch.and_then(|b| b.address.clone()),
            staff,
            policy: setup.map(|s| s.policy.clone()),
        }
    }

    /// The zone the appointment was booked in (its branch's).
    pub fn tz(&self) -> Tz {
        self.notice.appointment.time_zone.tz()
    }

    /// When it is (after the change): "Dienstag, 8. Dezember 2026, 14:30 bis 15:00 Uhr".
    pub fn when(&self) -> String {
        let a = &self.notice.appointment;
        written_span(a.start, a.end, self.tz())
    }

    /// When it was before a move.
    pub fn before(&self) -> Option<String> {
        self.notice.previous.map(|p| written_span(p.start, p.end, self.tz()))
    }

    /// "Physiotherapie am Lister Platz, Lister Platz 3, 30163 Hannover".
    pub fn place(&self) -> String {
        match &self.address {
            Some(address) if !address.trim().is_empty() => format!("{}, {address}", self.branch),
            _ => self.branch.clone(),
        }
    }

    /// The fee the company's policy puts on this move or cancellation (made at `occurred_at`,
    /// so many hours before the appointment's time then): what the agent read out.
    pub fn late_fee(&self) -> Option<f64> {
        let n = self.notice;
        let was = match n.event {
            NoticeEvent::Booked => return None,
            NoticeEvent::Rescheduled => n.previous?.start,
            NoticeEvent::Cancelled => n.appointment.start,
        };
        let hours_before = (was - n.occurred_at).num_minutes() as f64 / 60.0;
        self.policy.as_ref()?.fee_for(hours_before)
    }

    /// How to move or cancel and what it costs late, as sentences: "Möchten Sie den Termin
    /// verschieben oder absagen? Rufen Sie uns bitte an.", the notice hours, the fee tiers.
    pub fn change_rules(&self) -> Vec<String> {
        let mut out = vec!["Möchten Sie den Termin verschieben oder absagen? Rufen Sie uns bitte an.".to_string()];
        let Some(policy) = &self.policy else {
            return out;
        };
        let (move_by, cancel_by) = (policy.reschedule_notice_hours, policy.cancel_notice_hours);
        if move_by == cancel_by && move_by > 0 {
            out.push(format!(
                "Telefonisch verschieben oder absagen können Sie bis {} vor dem Termin.",
                hours(move_by)
            ));
        } else if move_by > 0 || cancel_by > 0 {
            out.push(format!(
                "Telefonisch verschieben können Sie bis {}, absagen bis {} vor dem Termin.",
                hours(move_by),
                hours(cancel_by)
            ));
        }
        let mut tiers: Vec<_> = policy.fees.iter().filter(|t| t.fee_eur > 0.0).collect();
        tiers.sort_by_key(|t| std::cmp::Reverse(t.within_hours));
        let parts: Vec<String> = tiers
            .iter()
            .enumerate()
            .map(|(i, t)| {
                if i == 0 {
                    format!(
                        "weniger als {} vor dem Termin berechnen wir {}",
                        hours(t.within_hours),
                        euros(t.fee_eur)
                    )
                } else {
                    format!("weniger als {} vorher {}", hours(t.within_hours), euros(t.fee_eur))
                }
            })
            .collect();
        if !parts.is_empty() {
            out.push(format!("Für eine Absage oder Verschiebung {}.", parts.join(", ")));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use chrono_tz::Europe::Berlin;

    #[test]
    fn dates_and_times_are_written_out_in_the_zone() {
        let t = Utc.with_ymd_and_hms(2026, 12, 8, 13, 30, 0).unwrap();
        assert_eq!(written_moment(t, Berlin), "Dienstag, 8. Dezember 2026, 14:30 Uhr");
        let summer = Utc.with_ymd_and_hms(2027, 3, 29, 7, 5, 0).unwrap();
        assert_eq!(written_moment(summer, Berlin), "Montag, 29. März 2027, 9:05 Uhr");
        assert_eq!(
            written_span(t, t + chrono::TimeDelta::minutes(30), Berlin),
            "Dienstag, 8. Dezember 2026, 14:30 bis 15:00 Uhr"
        );
        let late = Utc.with_ymd_and_hms(2026, 12, 8, 22, 30, 0).unwrap();
        assert_eq!(
            written_span(late, late + chrono::TimeDelta::hours(1), Berlin),
            "Dienstag, 8. Dezember 2026, 23:30 Uhr bis Mittwoch, 9. Dezember 2026, 0:30 Uhr"
        );
    }

    #[test]
    fn euros_are_written_the_german_way() {
        assert_eq!(euros(15.0), "15 €");
        assert_eq!(euros(12.5), "12,50 €");
    }
}
