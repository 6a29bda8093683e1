//! Classification: weighted German/English keyword scoring (whole word, compound part,
//! substring), the category of a case, and the intent of a hybrid company's call.

use crate::case::CategoryMatch;
use crate::tenancy::tenant::{Category, FallbackMode, GatewayMode, Keyword, Tenant};
use crate::text::normalize;

const WHOLE_WORD: f64 = 1.0;
const COMPOUND_PART: f64 = 0.7;
const SUBSTRING: f64 = 0.3;

/// Text normalised once and reused for every keyword.
pub struct Normalized {
    /// Words joined by single spaces, padded with a space on both sides.
    padded: String,
}

impl Normalized {
    pub fn new(text: &str) -> Self {
        Self {
            padded: format!(" {} ", normalize(text)),
        }
    }

    fn words(&self) -> impl Iterator<Item = &str> {
        self.padded.split(' ').filter(|w| !w.is_empty())
    }

    /// The score of one keyword: weight × the best match type found.
    pub fn keyword_score(&self, keyword: &Keyword) -> f64 {
        let term = normalize(&keyword.term);
        if term.is_empty() {
            return 0.0;
        }
        let factor = if self.padded.contains(&format!(" {term} ")) {
            WHOLE_WORD
        } else if !term.contains(' ')
            && self
                .words()
                .any(|w| w.len() > term.len() && (w.starts_with(&term) || w.ends_with(&term)))
        {
            // German compounds: "Druckerproblem", "Netzwerkdrucker".
            COMPOUND_PART
        } else if term.len() > 3 && self.padded.contains(&term) {
            SUBSTRING
        } else {
            return 0.0;
        };
        keyword.effective_weight() * factor
    }

    pub fn score(&self, keywords: &[Keyword]) -> f64 {
        keywords.iter().map(|k| self.keyword_score(k)).sum()
    }
}

/// The category chosen for a case, and how.
#[derive(Debug, Clone, PartialEq)]
pub struct CategoryChoice {
    pub slug: String,
    pub how: CategoryMatch,
    pub score: f64,
}

/// Chooses a category: the flow-supplied slug first (`other` falls through), then the best
/// keyword score at or above the category's threshold, then the company default. `None` is fine.
pub fn choose_category(tenant: &Tenant, flow_slug: Option<&str>, text: &str) -> Option<CategoryChoice> {
    let active: Vec<&Category> = tenant.categories.iter().filter(|c| c.active).collect();
    if let Some(slug) = flow_slug
        .map(normalize)
        .filter(|s| !s.is_empty() && s != "other" && s != "sonstiges")
    {
        let by_slug = active.iter().find(|c| normalize(&c.slug) == slug);
        let by_name = || active.iter().find(|c| normalize(&c.name).contains(&slug));
        if let Some(c) = by_slug.or_else(by_name) {
            return Some(CategoryChoice {
                slug: c.slug.clone(),
                how: CategoryMatch::FlowSlug,
                score: 1.0,
            });
        }
    }
    let normalized = Normalized::new(text);
    let best = active
        .iter()
        .map(|c| (c, normalized.score(&c.keywords)))
        .filter(|(c, score)| *score > 0.0 && *score >= c.threshold)
        .max_by(|a, b| a.1.total_cmp(&b.1));
    if let Some((c, score)) = best {
        return Some(CategoryChoice {
            slug: c.slug.clone(),
            how: CategoryMatch::Keywords,
            score,
        });
    }
    active.iter().find(|c| c.is_default).map(|c| CategoryChoice {
        slug: c.slug.clone(),
        how: CategoryMatch::CompanyDefault,
        score: 0.0,
    })
}

/// What a call is about, as far as the gateway is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intent {
    Appointment,
    ServiceDesk,
}

/// The result of resolving a call's mode, with the evidence for the audit trail.
#[derive(Debug, Clone, PartialEq)]
pub struct ModeDecision {
    pub intent: Intent,
    /// `explicit`, `configured`, `keywords` or `fallback`.
    pub basis: &'static str,
    pub confidence: f64,
}

