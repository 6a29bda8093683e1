//! A company's pricing and the exchange-rate table, in its tenant document (`company.billing`).

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// What 1 unit of `currency` is worth in EUR from `valid_from` (a day in the company's time zone)
/// until the next entry of the same currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExchangeRate {
    /// ISO 4217, upper case (Retell bills `USD`).
    pub currency: String,
    pub valid_from: NaiveDate,
    pub eur: Decimal,
}

/// A company's pricing, in EUR, and the exchange rates its external costs are converted with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Billing {
    /// The platform's price per minute of call, billed per second.
    pub price_per_minute: Decimal,
    /// The platform's price for a call that became a service case.
    #[serde(default)]
    pub price_per_case: Decimal,
    /// Charged once per month in which the company is billed.
    #[serde(default)]
    pub monthly_base_fee: Decimal,
    /// When a reseller sells the service: its margin on the platform's price, in percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reseller_margin_percent: Option<Decimal>,
    /// Dated rates, any order.
    #[serde(default)]
    pub exchange_rates: Vec<ExchangeRate>,
}

/// Currencies external costs arrive in. Retell bills in US dollars.
pub const PROVIDER_CURRENCY: &str = "USD";

impl Billing {
    /// The rate of `currency` that applies on `day`: the latest entry valid from that day or before.
    pub fn rate_on(&self, currency: &str, day: NaiveDate) -> Option<Decimal> {
        self.exchange_rates
            .iter()
            .filter(|r| r.currency == currency && r.valid_from <= day)
            .max_by_key(|r| r.valid_from)
            .map(|r| r.eur)
    }

    /// Every problem with the section, as (path below `company.billing`, message).
    pub fn issues(&self) -> Vec<(String, String)> {
        let mut issues = Vec::new();
        let mut money = |path: &str, v: Decimal| {
            if v.is_sign_negative() {
                issues.push((path.to_string(), "must not be negative".to_string()));
            } else if v.scale() > 4 {
                issues.push((path.to_string(), "at most 4 decimal places".to_string()));
            }
        };
        money("price_per_minute", self.price_per_minute);
        money("price_per_case", self.price_per_case);
        money("monthly_base_fee", self.monthly_base_fee);
        if let Some(m) = self.reseller_margin_percent
            && (m.is_sign_negative() || m > Decimal::ONE_HUNDRED)
        {
            issues.push(("reseller_margin_percent".into(), "must be between 0 and 100".into()));
        }
        if !self.exchange_rates.iter().any(|r| r.currency == PROVIDER_CURRENCY) {
            issues.push((
                "exchange_rates".into(),
                format!("needs at least one {PROVIDER_CURRENCY} rate (Retell bills in {PROVIDER_CURRENCY})"),
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for (i, r) in self.exchange_rates.iter().enumerate() {
            let path = format!("exchange_rates[{i}]");
            if r.currency.len() != 3 || !r.currency.bytes().all(|b| b.is_ascii_uppercase()) {
                issues.push((
                    format!("{path}.currency"),
                    format!("'{}' is not an ISO 4217 code like USD", r.currency),
                ));
            }
            if r.eur <= Decimal::ZERO {
                issues.push((format!("{path}.eur"), "must be greater than 0".into()));
            }
            if !seen.insert((r.currency.clone(), r.valid_from)) {
                issues.push((
                    format!("{path}.valid_from"),
                    format!("{} has two rates valid from {}", r.currency, r.valid_from),
                ));
            }
        }
        issues
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn billing(yaml: &str) -> Billing {
        serde_norway::from_str(yaml).unwrap()
    }

    #[test]
    fn the_rate_of_the_calls_day_applies() {
        let b = billing(
            "price_per_minute: 0.20\nexchange_rates:\n  - {currency: USD, valid_from: 2026-11-16, eur: 0.87}\n  - {currency: USD, valid_from: 2026-11-01, eur: 0.86}\n",
        );
        let day = |d: &str| d.parse::<NaiveDate>().unwrap();
        assert_eq!(b.rate_on("USD", day("2026-10-31")), None);
        assert_eq!(b.rate_on("USD", day("2026-11-01")), Some("0.86".parse().unwrap()));
        assert_eq!(b.rate_on("USD", day("2026-11-15")), Some("0.86".parse().unwrap()));
        assert_eq!(b.rate_on("USD", day("2026-11-16")), Some("0.87".parse().unwrap()));
        assert_eq!(b.rate_on("GBP", day("2026-11-16")), None);
        assert!(b.issues().is_empty(), "{:?}", b.issues());
        // YAML numbers arrive as the decimal written (no binary float residue).
        assert_eq!(b.price_per_minute, "0.2".parse::<Decimal>().unwrap());
        assert_eq!(b.exchange_rates[0].eur.to_string(), "0.87");
    }

    #[test]
    fn problems_are_named_by_field() {
        let b = billing(
            "price_per_minute: -1\nprice_per_case: 0.123456\nreseller_margin_percent: 120\nexchange_rates:\n  - {currency: usd, valid_from: 2026-11-01, eur: 0}\n  - {currency: usd, valid_from: 2026-11-01, eur: 0.9}\n",
        );
        let paths: Vec<String> = b.issues().into_iter().map(|(p, _)| p).collect();
        assert_eq!(
            paths,
            [
                "price_per_minute",
                "price_per_case",
                "reseller_margin_percent",
                "exchange_rates",
                "exchange_rates[0].currency",
                "exchange_rates[0].eur",
                "exchange_rates[1].currency",
                "exchange_rates[1].valid_from",
            ]
        );
    }
}
