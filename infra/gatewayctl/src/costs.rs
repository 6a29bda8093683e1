//! `gatewayctl costs report`: a month of the cost ledger, per company or across companies, as
//! a table or CSV.

use gateway_domain::costs::report::eur;
use gateway_domain::costs::{CompanyMonth, CostLedger, Month, MonthTotals};
use gateway_domain::ids::CompanyId;
use gateway_domain::tenancy::ConfigStore;

use crate::{Ctl, CtlError};

impl Ctl {
    /// The cost report of `month`: one company's, or every company with calls in the month. The
    /// base fee comes from each company's current billing section.
    pub async fn cost_report(&self, company: Option<&CompanyId>, month: Month) -> Result<Vec<CompanyMonth>, CtlError> {
        let records = match company {
            Some(c) => self.store.costs_of_month(c, month).await?,
            None => self.store.all_costs_of_month(month).await?,
        };
        let mut companies: Vec<CompanyId> = records.iter().map(|r| r.company_id.clone()).collect();
        companies.extend(company.cloned());
        companies.sort();
        companies.dedup();
        let mut months = Vec::new();
        for c in companies {
            let billing = self.store.tenant(&c).await?.and_then(|t| t.config.billing);
            let own = records.iter().filter(|r| r.company_id == c).cloned().collect();
            months.push(CompanyMonth::build(&c, month, billing.as_ref(), own));
        }
        Ok(months)
    }
}

/// The cost report as a table: per company (and with one company, per call), then the total.
pub fn render_cost_report(month: Month, companies: &[CompanyMonth]) -> String {
    let mut out =
        format!("Costs {month} in EUR (each call's amounts rounded half-up to the cent; Retell in US cents)\n\n");
    if let [one] = companies {
        out.push_str(&format!(
            "{:<11} {:<34} {:>5} {:>7} {:>10} {:>7} {:>9} {:>9} {:>9} {:>9} {:>9}\n",
            "DAY", "CALL", "CASE", "SECONDS", "RETELL US¢", "RATE", "EXTERNAL", "BASE", "PLATFORM", "RESELLER", "PRICE"
        ));
        for r in &one.calls {
            let f = r.figures.unwrap_or_default();
            let (external, base, platform, reseller, price) = match &r.figures {
                Some(_) => (
                    eur(f.external_cents),
                    eur(f.base_cents),
                    eur(f.platform_profit_cents),
                    eur(f.reseller_profit_cents),
                    eur(f.price_cents),
                ),
                None => Default::default(),
            };
            out.push_str(&format!(
                "{:<11} {:<34} {:>5} {:>7} {:>10} {:>7} {:>9} {:>9} {:>9} {:>9} {:>9}{}\n",
                r.day.to_string(),
                r.call_id.as_str(),
                if r.case { "yes" } else { "no" },
                r.provider.duration_seconds.normalize().to_string(),
                r.provider.combined_cents.normalize().to_string(),
                r.rate.map(|x| x.normalize().to_string()).unwrap_or_else(|| "-".into()),
                external,
                base,
                platform,
                reseller,
                price,
                r.unpriced
                    .as_ref()
                    .map(|u| format!("  unpriced: {u}"))
                    .unwrap_or_default(),
            ));
        }
        out.push('\n');
    }
    out.push_str(&format!(
        "{:<24} {:>5} {:>5} {:>8} {:>10} {:>9} {:>10} {:>8} {:>9} {:>9} {:>9} {:>9}\n",
        "COMPANY",
        "CALLS",
        "CASES",
        "MINUTES",
        "RETELL US¢",
        "EXTERNAL",
        "BASE CALLS",
        "BASE FEE",
        "BASE",
        "PLATFORM",
        "RESELLER",
        "PRICE"
    ));
    let mut sum = MonthTotals::default();
    let row = |name: &str, t: &MonthTotals| {
        format!(
            "{:<24} {:>5} {:>5} {:>8} {:>10} {:>9} {:>10} {:>8} {:>9} {:>9} {:>9} {:>9}\n",
            name,
            t.calls,
            t.cases,
            (t.duration_seconds / rust_decimal::Decimal::from(60))
                .round_dp(2)
                .normalize()
                .to_string(),
            t.provider_usd_cents.normalize().to_string(),
            eur(t.external_cents),
            eur(t.calls_base_cents),
            eur(t.base_fee_cents),
            eur(t.base_cents),
            eur(t.platform_profit_cents),
            eur(t.reseller_profit_cents),
            eur(t.price_cents),
        )
    };
    for c in companies {
        out.push_str(&row(c.company_id.as_str(), &c.totals));
        let t = &c.totals;
        sum.calls += t.calls;
        sum.cases += t.cases;
        sum.unpriced_calls += t.unpriced_calls;
        sum.duration_seconds += t.duration_seconds;
        sum.provider_usd_cents += t.provider_usd_cents;
        sum.external_cents += t.external_cents;
        sum.calls_base_cents += t.calls_base_cents;
        sum.base_fee_cents += t.base_fee_cents;
        sum.base_cents += t.base_cents;
        sum.platform_profit_cents += t.platform_profit_cents;
        sum.reseller_profit_cents += t.reseller_profit_cents;
        sum.price_cents += t.price_cents;
    }
    if companies.len() > 1 {
        out.push_str(&row("TOTAL", &sum));
    }
    if sum.unpriced_calls > 0 {
        out.push_str(&format!(
            "\n{} call(s) unpriced (no billing section, or no exchange rate for their day): not in the EUR sums\n",
            sum.unpriced_calls
        ));
    }
    out
}