fn kw(list: &[(&str, f64)]) -> Vec<Keyword> {
    list.iter().map(|(t, w)| Keyword::new(t, *w)).collect()
}

fn appointment_keywords() -> Vec<Keyword> {
    kw(&[
        ("termin", 1.0),
        ("terminvereinbarung", 1.0),
        ("buchen", 0.8),
        ("buchung", 0.8),
        ("vereinbaren", 0.6),
        ("verschieben", 0.6),
        ("absagen", 0.6),
        ("stornieren", 0.6),
        ("reservieren", 0.6),
        ("beratungstermin", 1.0),
        ("haarschnitt", 1.0),
        ("appointment", 1.0),
        ("book", 0.6),
        ("reschedule", 0.8),
        ("cancel", 0.5),
        ("freien termin", 1.0),
    ])
}

fn service_keywords() -> Vec<Keyword> {
    kw(&[
        ("problem", 0.8),
        ("stoerung", 1.0),
        ("fehler", 0.8),
        ("fehlermeldung", 1.0),
        ("defekt", 0.8),
        ("kaputt", 0.8),
        ("funktioniert nicht", 1.0),
        ("geht nicht", 0.8),
        ("ausgefallen", 1.0),
        ("ausfall", 1.0),
        ("drucker", 0.6),
        ("druckt", 0.6),
        ("passwort", 0.6),
        ("gesperrt", 0.6),
        ("netzwerk", 0.6),
        ("internet", 0.6),
        ("wlan", 0.6),
        ("vpn", 0.6),
        ("server", 0.5),
        ("outlook", 0.5),
        ("email", 0.4),
        ("ticket", 0.8),
        ("support", 0.6),
        ("hilfe", 0.4),
        ("virus", 0.8),
        ("phishing", 0.8),
        ("broken", 0.8),
        ("error", 0.8),
        ("not working", 1.0),
        ("issue", 0.6),
        ("down", 0.5),
        ("outage", 1.0),
    ])
}

/// Resolves the mode of one call for a company: configured modes win; hybrid uses an explicit
/// intent field when present, else keyword scoring with a threshold, else the fallback.
pub fn resolve_mode(tenant: &Tenant, explicit_intent: Option<&str>, text: &str) -> ModeDecision {
    match tenant.config.mode {
        GatewayMode::Appointment => {
            return ModeDecision {
                intent: Intent::Appointment,
                basis: "configured",
                confidence: 1.0,
            };
        }
        GatewayMode::ServiceDesk => {
            return ModeDecision {
                intent: Intent::ServiceDesk,
                basis: "configured",
                confidence: 1.0,
            };
        }
        GatewayMode::Hybrid => {}
    }
    if let Some(intent) = explicit_intent.and_then(parse_intent) {
        return ModeDecision {
            intent,
            basis: "explicit",
            confidence: 1.0,
        };
    }
    let normalized = Normalized::new(text);
    let appointment = normalized.score(&appointment_keywords());
    let category_keywords: Vec<Keyword> = tenant
        .categories
        .iter()
        .flat_map(|c| c.keywords.iter().cloned())
        .map(|k| Keyword {
            weight: Some(k.effective_weight() * 1.5),
            ..k
        })
        .collect();
    let service = normalized.score(&service_keywords()) + normalized.score(&category_keywords);
    let total = appointment + service;
    if total > 0.0 {
        let (intent, winner) = if service >= appointment {
            (Intent::ServiceDesk, service)
        } else {
            (Intent::Appointment, appointment)
        };
        let confidence = winner / total;
        if confidence >= tenant.config.intent_threshold {
            return ModeDecision {
                intent,
                basis: "keywords",
                confidence,
            };
        }
    }
    let intent = match tenant.config.hybrid_fallback_mode {
        FallbackMode::Appointment => Intent::Appointment,
        FallbackMode::ServiceDesk => Intent::ServiceDesk,
    };
    ModeDecision {
        intent,
        basis: "fallback",
        confidence: 0.0,
    }
}

