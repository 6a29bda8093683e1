//! A company's month: the sum of its calls' ledger entries plus the month's base fee.

use rust_decimal::Decimal;
use serde::Serialize;

use crate::costs::billing::Billing;
use crate::costs::record::{CostRecord, Month, reseller_share, to_cents};
use crate::ids::CompanyId;

/// A month's totals; amounts in euro cents unless named otherwise.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct MonthTotals {
    pub calls: usize,
    /// Calls that became a service case.
    pub cases: usize,
    /// Calls without EUR figures (no billing section, or no rate for their day): not in the sums.
    pub unpriced_calls: usize,
    pub duration_seconds: Decimal,
    /// What Retell billed, in US cents (priced and unpriced calls).
    pub provider_usd_cents: Decimal,
    pub external_cents: i64,
    /// The calls' base cost (per minute and per case).
    pub calls_base_cents: i64,
    /// The month's base fee (0 without a billing section).
    pub base_fee_cents: i64,
    /// `calls_base + base_fee`.
    pub base_cents: i64,
    /// `base − external`.
    pub platform_profit_cents: i64,
    /// The reseller's margin on the calls and on the base fee.
    pub reseller_profit_cents: i64,
    /// What the company pays: `base + reseller profit`.
    pub price_cents: i64,
}

/// One company's month: the totals and the calls they are made of.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CompanyMonth {
    pub company_id: CompanyId,
    pub month: Month,
    pub totals: MonthTotals,
    pub calls: Vec<CostRecord>,
}

impl CompanyMonth {
    /// Sums `records` (the company's calls of `month`) and adds the base fee of `billing`.
    pub fn build(
        company_id: &CompanyId,
        month: Month,
        billing: Option<&Billing>,
        mut records: Vec<CostRecord>,
    ) -> Self {
        records.retain(|r| r.month == month && &r.company_id == company_id);
        records.sort_by(|a, b| (a.day, &a.call_id).cmp(&(b.day, &b.call_id)));
        let mut t = MonthTotals::default();
        for r in &records {
            t.calls += 1;
            t.cases += usize::from(r.case);
            t.duration_seconds += r.provider.duration_seconds;
            t.provider_usd_cents += r.provider.combined_cents;
            match &r.figures {
                Some(f) => {
                    t.external_cents += f.external_cents;
                    t.calls_base_cents += f.base_cents;
                    t.reseller_profit_cents += f.reseller_profit_cents;
                }
                None => t.unpriced_calls += 1,
            }
        }
        if let Some(billing) = billing {
            t.base_fee_cents = to_cents(billing.monthly_base_fee);
            t.reseller_profit_cents += reseller_share(billing, t.base_fee_cents);
        }
        t.base_cents = t.calls_base_cents + t.base_fee_cents;
        t.platform_profit_cents = t.base_cents - t.external_cents;
        t.price_cents = t.base_cents + t.reseller_profit_cents;
        Self {
            company_id: company_id.clone(),
            month,
            totals: t,
            calls: records,
        }
    }
}

/// Euro cents as `12.34` (for reports).
pub fn eur(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", cents.unsigned_abs() / 100, cents.unsigned_abs() % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn euro_amounts_print_with_two_decimals() {
        assert_eq!(eur(0), "0.00");
        assert_eq!(eur(5), "0.05");
        assert_eq!(eur(12_345), "123.45");
        assert_eq!(eur(-7), "-0.07");
        assert_eq!(eur(-1_234), "-12.34");
    }
}
