//! The cost ledger through capture (in-memory ports): a fixture month computed by hand equals
//! the report's figures.
//!
//! Pricing: 0.20 EUR per minute (billed per second), 0.50 EUR per case, 49.00 EUR a month, a
//! reseller margin of 15 %; USD→EUR 0.86 from 2026-11-01 and 0.87 from 2026-11-16 (days in the
//! company's time zone, Europe/Berlin). Rounding: half-up to the euro cent, once per amount.
//!
//! | call | Berlin day | Retell (US ¢) | s   | case | external ¢         | base ¢                        | reseller ¢       |
//! |------|------------|---------------|-----|------|--------------------|-------------------------------|------------------|
//! | A    | 11-03      | 10.5          | 67  | yes  | 10.5×0.86=9.03 → 9 | 67×20/60=22.33+50=72.33 → 72  | 72×.15=10.8 → 11 |
//! | B    | 11-16 (UTC 11-15 23:30) | 250  | 600 | yes  | 250×0.87=217.5 → 218 | 600×20/60=200+50 = 250   | 37.5 → 38        |
//! | C    | 11-20      | 3.1           | 21  | no (voicemail) | 2.697 → 3 | 21×20/60 = 7                 | 1.05 → 1         |
//! | E    | 11-01 (UTC 10-31 23:30) | 0.5  | 5   | no   | 0.43 → 0           | 1.667 → 2                     | 0.3 → 0          |
//! | D    | 12-01 (UTC 11-30 23:10) | 99   | 60  | yes  | December: not in November's report                             |
//!
//! November: 4 calls, 2 cases, 693 s, Retell 264.1 US ¢; external 9+218+3+0 = 230 ¢; calls' base
//! 72+250+7+2 = 331 ¢; base fee 4900 ¢ → base 5231 ¢; platform profit 5231−230 = 5001 ¢; reseller
//! 11+38+1+0 = 50 ¢ + 15 % of the fee 735 ¢ = 785 ¢; price 5231+785 = 6016 ¢.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use gateway_domain::capture::retell::signature;
use gateway_domain::capture::{Ingest, IngestSettings, Ports};
use gateway_domain::clock::Clock;
use gateway_domain::costs::{CompanyMonth, CostFigures, CostLedger, Month, MonthTotals};
use gateway_domain::ids::CompanyId;
use gateway_domain::tenancy::TenantSpec;
use gateway_testkit::memory::{FixedClock, MemoryCaseStore, MemoryConfigStore, MemoryQueue};
use rust_decimal::Decimal;
use serde_json::{Value, json};

const KEY: &str = "key_test_retell";
const ANALYZED: &str = include_str!("../../../../events/retell/call_analyzed.json");
const NORDIT: &str = include_str!("../../../../infra/tenants/nordit.yaml");

const BILLING: &str = r#"
price_per_minute: 0.20
price_per_case: 0.50
monthly_base_fee: 49.00
reseller_margin_percent: 15
exchange_rates:
  - { currency: USD, valid_from: 2026-11-16, eur: 0.87 }
  - { currency: USD, valid_from: 2026-11-01, eur: 0.86 }
"#;

struct World {
    ingest: Ingest,
    cases: Arc<MemoryCaseStore>,
    clock: Arc<FixedClock>,
    spec: TenantSpec,
}

fn world() -> World {
    let cases = Arc::new(MemoryCaseStore::default());
    let config = Arc::new(MemoryConfigStore::default());
    let clock = Arc::new(FixedClock::new(Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap()));
    let mut spec: TenantSpec = serde_norway::from_str(NORDIT).unwrap();
    spec.company.billing = Some(serde_norway::from_str(BILLING).unwrap());
    for route in spec.route_keys() {
        config.put_route(route, &spec.company.company_id);
    }
    config.put_tenant(spec.tenant().unwrap());
    let ports = Ports {
        cases: cases.clone(),
        config,
        queue: Arc::new(MemoryQueue::default()),
        clock: clock.clone(),
    };
    World {
        ingest: Ingest::new(IngestSettings::new(KEY), ports),
        cases,
        clock,
        spec,
    }
}

/// The fixture's call_analyzed as call `id`, started at `start` (UTC), with Retell's bill.
fn analyzed(id: &str, start: chrono::DateTime<Utc>, cents: f64, seconds: u64, voicemail: bool) -> String {
    let mut body: Value = serde_json::from_str(ANALYZED).unwrap();
    let call = &mut body["call"];
    call["call_id"] = json!(id);
    call["start_timestamp"] = json!(start.timestamp_millis());
    call["end_timestamp"] = json!(start.timestamp_millis() + seconds as i64 * 1000);
    call["duration_ms"] = json!(seconds * 1000);
    call["call_cost"] = json!({
        "product_costs": [{"product": "retell_platform", "cost": cents}],
        "combined_cost": cents,
        "total_duration_seconds": seconds,
    });
    call["call_analysis"]["in_voicemail"] = json!(voicemail);
    body.to_string()
}

