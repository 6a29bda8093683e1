//! The dashboard's cost card: a company's month from the cost ledger, as the company sees it
//! (calls, minutes, its price) and, for platform admins only, the layers behind the price.

use gateway_domain::costs::Month;
use gateway_domain::costs::report::{CompanyMonth, eur};
use gateway_domain::locale::{MONTHS_DE, MONTHS_EN};
use rust_decimal::{Decimal, RoundingStrategy};

use crate::i18n::Lang;

pub struct CostCard {
    /// "Dezember 2026".
    pub month: String,
    /// Whether the company has a billing section (without one there is no price).
    pub billed: bool,
    pub calls: usize,
    pub cases: usize,
    pub minutes: String,
    pub price: String,
    pub base_fee: String,
    pub unpriced: usize,
    /// External cost, base cost and profits: the platform's business, not the company's.
    pub platform: Option<PlatformCosts>,
}

pub struct PlatformCosts {
    pub external: String,
    pub base: String,
    pub platform_profit: String,
    pub reseller_profit: String,
    pub per_call: String,
}

impl CostCard {
    pub fn of(month: &CompanyMonth, billed: bool, platform_admin: bool, lang: Lang) -> Self {
        let t = &month.totals;
        let money = |cents: i64| money(cents, lang);
        let priced_calls = t.calls - t.unpriced_calls;
        Self {
            month: month_name(month.month, lang),
            billed,
            calls: t.calls,
            cases: t.cases,
            minutes: minutes(t.duration_seconds, lang),
            price: money(t.price_cents),
            base_fee: money(t.base_fee_cents),
            unpriced: t.unpriced_calls,
            platform: platform_admin.then(|| PlatformCosts {
                external: money(t.external_cents),
                base: money(t.base_cents),
                platform_profit: money(t.platform_profit_cents),
                reseller_profit: money(t.reseller_profit_cents),
                per_call: if priced_calls == 0 {
                    "–".to_string()
                } else {
                    // Half-up to the cent, as the ledger rounds.
                    money((t.external_cents as f64 / priced_calls as f64).round() as i64)
                },
            }),
        }
    }
}

/// "57,18 €" / "€57.18".
pub fn money(cents: i64, lang: Lang) -> String {
    match lang {
        Lang::De => format!("{} €", eur(cents).replace('.', ",")),
        Lang::En => format!("€{}", eur(cents)),
    }
}

/// Seconds as minutes with one decimal, half-up like the ledger: "7,3" / "7.3".
fn minutes(seconds: Decimal, lang: Lang) -> String {
    let rounded = (seconds / Decimal::from(60)).round_dp_with_strategy(1, RoundingStrategy::MidpointAwayFromZero);
    // Always one decimal ("0,0", not "0").
    let text = format!("{rounded:.1}");
    match lang {
        Lang::De => text.replace('.', ","),
        Lang::En => text,
    }
}

fn month_name(month: Month, lang: Lang) -> String {
    let names = match lang {
        Lang::De => MONTHS_DE,
        Lang::En => MONTHS_EN,
    };
    let index = (month.month as usize).clamp(1, 12) - 1;
    format!("{} {}", names[index], month.year)
}

#[cfg(test)]
mod tests {
    use super::*;
    use gateway_domain::costs::report::MonthTotals;
    use gateway_domain::ids::CompanyId;

    fn month() -> CompanyMonth {
        CompanyMonth {
            company_id: CompanyId::new("nordit-hannover"),
            month: "2026-12".parse().unwrap(),
            totals: MonthTotals {
                calls: 3,
                cases: 2,
                unpriced_calls: 1,
                // 7.25 minutes: half-up, as the ledger rounds.
                duration_seconds: "435".parse().unwrap(),
                external_cents: 101,
                base_cents: 5_090,
                base_fee_cents: 4_900,
                platform_profit_cents: 4_989,
                reseller_profit_cents: 764,
                price_cents: 5_854,
                ..MonthTotals::default()
            },
            calls: Vec::new(),
        }
    }

    #[test]
    fn a_company_sees_its_price_and_a_platform_admin_the_layers_behind_it() {
        let company = CostCard::of(&month(), true, false, Lang::De);
        assert_eq!(company.month, "Dezember 2026");
        assert_eq!((company.calls, company.cases, company.unpriced), (3, 2, 1));
        assert_eq!(company.minutes, "7,3");
        let mut empty = month();
        empty.totals.duration_seconds = Decimal::ZERO;
        assert_eq!(CostCard::of(&empty, true, false, Lang::En).minutes, "0.0");
        assert_eq!(company.price, "58,54 €");
        assert_eq!(company.base_fee, "49,00 €");
        assert!(company.platform.is_none());
        let platform = CostCard::of(&month(), true, true, Lang::En).platform.unwrap();
        assert_eq!(platform.external, "€1.01");
        assert_eq!(platform.platform_profit, "€49.89");
        assert_eq!(platform.reseller_profit, "€7.64");
        // 101 cents over the 2 priced calls, half-up.
        assert_eq!(platform.per_call, "€0.51");
    }
}
