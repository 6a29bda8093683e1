//! Which service, staff member and branch the caller means, from what the agent wrote down:
//! ids, names and synonyms, forgiving spelling (speech-to-text) but never guessing between two.

use strsim::jaro_winkler;

use crate::appointments::calendar::slots::StaffId;
use crate::appointments::desk::reply::Reply;
use crate::appointments::setup::{Appointments, Branch, Service};
use crate::appointments::speech::speak::join_oder;
use crate::text::normalize;

/// How close a misspelt name must be to count (Jaro-Winkler on the normalised words).
const FUZZY_AT_LEAST: f64 = 0.88;

/// Words that mean "anyone is fine".
const ANYONE: &[&str] = &[
    "egal",
    "beliebig",
    "keine",
    "keiner",
    "niemand",
    "any",
    "anyone",
    "none",
    "keine praeferenz",
    "ist egal",
    "irgendwer",
];

fn service_names(setup: &Appointments) -> Vec<String> {
    setup.services.iter().map(|s| s.name.clone()).collect()
}

fn offered(setup: &Appointments) -> String {
    join_oder(&service_names(setup))
}

/// How well `said` names something called `names` (0 = not at all).
fn score(said: &str, names: &[&str]) -> f64 {
    let said = normalize(said);
    names
        .iter()
        .map(|name| {
            let name = normalize(name);
            if name.is_empty() {
                0.0
            } else if name == said {
                3.0
            } else if said.len() >= 4 && (name.contains(&said) || said.contains(&name)) {
                2.0
            } else {
                let s = jaro_winkler(&said, &name);
                if s >= FUZZY_AT_LEAST { s } else { 0.0 }
            }
        })
        .fold(0.0, f64::max)
}

/// The single best match, or `None` when nothing matches or two match equally well.
fn best<'a, T>(items: &'a [T], said: &str, names: impl Fn(&T) -> Vec<&str>) -> Option<&'a T> {
    let mut scored: Vec<(f64, &T)> = items
        .iter()
        .map(|i| (score(said, &names(i)), i))
        .filter(|(s, _)| *s > 0.0)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    match scored.as_slice() {
        [(first, item), (second, _), ..] if first > second => Some(item),
        [(_, item)] => Some(item),
        _ => None,
    }
}

/// The service the caller means; with only one service, that one.
pub fn service<'a>(setup: &'a Appointments, said: Option<&str>) -> Result<&'a Service, Reply> {
    let Some(said) = said else {
        return match setup.services.as_slice() {
            [only] => Ok(only),
            _ => Err(Reply::question(format!(
                "Für welche Leistung möchten Sie einen Termin? Wir bieten {} an.",
                offered(setup)
            ))
            .with("field", "service")
            .with("services", service_names(setup))),
        };
    };
    if let Some(by_id) = setup.services.iter().find(|s| s.id.as_str().eq_ignore_ascii_case(said)) {
        return Ok(by_id);
    }
    best(&setup.services, said, |s| {
        std::iter::once(s.name.as_str())
            .chain(s.synonyms.iter().map(String::as_str))
            .collect()
    })
    .ok_or_else(|| {
        Reply::question(format!(
            "Welche Leistung meinen Sie genau? Wir bieten {} an.",
            offered(setup)
        ))
        .with("field", "service")
        .with("services", service_names(setup))
    })
}

/// The staff member the caller prefers (`None`: anyone who offers the service).
pub fn staff(setup: &Appointments, service: &Service, said: Option<&str>) -> Result<Option<StaffId>, Reply> {
    let Some(said) = said.filter(|s| !ANYONE.contains(&normalize(s).as_str())) else {
        return Ok(None);
    };
    let team: Vec<_> = setup
        .staff
        .iter()
        .filter(|m| service.staff.is_empty() || service.staff.contains(&m.id))
        .collect();
    let names: Vec<String> = team.iter().map(|m| m.name.clone()).collect();
    let found = team
        .iter()
        .find(|m| m.id.0.eq_ignore_ascii_case(said))
        .or_else(|| best(&team, said, |m| vec![m.name.as_str(), m.id.0.as_str()]));
    match found {
        Some(member) => Ok(Some(member.id.clone())),
        None if names.is_empty() => Ok(None),
        None => Err(Reply::question(format!(
            "Für {} haben wir {}. Bei wem möchten Sie den Termin, oder ist es Ihnen egal?",
            service.name,
            crate::appointments::speech::speak::join_with(&names, "und")
        ))
        .with("field", "staff")
        .with("staff", names)),
    }
}

/// The branch a caller asks about; the first one when none is named or it is not recognised.
pub fn branch<'a>(setup: &'a Appointments, said: Option<&str>) -> Option<&'a Branch> {
    said.and_then(|s| {
        setup
            .branches
            .iter()
            .find(|b| b.id.as_str().eq_ignore_ascii_case(s))
            .or_else(|| best(&setup.branches, s, |b| vec![b.name.as_str()]))
    })
    .or_else(|| setup.branches.first())
}

/// The name of a staff member by id, for sentences.
pub fn staff_name<'a>(setup: &'a Appointments, id: Option<&str>) -> Option<&'a str> {
    let id = id?;
    setup.staff.iter().find(|m| m.id.0 == id).map(|m| m.name.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::appointments::desk::tests::praxis;

    #[test]
    fn services_by_id_name_synonym_and_misspelling() {
        let setup = praxis();
        let id = |said: &str| service(&setup, Some(said)).map(|s| s.id.to_string()).ok();
        assert_eq!(id("krankengymnastik").as_deref(), Some("krankengymnastik"));
        assert_eq!(id("KG").as_deref(), Some("krankengymnastik"));
        assert_eq!(id("Physiotherapie").as_deref(), Some("krankengymnastik"));
        assert_eq!(id("Krankengymnastick").as_deref(), Some("krankengymnastik"));
        assert_eq!(id("eine Erstberatung").as_deref(), Some("erstbefund"));
        assert_eq!(id("Hausbesuch").as_deref(), Some("hausbesuch"));
        assert_eq!(id("Massage"), None);
        let asked = service(&setup, None).unwrap_err();
        assert!(asked.message.starts_with("Für welche Leistung"), "{}", asked.message);
    }

    #[test]
    fn staff_by_name_or_anyone() {
        let setup = praxis();
        let kg = setup
            .services
            .iter()
            .find(|s| s.id.as_str() == "krankengymnastik")
            .unwrap();
        assert_eq!(
            staff(&setup, kg, Some("Frau Weber")).unwrap(),
            Some(StaffId("weber".into()))
        );
        assert_eq!(staff(&setup, kg, Some("weber")).unwrap(), Some(StaffId("weber".into())));
        assert_eq!(
            staff(&setup, kg, Some("Herrn Yilmaz")).unwrap(),
            Some(StaffId("yilmaz".into()))
        );
        assert_eq!(staff(&setup, kg, Some("egal")).unwrap(), None);
        let asked = staff(&setup, kg, Some("Dr. Müller")).unwrap_err();
        assert_eq!(
            asked.message,
            "Für Krankengymnastik haben wir Frau Weber und Herr Yilmaz. Bei wem möchten Sie den Termin, oder ist es Ihnen egal?"
        );
    }
}
