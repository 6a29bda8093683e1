//! One call's ledger entry: Retell's bill for it, and the EUR figures of its day.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::costs::billing::{Billing, PROVIDER_CURRENCY};
use crate::ids::{CallId, CompanyId};

/// A calendar month, `YYYY-MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    pub year: i32,
    pub month: u32,
}

impl Month {
    pub fn of(day: NaiveDate) -> Self {
        Self {
            year: day.year(),
            month: day.month(),
        }
    }

    /// The month before (December of the year before January).
    pub fn previous(self) -> Self {
        match self.month {
            1 => Self {
                year: self.year - 1,
                month: 12,
            },
            m => Self {
                year: self.year,
                month: m - 1,
            },
        }
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl FromStr for Month {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("'{s}' is not a month like 2026-11");
        let (y, m) = s.split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u32 = m.parse().map_err(|_| bad())?;
        if !(1..=12).contains(&month) {
            return Err(bad());
        }
        Ok(Self { year, month })
    }
}

impl Serialize for Month {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Month {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// One product line of Retell's bill.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductCost {
    pub product: String,
    /// US cents.
    pub cents: Decimal,
}

/// Retell's bill for a call (`call.call_cost`), in US cents as Retell states them (fractions of a
/// cent included). Its `telephony` product is the telephony provider's part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProviderCost {
    pub currency: String,
    /// Everything Retell charges for the call (`combined_cost`), telephony included.
    pub combined_cents: Decimal,
    /// The telephony products among them.
    pub telephony_cents: Decimal,
    pub products: Vec<ProductCost>,
    /// Billed duration (`total_duration_seconds`, else the call's `duration_ms`).
    pub duration_seconds: Decimal,
}

/// A JSON number as an exact decimal (as written: `0.1166667` stays `0.1166667`).
fn decimal(v: &Value) -> Option<Decimal> {
    match v {
        Value::Number(n) => {
            let text = n.to_string();
            Decimal::from_str(&text)
                .or_else(|_| Decimal::from_scientific(&text))
                .ok()
        }
        Value::String(s) => Decimal::from_str(s.trim()).ok(),
        _ => None,
    }
}

impl ProviderCost {
    /// Reads Retell's `call_cost`; `None` when there is none or it makes no sense (never an error:
    /// a bill we cannot read must not cost the caller their case).
    pub fn from_retell(call_cost: Option<&Value>, duration_ms: Option<i64>) -> Option<Self> {
        let cost = call_cost?.as_object()?;
        let products: Vec<ProductCost> = cost
            .get("product_costs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|p| {
                Some(ProductCost {
                    product: p.get("product")?.as_str()?.to_string(),
                    cents: decimal(p.get("cost")?)?,
                })
            })
            .collect();
        let telephony_cents = products
            .iter()
            .filter(|p| p.product.contains("telephony"))
            .map(|p| p.cents)
            .sum();
        let combined_cents = match cost.get("combined_cost").and_then(decimal) {
            Some(c) => c,
            None if !products.is_empty() => products.iter().map(|p| p.cents).sum(),
            None => return None,
        };
        if combined_cents.is_sign_negative() {
            return None;
        }
        let duration_seconds = cost
            .get("total_duration_seconds")
            .and_then(decimal)
            .or_else(|| duration_ms.map(|ms| Decimal::from(ms.max(0)) / Decimal::from(1000)))
            .unwrap_or_default();
        Some(Self {
            currency: PROVIDER_CURRENCY.into(),
            combined_cents,
            telephony_cents,
            products,
            duration_seconds,
        })
    }

    /// Retell's own part (everything but telephony), US cents.
    pub fn retell_cents(&self) -> Decimal {
        self.combined_cents - self.telephony_cents
    }
}

/// The EUR figures of one call, in euro cents (see the module's rounding rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CostFigures {
    /// Retell + telephony, converted.
    pub external_cents: i64,
    /// The platform's price for the call: per minute (per second) + per case.
    pub base_cents: i64,
    /// `base − external`; negative when a call costs more than it earns.
    pub platform_profit_cents: i64,
    /// The reseller's margin on the base cost (0 without a reseller).
    pub reseller_profit_cents: i64,
    /// What the company pays for the call: `base + reseller profit`.
    pub price_cents: i64,
}

