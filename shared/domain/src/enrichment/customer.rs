//! Customers of a company (the people and firms that call), imported by operators and matched
//! by enrichment.

use serde::{Deserialize, Serialize};

use crate::locale::Region;
use crate::phone::to_e164;
use crate::text::non_empty;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    /// Stable id: from the external id, else the phone number, else the e-mail address, so a
    /// re-import updates instead of duplicating.
    pub customer_id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
}

impl Customer {
    /// Builds a customer from raw fields; the error says which field is wrong.
    pub fn from_fields(
        name: &str,
        phone: &str,
        email: &str,
        company: &str,
        external_id: &str,
        default_region: Region,
    ) -> Result<Customer, String> {
        let name = non_empty(Some(name)).ok_or("name is empty")?;
        let phone = match non_empty(Some(phone)) {
            Some(p) => Some(to_e164(&p, default_region).ok_or_else(|| format!("phone '{p}' is not a valid number"))?),
            None => None,
        };
        let email = match non_empty(Some(email)) {
            Some(e) if crate::tenancy::validate::is_valid_email(&e) => Some(e.to_lowercase()),
            Some(e) => return Err(format!("e-mail '{e}' is not valid")),
            None => None,
        };
        let external_id = non_empty(Some(external_id));
        let customer_id = match (&external_id, &phone, &email) {
            (Some(x), _, _) => format!("ext-{x}"),
            (None, Some(p), _) => format!("tel-{}", p.trim_start_matches('+')),
            (None, None, Some(e)) => format!("mail-{e}"),
            (None, None, None) => return Err("needs at least an external id, a phone number or an e-mail".into()),
        };
        Ok(Customer {
            customer_id,
            name,
            phone,
            email,
            company: non_empty(Some(company)),
            external_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_prefers_external_id_then_phone_then_email() {
        let c = Customer::from_fields(
            "Jonas Weber",
            "0511 87654321",
            "J.W@x.example",
            "Brandt",
            "K-1",
            "DE".parse().unwrap(),
        )
        .unwrap();
        assert_eq!(
            (c.customer_id.as_str(), c.phone.as_deref()),
            ("ext-K-1", Some("+4951187654321"))
        );
        assert_eq!(c.email.as_deref(), Some("j.w@x.example"));
        let c = Customer::from_fields("Jonas", "0511 87654321", "", "", "", "DE".parse().unwrap()).unwrap();
        assert_eq!(c.customer_id, "tel-4951187654321");
        let c = Customer::from_fields("Jonas", "", "j@x.example", "", "", "DE".parse().unwrap()).unwrap();
        assert_eq!(c.customer_id, "mail-j@x.example");
    }

    #[test]
    fn bad_fields_are_named() {
        assert!(
            Customer::from_fields("", "", "", "", "K", "DE".parse().unwrap())
                .unwrap_err()
                .contains("name")
        );
        assert!(
            Customer::from_fields("A", "12", "", "", "", "DE".parse().unwrap())
                .unwrap_err()
                .contains("phone")
        );
        assert!(
            Customer::from_fields("A", "", "nope", "", "", "DE".parse().unwrap())
                .unwrap_err()
                .contains("e-mail")
        );
        assert!(Customer::from_fields("A", "", "", "Firma", "", "DE".parse().unwrap()).is_err());
    }
}

/// What the matcher may look at: the caller block of a case and the company's customers found
/// by phone and e-mail, plus all of them for name matching. Pure; the enrich function loads them.
pub struct MatchInput<'a> {
    pub agent_phone: Option<&'a str>,
    pub caller_id: Option<&'a str>,
    pub by_agent_phone: &'a [Customer],
    pub by_caller_id: &'a [Customer],
    pub by_email: &'a [Customer],
    pub caller_name: Option<&'a str>,
    pub caller_company: Option<&'a str>,
    pub all: &'a [Customer],
    pub name_threshold: f64,
}

/// Order: the agent-collected phone, the caller id, the e-mail, then the most similar name
/// (Jaro-Winkler on folded names, against the customer's and the customer company's name).
pub fn match_customer(input: &MatchInput<'_>) -> Option<crate::case::CustomerMatch> {
    use crate::case::{CustomerMatch, MatchKind};
    let first = |list: &[Customer]| list.iter().min_by(|a, b| a.customer_id.cmp(&b.customer_id)).cloned();
    let found = |c: Customer, kind, confidence| {
        Some(CustomerMatch {
            customer_id: c.customer_id,
            kind,
            confidence,
        })
    };
    if input.agent_phone.is_some()
        && let Some(c) = first(input.by_agent_phone)
    {
        return found(c, MatchKind::AgentPhone, 1.0);
    }
    if input.caller_id.is_some()
        && let Some(c) = first(input.by_caller_id)
    {
        return found(c, MatchKind::CallerId, 0.95);
    }
    if let Some(c) = first(input.by_email) {
        return found(c, MatchKind::Email, 0.85);
    }
    let names: Vec<String> = [input.caller_name, input.caller_company]
        .into_iter()
        .flatten()
        .map(crate::text::normalize)
        .filter(|n| n.chars().count() >= 3)
        .collect();
    if names.is_empty() {
        return None;
    }
    let score = |c: &Customer| {
        let candidates = [Some(c.name.as_str()), c.company.as_deref()];
        candidates
            .into_iter()
            .flatten()
            .map(crate::text::normalize)
            .flat_map(|cand| names.iter().map(move |n| strsim::jaro_winkler(n, &cand)))
            .fold(0.0_f64, f64::max)
    };
    let best = input
        .all
        .iter()
        .map(|c| (c, score(c)))
        .filter(|(_, s)| *s >= input.name_threshold)
        .max_by(|a, b| a.1.total_cmp(&b.1).then_with(|| b.0.customer_id.cmp(&a.0.customer_id)))?;
    // A name is weaker evidence than a number or an address.
    found(best.0.clone(), MatchKind::Name, (best.1 * 0.8 * 100.0).round() / 100.0)
}

/// The placeholder created for an unknown caller: `Unbekannt #4321` under their number.
pub fn unknown_caller(phone: &str) -> Customer {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    let last4 = &digits[digits.len().saturating_sub(4)..];
    Customer {
        customer_id: format!("tel-{digits}"),
        name: format!("Unbekannt #{last4}"),
        phone: Some(phone.to_string()),
        email: None,
        company: None,
        external_id: None,
    }
}

#[cfg(test)]
mod match_tests {
    use super::*;
    use crate::case::MatchKind;

    fn c(id: &str, name: &str, company: Option<&str>) -> Customer {
        Customer {
            customer_id: id.into(),
            name: name.into(),
            phone: None,
            email: None,
            company: company.map(Into::into),
            external_id: None,
        }
    }

    fn input<'a>(all: &'a [Customer]) -> MatchInput<'a> {
        MatchInput {
            agent_phone: None,
            caller_id: None,
            by_agent_phone: &[],
            by_caller_id: &[],
            by_email: &[],
            caller_name: None,
            caller_company: None,
            all,
            name_threshold: 0.88,
        }
    }