/// Reads an intent value the agent's post-call analysis may carry (German or English).
pub fn parse_intent(value: &str) -> Option<Intent> {
    match normalize(value).replace(' ', "_").as_str() {
        "service_desk" | "servicedesk" | "service" | "support" | "ticket" | "incident" | "stoerung"
        | "stoerungsmeldung" | "problem" => Some(Intent::ServiceDesk),
        "appointment" | "termin" | "booking" | "buchung" | "terminbuchung" => Some(Intent::Appointment),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tenancy::tenant::CompanyConfig;

    fn it_tenant(mode: GatewayMode) -> Tenant {
        let cat = |slug: &str, name: &str, kws: &[(&str, f64)], default: bool| Category {
            slug: slug.into(),
            name: name.into(),
            keywords: kw(kws),
            threshold: 0.5,
            is_default: default,
            ..Default::default()
        };
        Tenant {
            config: CompanyConfig {
                company_id: "c1".into(),
                mode,
                ..Default::default()
            },
            categories: vec![
                cat(
                    "network",
                    "Netzwerk & Internet",
                    &[("wlan", 1.0), ("internet", 1.0), ("netzwerk", 1.0), ("vpn", 1.0)],
                    false,
                ),
                cat(
                    "print",
                    "Drucker",
                    &[("drucker", 1.0), ("druckt", 1.0), ("toner", 0.8)],
                    false,
                ),
                cat(
                    "identity",
                    "Konten & Passwörter",
                    &[("passwort", 1.0), ("gesperrt", 0.8), ("anmeldung", 0.8)],
                    false,
                ),
                cat(
                    "m365",
                    "Microsoft 365",
                    &[("outlook", 1.0), ("teams", 1.0), ("sharepoint", 1.0)],
                    false,
                ),
                cat("other", "Sonstiges", &[], true),
            ],
            ..Default::default()
        }
    }

    #[test]
    fn keyword_match_types_weigh_differently() {
        let k = Keyword::new("drucker", 1.0);
        assert_eq!(Normalized::new("Der Drucker streikt").keyword_score(&k), 1.0);
        assert_eq!(Normalized::new("Unser Netzwerkdrucker streikt").keyword_score(&k), 0.7);
        assert_eq!(Normalized::new("Druckerproblem im Büro").keyword_score(&k), 0.7);
        assert!((Normalized::new("xdruckerx").keyword_score(&k) - 0.3).abs() < 1e-9);
        assert_eq!(Normalized::new("Der Bildschirm flackert").keyword_score(&k), 0.0);
        // Short keywords never match as a plain substring.
        assert_eq!(
            Normalized::new("TEAMSITZUNG").keyword_score(&Keyword::new("vpn", 1.0)),
            0.0
        );
    }

    #[test]
    fn umlauts_are_folded_on_both_sides() {
        let k = Keyword::new("Störung", 1.0);
        assert_eq!(Normalized::new("eine STOERUNG im Netz").keyword_score(&k), 1.0);
        assert_eq!(Normalized::new("Netzwerkstörung seit heute").keyword_score(&k), 0.7);
        let t = it_tenant(GatewayMode::ServiceDesk);
        let choice = choose_category(
            &t,
            None,
            "Mein Passwort für die Anmeldung ist gesperrt, ich komme nicht rein",
        )
        .unwrap();
        assert_eq!(choice.slug, "identity");
        let choice = choose_category(&t, None, "Ich kann mich nicht anmelden, Konto gesperrt, Passwörter?").unwrap();
        assert_eq!(choice.slug, "identity");
    }

    #[test]
    fn category_from_compound_words() {
        let t = it_tenant(GatewayMode::ServiceDesk);
        let c = choose_category(&t, None, "Das WLAN-Netz im Büro ist weg, kein Internetzugang").unwrap();
        assert_eq!((c.slug.as_str(), c.how), ("network", CategoryMatch::Keywords));
        let c = choose_category(&t, None, "Der Etagendrucker zeigt Fehler C6000").unwrap();
        assert_eq!(c.slug, "print");
    }

    #[test]
    fn flow_slug_wins_and_other_falls_through() {
        let t = it_tenant(GatewayMode::ServiceDesk);
        let c = choose_category(&t, Some("m365"), "Drucker kaputt").unwrap();
        assert_eq!((c.slug.as_str(), c.how), ("m365", CategoryMatch::FlowSlug));
        let c = choose_category(&t, Some("Drucker"), "irgendwas").unwrap();
        assert_eq!(c.slug, "print", "slug may name the category instead");
        let c = choose_category(&t, Some("other"), "Der Drucker druckt nicht").unwrap();
        assert_eq!((c.slug.as_str(), c.how), ("print", CategoryMatch::Keywords));
    }

    #[test]
    fn no_match_uses_the_default_and_none_is_not_an_error() {
        let mut t = it_tenant(GatewayMode::ServiceDesk);
        let c = choose_category(&t, None, "Die Kaffeemaschine ist leer").unwrap();
        assert_eq!((c.slug.as_str(), c.how), ("other", CategoryMatch::CompanyDefault));
        t.categories.retain(|c| !c.is_default);
        assert_eq!(choose_category(&t, None, "Die Kaffeemaschine ist leer"), None);
    }

    #[test]
    fn hybrid_detects_german_service_desk_calls() {
        let t = it_tenant(GatewayMode::Hybrid);
        let d = resolve_mode(
            &t,
            None,
            "Hallo, unser Drucker funktioniert nicht mehr, es kommt eine Fehlermeldung.",
        );
        assert_eq!((d.intent, d.basis), (Intent::ServiceDesk, "keywords"));
        let d = resolve_mode(
            &t,
            None,
            "Seit heute früh haben wir eine Störung im WLAN, niemand kommt ins Internet",
        );
        assert_eq!(d.intent, Intent::ServiceDesk);
        assert!(d.confidence > 0.9);
    }

    #[test]
    fn hybrid_detects_german_appointment_calls() {
        let t = it_tenant(GatewayMode::Hybrid);
        let d = resolve_mode(
            &t,
            None,
            "Guten Tag, ich möchte gern einen Termin für nächste Woche vereinbaren.",
        );
        assert_eq!((d.intent, d.basis), (Intent::Appointment, "keywords"));
        let d = resolve_mode(&t, None, "Kann ich meinen Beratungstermin am Freitag verschieben?");
        assert_eq!(d.intent, Intent::Appointment);
    }

    #[test]
    fn hybrid_falls_back_when_unclear_and_honours_explicit_intent() {
        let mut t = it_tenant(GatewayMode::Hybrid);
        t.config.hybrid_fallback_mode = FallbackMode::Appointment;
        let d = resolve_mode(&t, None, "Guten Tag, hier ist Frau Meier.");
        assert_eq!((d.intent, d.basis), (Intent::Appointment, "fallback"));
        // A mixed call below the threshold also falls back.
        t.config.intent_threshold = 0.9;
        let d = resolve_mode(&t, None, "Ich brauche einen Termin, weil der Drucker kaputt ist");
        assert_eq!(d.basis, "fallback");
        let d = resolve_mode(&t, Some("Störung"), "Termin Termin Termin");
        assert_eq!((d.intent, d.basis), (Intent::ServiceDesk, "explicit"));
    }

    #[test]
    fn configured_modes_skip_detection() {
        let t = it_tenant(GatewayMode::Appointment);
        assert_eq!(
            resolve_mode(&t, Some("service_desk"), "Drucker kaputt").intent,
            Intent::Appointment
        );
        let t = it_tenant(GatewayMode::ServiceDesk);
        assert_eq!(resolve_mode(&t, None, "Termin buchen").intent, Intent::ServiceDesk);
    }
}