/// Euro amount → euro cents, half-up (away from zero).
pub fn to_cents(eur: Decimal) -> i64 {
    let cents = (eur * Decimal::ONE_HUNDRED).round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero);
    i64::try_from(cents).unwrap_or(i64::MAX)
}

impl CostFigures {
    /// The figures of a call of `duration_seconds` that cost `provider_cents` (in the provider's
    /// currency, cents) at `rate` EUR per unit.
    pub fn compute(
        billing: &Billing,
        provider_cents: Decimal,
        rate: Decimal,
        duration_seconds: Decimal,
        case: bool,
    ) -> Self {
        let external_cents = to_cents(provider_cents / Decimal::ONE_HUNDRED * rate);
        let per_case = if case { billing.price_per_case } else { Decimal::ZERO };
        let base_cents = to_cents(duration_seconds * billing.price_per_minute / Decimal::from(60) + per_case);
        let reseller_profit_cents = reseller_share(billing, base_cents);
        Self {
            external_cents,
            base_cents,
            platform_profit_cents: base_cents - external_cents,
            reseller_profit_cents,
            price_cents: base_cents + reseller_profit_cents,
        }
    }
}

/// The reseller's margin on `base_cents`, rounded to the cent.
pub fn reseller_share(billing: &Billing, base_cents: i64) -> i64 {
    match billing.reseller_margin_percent {
        Some(m) => to_cents(Decimal::from(base_cents) * m / Decimal::from(10_000)),
        None => 0,
    }
}

/// One call's ledger entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostRecord {
    pub company_id: CompanyId,
    pub call_id: CallId,
    /// The call's day in the company's time zone (its rate and its month).
    pub day: NaiveDate,
    pub month: Month,
    /// Whether the call became a service case (the per-case price applies).
    pub case: bool,
    pub provider: ProviderCost,
    /// The EUR rate applied, when one was valid on `day`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<Decimal>,
    /// `None` when the company has no `billing` section or no rate was valid on `day`
    /// (`unpriced` says which).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub figures: Option<CostFigures>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unpriced: Option<String>,
    pub recorded_at: DateTime<Utc>,
}

impl CostRecord {
    /// The entry of a call on `day` with Retell's bill `provider`, priced with `billing`.
    pub fn new(
        company_id: &CompanyId,
        call_id: &CallId,
        day: NaiveDate,
        provider: ProviderCost,
        case: bool,
        billing: Option<&Billing>,
        recorded_at: DateTime<Utc>,
    ) -> Self {
        let mut record = Self {
            company_id: company_id.clone(),
            call_id: call_id.clone(),
            day,
            month: Month::of(day),
            case,
            provider,
            rate: None,
            figures: None,
            unpriced: None,
            recorded_at,
        };
        record.price(billing);
        record
    }

    /// (Re)computes the EUR figures (when whether the call is a case becomes known).
    pub fn price(&mut self, billing: Option<&Billing>) {
        let Some(billing) = billing else {
            self.rate = None;
            self.figures = None;
            self.unpriced = Some("no billing configuration".into());
            return;
        };
        match billing.rate_on(&self.provider.currency, self.day) {
            Some(rate) => {
                self.rate = Some(rate);
                self.figures = Some(CostFigures::compute(
                    billing,
                    self.provider.combined_cents,
                    rate,
                    self.provider.duration_seconds,
                    self.case,
                ));
                self.unpriced = None;
            }
            None => {
                self.rate = None;
                self.figures = None;
                self.unpriced = Some(format!("no {}→EUR rate valid on {}", self.provider.currency, self.day));
            }
        }
    }