impl World {
    async fn send(&self, body: &str) {
        let sig = signature::sign(KEY, body.as_bytes(), self.clock.now().timestamp_millis() as u64);
        self.ingest.webhook(body.as_bytes(), Some(&sig)).await.unwrap();
    }
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

/// external, base, platform profit, reseller profit, price (euro cents).
type Cents = (i64, i64, i64, i64, i64);

fn cents(figures: &Option<CostFigures>) -> Cents {
    let f = figures.expect("priced");
    (
        f.external_cents,
        f.base_cents,
        f.platform_profit_cents,
        f.reseller_profit_cents,
        f.price_cents,
    )
}

#[tokio::test]
async fn a_fixture_month_computed_by_hand_equals_the_report() {
    let w = world();
    let a = analyzed("call_cost_a", utc(2026, 11, 3, 9, 0), 10.5, 67, false);
    w.send(&a).await;
    w.send(&a).await; // Retell's retry: still one entry
    w.send(&analyzed("call_cost_b", utc(2026, 11, 15, 23, 30), 250.0, 600, false))
        .await;
    w.send(&analyzed("call_cost_c", utc(2026, 11, 20, 10, 0), 3.1, 21, true))
        .await;
    w.send(&analyzed("call_cost_d", utc(2026, 11, 30, 23, 10), 99.0, 60, false))
        .await;
    w.send(&analyzed("call_cost_e", utc(2026, 10, 31, 23, 30), 0.5, 5, true))
        .await;

    let company = CompanyId::new("nordit-hannover");
    let november: Month = "2026-11".parse().unwrap();
    let records = w.cases.costs_of_month(&company, november).await.unwrap();
    let report = CompanyMonth::build(&company, november, w.spec.company.billing.as_ref(), records);
    let lines: Vec<(&str, String, bool, Cents)> = report
        .calls
        .iter()
        .map(|r| (r.call_id.as_str(), r.day.to_string(), r.case, cents(&r.figures)))
        .collect();
    assert_eq!(
        lines,
        [
            ("call_cost_e", "2026-11-01".to_string(), false, (0, 2, 2, 0, 2)),
            ("call_cost_a", "2026-11-03".to_string(), true, (9, 72, 63, 11, 83)),
            ("call_cost_b", "2026-11-16".to_string(), true, (218, 250, 32, 38, 288)),
            ("call_cost_c", "2026-11-20".to_string(), false, (3, 7, 4, 1, 8)),
        ]
    );
    assert_eq!(
        report.totals,
        MonthTotals {
            calls: 4,
            cases: 2,
            unpriced_calls: 0,
            duration_seconds: Decimal::from(693),
            provider_usd_cents: "264.1".parse().unwrap(),
            external_cents: 230,
            calls_base_cents: 331,
            base_fee_cents: 4900,
            base_cents: 5231,
            platform_profit_cents: 5001,
            reseller_profit_cents: 785,
            price_cents: 6016,
        }
    );
    let rates: Vec<String> = report.calls.iter().map(|r| r.rate.unwrap().to_string()).collect();
    assert_eq!(
        rates,
        ["0.86", "0.86", "0.87", "0.87"],
        "the rate of the call's Berlin day"
    );

    let december = w
        .cases
        .costs_of_month(&company, "2026-12".parse().unwrap())
        .await
        .unwrap();
    assert_eq!(december.len(), 1);
    assert_eq!(december[0].call_id.as_str(), "call_cost_d");
}

#[tokio::test]
async fn calls_are_recorded_unpriced_without_billing_or_without_a_rate_for_their_day() {
    let w = world();
    // Before the first rate.
    w.send(&analyzed("call_early", utc(2026, 10, 20, 9, 0), 12.0, 60, false))
        .await;
    let company = CompanyId::new("nordit-hannover");
    let october: Month = "2026-10".parse().unwrap();
    let records = w.cases.costs_of_month(&company, october).await.unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].figures, None);
    assert_eq!(
        records[0].unpriced.as_deref(),
        Some("no USD→EUR rate valid on 2026-10-20")
    );
    let report = CompanyMonth::build(&company, october, w.spec.company.billing.as_ref(), records);
    assert_eq!(report.totals.unpriced_calls, 1);
    assert_eq!(report.totals.external_cents, 0);
    assert_eq!(report.totals.provider_usd_cents, Decimal::from(12));

    // A call without Retell's bill has no entry; a malformed bill never fails the capture.
    let mut body: Value =
        serde_json::from_str(&analyzed("call_nobill", utc(2026, 11, 5, 9, 0), 1.0, 1, false)).unwrap();
    body["call"]["call_cost"] = json!("free");
    w.send(&body.to_string()).await;
    let november = w
        .cases
        .costs_of_month(&company, "2026-11".parse().unwrap())
        .await
        .unwrap();
    assert!(november.is_empty());
    assert_eq!(w.cases.cases_of(&company).len(), 2, "both calls still became cases");
}

#[test]
fn the_demo_tenants_billing_section_is_valid_and_mistakes_are_named_by_field() {
    use gateway_domain::ssrf::UrlPolicy;
    use gateway_domain::tenancy::validate::validate;
    let mut spec: TenantSpec = serde_norway::from_str(NORDIT).unwrap();
    assert!(spec.company.billing.is_some(), "the demo tenant is priced");
    assert!(validate(&spec, &UrlPolicy::strict()).is_empty());
    spec.company.billing = Some(
        serde_norway::from_str(
            "price_per_minute: -0.1\nexchange_rates: [{currency: EUR, valid_from: 2026-01-01, eur: 1}]",
        )
        .unwrap(),
    );
    let issues: Vec<String> = validate(&spec, &UrlPolicy::strict())
        .into_iter()
        .map(|i| format!("{}: {}", i.path, i.message))
        .collect();
    assert_eq!(
        issues,
        [
            "company.billing.price_per_minute: must not be negative",
            "company.billing.exchange_rates: needs at least one USD rate (Retell bills in USD)",
        ]
    );
    // A typo is refused when the document is read.
    let typo = NORDIT.replace("price_per_case:", "price_per_cse:");
    assert!(serde_norway::from_str::<TenantSpec>(&typo).is_err());
}