    #[test]
    fn rules_apply_in_order() {
        let (a, b, e) = (
            vec![c("a", "A", None)],
            vec![c("b", "B", None)],
            vec![c("e", "E", None)],
        );
        let all = [c("n", "Jonas Weber", None)];
        let mut i = input(&all);
        i.caller_name = Some("Jonas Weber");
        i.by_email = &e;
        i.by_caller_id = &b;
        i.caller_id = Some("+49");
        i.by_agent_phone = &a;
        i.agent_phone = Some("+49");
        assert_eq!(match_customer(&i).unwrap().kind, MatchKind::AgentPhone);
        i.agent_phone = None;
        assert_eq!(match_customer(&i).unwrap().kind, MatchKind::CallerId);
        i.caller_id = None;
        assert_eq!(match_customer(&i).unwrap().kind, MatchKind::Email);
        i.by_email = &[];
        let m = match_customer(&i).unwrap();
        assert_eq!((m.customer_id.as_str(), m.kind), ("n", MatchKind::Name));
        assert!(m.confidence <= 0.8);
    }

    #[test]
    fn german_names_match_across_umlaut_spellings() {
        let all = [
            c("1", "Jürgen Weiß", Some("Müller & Söhne GmbH")),
            c("2", "Jörg Weis", None),
        ];
        let mut i = input(&all);
        i.caller_name = Some("Juergen Weiss");
        assert_eq!(match_customer(&i).unwrap().customer_id, "1");
        i.caller_name = Some("Herr Unbekannt");
        i.caller_company = Some("Mueller und Soehne GmbH");
        assert_eq!(
            match_customer(&i).map(|m| m.customer_id),
            Some("1".into()),
            "company name counts"
        );
        i.caller_company = None;
        i.caller_name = Some("Ralf Schmidt");
        assert_eq!(match_customer(&i), None, "no similar name, no match");
        i.caller_name = Some("Jo");
        assert_eq!(match_customer(&i), None, "too short to compare");
    }

    #[test]
    fn unknown_caller_placeholder() {
        let u = unknown_caller("+4951187654321");
        assert_eq!(
            (u.customer_id.as_str(), u.name.as_str()),
            ("tel-4951187654321", "Unbekannt #4321")
        );
    }
}