    /// Whether the per-case price applies, then the figures again.
    pub fn with_case(mut self, case: bool, billing: Option<&Billing>) -> Self {
        self.case = case;
        self.price(billing);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn the_month_before_january_is_december_of_the_year_before() {
        let m = |s: &str| s.parse::<Month>().unwrap();
        assert_eq!(m("2027-01").previous(), m("2026-12"));
        assert_eq!(m("2026-12").previous(), m("2026-11"));
    }

    #[test]
    fn retells_bill_is_read_exactly_and_telephony_split_out() {
        // The reference call_ended sample.
        let cost = json!({
            "product_costs": [
                {"product": "elevenlabs_tts", "unit_price": 0.1166667, "cost": 7.82},
                {"product": "gpt_4o_mini", "unit_price": 0.0083333, "cost": 0.56},
                {"product": "background_voice_cancellation", "unit_price": 0.0083333, "cost": 0.56},
                {"product": "telephony", "unit_price": 0.0233333, "cost": 1.56}
            ],
            "total_duration_seconds": 67,
            "total_duration_unit_price": 0.1566666,
            "combined_cost": 10.5
        });
        let p = ProviderCost::from_retell(Some(&cost), Some(66_840)).unwrap();
        assert_eq!(p.combined_cents, d("10.5"));
        assert_eq!(p.telephony_cents, d("1.56"));
        assert_eq!(p.retell_cents(), d("8.94"));
        assert_eq!(p.duration_seconds, d("67"));
        assert_eq!(p.products.len(), 4);
    }

    #[test]
    fn a_bill_that_makes_no_sense_is_none_and_a_missing_total_is_summed() {
        assert_eq!(ProviderCost::from_retell(None, None), None);
        assert_eq!(ProviderCost::from_retell(Some(&json!("x")), None), None);
        assert_eq!(ProviderCost::from_retell(Some(&json!({})), None), None);
        assert_eq!(
            ProviderCost::from_retell(Some(&json!({"combined_cost": -1})), None),
            None
        );
        let p = ProviderCost::from_retell(
            Some(
                &json!({"product_costs": [{"product": "a", "cost": 1.25}, {"product": "b", "cost": "2"}, {"cost": 9}]}),
            ),
            Some(61_500),
        )
        .unwrap();
        assert_eq!(p.combined_cents, d("3.25"));
        assert_eq!(p.duration_seconds, d("61.5"), "from duration_ms");
    }

    #[test]
    fn figures_round_half_up_to_the_cent_once_per_amount() {
        let billing: Billing = serde_norway::from_str(
            "price_per_minute: 0.15\nprice_per_case: 0.50\nreseller_margin_percent: 20\nexchange_rates: [{currency: USD, valid_from: 2026-01-01, eur: 0.9}]",
        )
        .unwrap();
        // 10.5 US cents × 0.9 = 9.45 euro cents → 9 (0.0945 EUR → 0.09); 67 s × 0.15/60 = 0.1675
        // + 0.50 = 0.6675 → 0.67; reseller 20 % of 0.67 = 0.134 → 0.13.
        let f = CostFigures::compute(&billing, d("10.5"), d("0.9"), d("67"), true);
        assert_eq!(
            f,
            CostFigures {
                external_cents: 9,
                base_cents: 67,
                platform_profit_cents: 58,
                reseller_profit_cents: 13,
                price_cents: 80,
            }
        );
        // Exactly half a cent rounds up: 30 s × 0.15/60 = 0.075 → 0.08.
        assert_eq!(
            CostFigures::compute(&billing, d("0"), d("0.9"), d("30"), false).base_cents,
            8
        );
        assert_eq!(to_cents(d("0.005")), 1);
        assert_eq!(to_cents(d("0.00499")), 0);
        assert_eq!(to_cents(d("-0.005")), -1);
    }

    #[test]
    fn months_parse_and_print() {
        assert_eq!("2026-11".parse::<Month>().unwrap().to_string(), "2026-11");
        for bad in ["2026-13", "2026-1", "26-11", "2026/11", "x"] {
            assert!(bad.parse::<Month>().is_err(), "{bad}");
        }
    }
}