/// The cost report as CSV: one row per call and one `base_fee` row per company; the EUR columns
/// of all rows add up to the report's totals.
pub fn render_cost_csv(companies: &[CompanyMonth]) -> Result<String, CtlError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let io = |e: csv::Error| CtlError::Io(e.to_string());
    w.write_record([
        "company",
        "month",
        "kind",
        "day",
        "call_id",
        "case",
        "duration_seconds",
        "retell_usd_cents",
        "telephony_usd_cents",
        "combined_usd_cents",
        "usd_eur_rate",
        "external_eur",
        "base_eur",
        "platform_profit_eur",
        "reseller_profit_eur",
        "price_eur",
        "unpriced",
    ])
    .map_err(io)?;
    for c in companies {
        for r in &c.calls {
            let money = |f: fn(&gateway_domain::costs::CostFigures) -> i64| {
                r.figures.as_ref().map(|x| eur(f(x))).unwrap_or_default()
            };
            w.write_record([
                c.company_id.to_string(),
                c.month.to_string(),
                "call".into(),
                r.day.to_string(),
                r.call_id.to_string(),
                r.case.to_string(),
                r.provider.duration_seconds.normalize().to_string(),
                r.provider.retell_cents().normalize().to_string(),
                r.provider.telephony_cents.normalize().to_string(),
                r.provider.combined_cents.normalize().to_string(),
                r.rate.map(|x| x.normalize().to_string()).unwrap_or_default(),
                money(|f| f.external_cents),
                money(|f| f.base_cents),
                money(|f| f.platform_profit_cents),
                money(|f| f.reseller_profit_cents),
                money(|f| f.price_cents),
                r.unpriced.clone().unwrap_or_default(),
            ])
            .map_err(io)?;
        }
        let t = &c.totals;
        let fee_reseller = t.reseller_profit_cents
            - c.calls
                .iter()
                .filter_map(|r| r.figures.map(|f| f.reseller_profit_cents))
                .sum::<i64>();
        w.write_record([
            c.company_id.to_string(),
            c.month.to_string(),
            "base_fee".into(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            eur(0),
            eur(t.base_fee_cents),
            eur(t.base_fee_cents),
            eur(fee_reseller),
            eur(t.base_fee_cents + fee_reseller),
            String::new(),
        ])
        .map_err(io)?;
    }
    let bytes = w.into_inner().map_err(|e| CtlError::Io(e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| CtlError::Io(e.to_string()))
}
