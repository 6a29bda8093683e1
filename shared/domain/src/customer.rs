//! Customers of a company (the people and firms that call), imported by operators and matched
//! by enrichment.

use serde::{Deserialize, Serialize};

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
        default_region: &str,
    ) -> Result<Customer, String> {
        let name = non_empty(Some(name)).ok_or("name is empty")?;
        let phone = match non_empty(Some(phone)) {
            Some(p) => Some(to_e164(&p, default_region).ok_or_else(|| format!("phone '{p}' is not a valid number"))?),
            None => None,
        };
        let email = match non_empty(Some(email)) {
            Some(e) if crate::validate::is_valid_email(&e) => Some(e.to_lowercase()),
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
        let c = Customer::from_fields("Jonas Weber", "0511 87654321", "J.W@x.example", "Brandt", "K-1", "DE").unwrap();
        assert_eq!(
            (c.customer_id.as_str(), c.phone.as_deref()),
            ("ext-K-1", Some("+4951187654321"))
        );
        assert_eq!(c.email.as_deref(), Some("j.w@x.example"));
        let c = Customer::from_fields("Jonas", "0511 87654321", "", "", "", "DE").unwrap();
        assert_eq!(c.customer_id, "tel-4951187654321");
        let c = Customer::from_fields("Jonas", "", "j@x.example", "", "", "DE").unwrap();
        assert_eq!(c.customer_id, "mail-j@x.example");
    }

    #[test]
    fn bad_fields_are_named() {
        assert!(
            Customer::from_fields("", "", "", "", "K", "DE")
                .unwrap_err()
                .contains("name")
        );
        assert!(
            Customer::from_fields("A", "12", "", "", "", "DE")
                .unwrap_err()
                .contains("phone")
        );
        assert!(
            Customer::from_fields("A", "", "nope", "", "", "DE")
                .unwrap_err()
                .contains("e-mail")
        );
        assert!(Customer::from_fields("A", "", "", "Firma", "", "DE").is_err());
    }
}
