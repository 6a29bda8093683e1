//! The operator CLI against the emulator: apply, idempotent re-apply, dry run, every kind of
//! validation error, export round trip, the appointments section, customer import, case inspection.

use std::path::{Path, PathBuf};

use gateway_domain::ssrf::UrlPolicy;
use gateway_e2e::prelude::*;
use gateway_e2e::*;
use gatewayctl::{CaseFilter, Ctl, CtlError};
use lambda_http::http::StatusCode;

const DEMO: &str = "../infra/tenants/nordit.yaml";
const PRAXIS: &str = "../infra/tenants/praxis.yaml";
const PRAXIS_ID: &str = "praxis-lister-platz";
const CALCOM_KEY: &str = "cal_test_beispielschluessel_bitte_ersetzen";
const CALDAV_PASSWORD: &str = "beispiel-passwort-bitte-ersetzen";

fn ctl(s: &Stack) -> Ctl {
    Ctl {
        store: s.store.clone(),
        policy: UrlPolicy::strict(),
    }
}

fn temp_file(name: &str, content: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gatewayctl-{}", ulid::Ulid::new()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

fn invalid(err: CtlError) -> Vec<String> {
    match err {
        CtlError::Invalid(lines) => lines,
        other => panic!("expected validation errors, got {other}"),
    }
}

#[tokio::test]
async fn apply_creates_then_reapply_changes_nothing() {
    let s = stack_with(&[]).await;
    let ctl = ctl(&s);
    let first = ctl.apply(Path::new(DEMO), false).await.unwrap();
    // company + 7 categories + 2 outputs + 1 preset + 1 agent + 1 phone
    assert_eq!(first.changes.len(), 13, "{}", first.render());
    assert!(first.render().contains("13 to create, 0 to change, 0 to remove"));
    let stored = s.store.load_spec(&company_id(COMPANY)).await.unwrap().unwrap();
    assert_eq!(stored.categories.len(), 7);
    assert_eq!(stored.outputs.len(), 2);
    assert_eq!(
        s.store
            .tenant(&company_id(COMPANY))
            .await
            .unwrap()
            .unwrap()
            .outputs
            .len(),
        2,
        "functions see the outputs"
    );
    let again = ctl.apply(Path::new(DEMO), false).await.unwrap();
    assert!(again.changes.is_empty(), "{}", again.render());
}

#[tokio::test]
async fn dry_run_writes_nothing_and_changes_are_itemised() {
    let s = stack_with(&[]).await;
    let ctl = ctl(&s);
    let plan = ctl.apply(Path::new(DEMO), true).await.unwrap();
    assert_eq!(plan.changes.len(), 13);
    assert!(plan.render().contains("dry run: nothing written"));
    assert!(s.store.load_spec(&company_id(COMPANY)).await.unwrap().is_none());

    ctl.apply(Path::new(DEMO), false).await.unwrap();
    let edited = std::fs::read_to_string(DEMO)
        .unwrap()
        .replace("  name: Sonstiges", "  name: Sonstiges & Allgemeines")
        .replace("  - agent_9f3a1c7e52b84d06a1e3c8f27b\n", "  - agent_new_hotline\n");
    let path = temp_file("nordit.yaml", &edited);
    let dry = ctl.apply(&path, true).await.unwrap();
    let lines: Vec<String> = dry.changes.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "~ change category other",
            "+ create route agent agent_new_hotline",
            "- remove route agent agent_9f3a1c7e52b84d06a1e3c8f27b"
        ]
    );
    assert_eq!(
        s.store
            .company_for(&gateway_domain::tenancy::RouteKey::Agent("agent_new_hotline".into()))
            .await
            .unwrap(),
        None
    );
    ctl.apply(&path, false).await.unwrap();
    let routed = s
        .store
        .company_for(&gateway_domain::tenancy::RouteKey::Agent("agent_new_hotline".into()))
        .await
        .unwrap();
    assert_eq!(routed.as_deref(), Some(COMPANY));
    let old = s
        .store
        .company_for(&gateway_domain::tenancy::RouteKey::Agent(
            "agent_9f3a1c7e52b84d06a1e3c8f27b".into(),
        ))
        .await
        .unwrap();
    assert_eq!(old, None, "a removed route no longer routes");
}

#[tokio::test]
async fn every_validation_error_is_reported_at_once_with_file_and_field() {
    let s = stack_with(&[]).await;
    let ctl = ctl(&s);
    // Another company already owns this agent.
    let mut other = nordit();
    other.company.company_id = "kanzlei-berg".into();
    other.routes.agents = vec!["agent_taken".into()];
    other.routes.phones = vec![];
    s.store.apply_spec(&other).await.unwrap();

    let bad = r#"
company:
  company_id: Nord IT
  name: ""
  time_zone: Europe/Hanover
  default_region: XX
  intent_threshold: 1.5
  enrichment_delay_seconds: 1200
  case_link_ttl_hours: 0
  admin_emails: [leitstand@nordit, ok@nordit.example]
routes:
  agents: [agent_taken]
  phones: ["0511 123"]
categories:
  - slug: net
    name: Netz
    threshold: 20
    keywords: [{term: wlan, weight: 0}, {term: "", weight: 1}]
    output: nowhere
  - slug: net
    name: Netz 2
outputs:
  - id: hook
    type: webhook
    webhook:
      url: http://10.0.0.5/hook
      preset: jira-bug
      secret: plain-secret
      headers: {X-Signature: forged}
  - id: tpl
    type: hybrid
    email: {recipients: [not-an-address]}
    webhook:
      url: https://169.254.169.254/latest
      template: '{"a": {{ case.subject }}}'
presets:
  - slug: broken
    template: '{{ case.subject '
"#;
    let path = temp_file("bad-tenant.yaml", bad);
    let lines = invalid(ctl.apply(&path, false).await.unwrap_err());
    let text = lines.join("\n");
    let file = path.display().to_string();
    assert!(lines.iter().all(|l| l.starts_with(&format!("{file}: "))), "{text}");
    for field in [
        "company.company_id:",
        "company.name:",
        "company.time_zone:",
        "company.default_region:",
        "company.intent_threshold:",
        "company.enrichment_delay_seconds:",
        "company.case_link_ttl_hours:",
        "company.admin_emails[0]:",
        "routes.agents[0]: 'agent_taken' is already routed to company 'kanzlei-berg'",
        "routes.phones[0]:",
        "categories[0].threshold:",
        "categories[0].keywords[0].weight:",
        "categories[0].keywords[1].term:",
        "categories[0].output:",
        "categories[1].slug: 'net' is used by another category",
        "outputs[0].webhook.url: must use https",
        "outputs[0].webhook.preset: unknown preset 'jira-bug'",
        "outputs[0].webhook.secret: must start with 'whsec_'",
        "outputs[0].webhook.headers.X-Signature:",
        "outputs[1].email.recipients[0]:",
        "outputs[1].webhook.url: address 169.254.169.254",
        "outputs[1].webhook.template: rendered payload is not valid JSON",
        "presets[0].template: template does not compile",
    ] {
        assert!(text.contains(field), "missing {field} in:\n{text}");
    }
    assert!(s.store.load_spec(&company_id("nord it")).await.unwrap().is_none());
    assert!(
        s.store.load_spec(&company_id("Nord IT")).await.unwrap().is_none(),
        "nothing written"
    );

    // Syntax and unknown fields fail at parse time, naming the field.
    let typo = temp_file("typo.yaml", "company:\n  company_id: x\n  name: X\n  treshold: 3\n");
    let lines = invalid(ctl.apply(&typo, false).await.unwrap_err());
    assert!(
        lines[0].contains("typo.yaml: company.treshold:") && lines[0].contains("unknown field `treshold`"),
        "{lines:?}"
    );
    let json = temp_file(
        "t.json",
        r#"{"company": {"company_id": "x", "name": "X"}, "categories": [{"slug": 5}]}"#,
    );
    let lines = invalid(ctl.apply(&json, false).await.unwrap_err());
    assert!(lines[0].contains("t.json: categories[0].slug:"), "{lines:?}");
}

#[tokio::test]
async fn export_round_trips_and_masks_secrets() {
    let s = stack_with(&[]).await;
    let ctl = ctl(&s);
    ctl.apply(Path::new(DEMO), false).await.unwrap();
    let masked = ctl.export(&company_id(COMPANY), false).await.unwrap();
    assert!(!masked.contains("whsec_"), "secret masked");
    assert!(!masked.contains("demo-zammad-token"), "auth header masked");
    assert!(masked.contains("********"));
    let path = temp_file("exported.yaml", &masked);
    let report = ctl.apply(&path, false).await.unwrap();
    assert!(
        report.changes.is_empty(),
        "applying an export is a no-op:\n{}",
        report.render()
    );
    let stored = s.store.load_spec(&company_id(COMPANY)).await.unwrap().unwrap();
    let hook = stored.outputs.iter().find_map(|o| o.webhook.as_ref()).unwrap();
    assert!(hook.secret.as_deref().unwrap().starts_with("whsec_"), "secret kept");
    let plain = ctl.export(&company_id(COMPANY), true).await.unwrap();
    assert!(plain.contains("whsec_") && plain.contains("demo-zammad-token"));
    let path = temp_file("plain.yaml", &plain);
    assert!(ctl.apply(&path, false).await.unwrap().changes.is_empty());
}

#[tokio::test]
async fn the_appointments_section_applies_exports_masked_and_reapplies_unchanged() {
    let s = stack_with(&[]).await;
    let ctl = ctl(&s);
    let dry = ctl.apply(Path::new(PRAXIS), true).await.unwrap();
    let lines: Vec<String> = dry.changes.iter().map(ToString::to_string).collect();
    assert!(lines.contains(&"+ create appointments".to_string()), "{}", dry.render());
    // company + appointments + 1 category + 1 output + 1 agent + 1 phone
    assert_eq!(lines.len(), 6, "{}", dry.render());
    assert!(s.store.load_spec(&company_id(PRAXIS_ID)).await.unwrap().is_none());

    ctl.apply(Path::new(PRAXIS), false).await.unwrap();
    let tenant = s.store.tenant(&company_id(PRAXIS_ID)).await.unwrap().unwrap();
    let booking = tenant.appointments.expect("the functions see the booking setup");
    assert_eq!(booking.services.len(), 3);
    assert_eq!(booking.staff.len(), 2);
    assert_eq!(booking.branches[0].calendar.closures.len(), 2);
    assert_eq!(booking.calcom.as_ref().unwrap().api_key, CALCOM_KEY);
    assert_eq!(booking.caldav.as_ref().unwrap().password, CALDAV_PASSWORD);
    assert!(ctl.apply(Path::new(PRAXIS), false).await.unwrap().changes.is_empty());

    let masked = ctl.export(&company_id(PRAXIS_ID), false).await.unwrap();
    assert!(!masked.contains(CALCOM_KEY), "Cal.com key masked:\n{masked}");
    assert!(!masked.contains(CALDAV_PASSWORD), "CalDAV password masked:\n{masked}");
    assert!(
        masked.contains("api_key: '********'") || masked.contains("api_key: \"********\""),
        "{masked}"
    );
    assert!(masked.contains("calcom_managed:") && masked.contains("/calendars/praxis-kalender/hausbesuche/"));
    let exported = temp_file("praxis-export.yaml", &masked);
    let report = ctl.apply(&exported, false).await.unwrap();
    assert!(
        report.changes.is_empty(),
        "applying the export is a no-op:\n{}",
        report.render()
    );
    let stored = s.store.load_spec(&company_id(PRAXIS_ID)).await.unwrap().unwrap();
    let a = stored.appointments.unwrap();
    assert_eq!(a.calcom.unwrap().api_key, CALCOM_KEY, "stored key kept");
    assert_eq!(a.caldav.unwrap().password, CALDAV_PASSWORD, "stored password kept");
    let plain = ctl.export(&company_id(PRAXIS_ID), true).await.unwrap();
    assert!(plain.contains(CALCOM_KEY) && plain.contains(CALDAV_PASSWORD));

    // A masked password for another server is not filled in from the stored one.
    let moved = temp_file(
        "praxis-moved.yaml",
        &masked.replace("cloud.physio-lister-platz.example", "dav.other-host.example"),
    );
    let lines = invalid(ctl.apply(&moved, true).await.unwrap_err());
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].contains("appointments.caldav.password: is masked"),
        "{lines:?}"
    );

    // A changed policy is one item; dropping the section removes it.
    let edited = temp_file(
        "praxis-edited.yaml",
        &std::fs::read_to_string(PRAXIS)
            .unwrap()
            .replace("cancel_notice_hours: 12", "cancel_notice_hours: 6"),
    );
    let lines: Vec<String> = ctl
        .apply(&edited, false)
        .await
        .unwrap()
        .changes
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(lines, ["~ change appointments"]);
    let tenant = s.store.tenant(&company_id(PRAXIS_ID)).await.unwrap().unwrap();
    assert_eq!(tenant.appointments.unwrap().policy.cancel_notice_hours, 6);
    let mut desk = s.store.load_spec(&company_id(PRAXIS_ID)).await.unwrap().unwrap();
    desk.company.mode = gateway_domain::tenancy::GatewayMode::ServiceDesk;
    desk.appointments = None;
    let desk_file = temp_file("praxis-desk.yaml", &serde_norway::to_string(&desk).unwrap());
    let lines: Vec<String> = ctl
        .apply(&desk_file, false)
        .await
        .unwrap()
        .changes
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(lines, ["~ change company configuration", "- remove appointments"]);
    let stored = s.store.load_spec(&company_id(PRAXIS_ID)).await.unwrap().unwrap();
    assert!(stored.appointments.is_none());
}

#[tokio::test]
async fn an_appointment_company_without_a_booking_setup_is_refused() {
    let s = stack_with(&[]).await;
    let ctl = ctl(&s);
    let text = std::fs::read_to_string(PRAXIS).unwrap();
    let cut = text.find("appointments:\n").unwrap();
    let path = temp_file("praxis-bare.yaml", &text[..cut]);
    let lines = invalid(ctl.apply(&path, false).await.unwrap_err());
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].ends_with(
            "appointments: is required in mode appointment (branches, services and the calendars they book into)"
        ),
        "{lines:?}"
    );
    assert!(s.store.load_spec(&company_id(PRAXIS_ID)).await.unwrap().is_none());
}

#[tokio::test]
async fn customers_import_reports_bad_rows_and_updates_on_reimport() {
    let s = stack().await;
    let ctl = ctl(&s);
    let csv = "name,phone,email,company,external_id\n\
        Jonas Weber,0511 87654321,J.Weber@brandt.example,Brandt Elektrotechnik GmbH,K-10482\n\
        ,0511 1111111,,,\n\
        Maria Schäfer,+49 30 1234567,,Kanzlei Schäfer,\n\
        Kein Telefon,12,,,\n\
        Nur Mail,,mail@firma.example,,\n\
        Falsche Mail,,keine-mail,,\n";
    let path = temp_file("customers.csv", csv);
    let report = ctl.import_customers(&company_id(COMPANY), &path).await.unwrap();
    assert_eq!(report.imported, 3, "{:?}", report.skipped);
    let skipped = report.skipped.join("\n");
    assert_eq!(report.skipped.len(), 3, "{skipped}");
    assert!(skipped.contains("line 3: name is empty"), "{skipped}");
    assert!(skipped.contains("line 5: phone '12'"), "{skipped}");
    assert!(skipped.contains("line 7: e-mail 'keine-mail'"), "{skipped}");
    let customers = s.store.list_customers(&company_id(COMPANY)).await.unwrap();
    assert_eq!(customers.len(), 3);
    let maria = customers.iter().find(|c| c.name == "Maria Schäfer").unwrap();
    assert_eq!(maria.phone.as_deref(), Some("+49301234567"));

    let updated = temp_file(
        "customers.csv",
        &csv.replace("Brandt Elektrotechnik GmbH", "Brandt Elektro AG"),
    );
    ctl.import_customers(&company_id(COMPANY), &updated).await.unwrap();
    let customers = s.store.list_customers(&company_id(COMPANY)).await.unwrap();
    assert_eq!(customers.len(), 3, "re-import updates, it does not duplicate");
    assert!(
        customers
            .iter()
            .any(|c| c.company.as_deref() == Some("Brandt Elektro AG"))
    );
    assert!(
        s.store
            .list_customers(&company_id("kanzlei-berg"))
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn cases_list_and_show() {
    let s = stack().await;
    let ctl = ctl(&s);
    let (status, first) = s.post("/webhooks/retell", ANALYZED).await;
    assert_eq!(status, StatusCode::OK);
    s.post(
        "/webhooks/retell",
        include_str!("../../../events/retell/call_ended.json"),
    )
    .await;
    let second = edited(ANALYZED, |v| v["call"]["call_id"] = serde_json::json!("call_second"));
    s.post("/webhooks/retell", &second).await;

    let all = ctl
        .list_cases(&company_id(COMPANY), &CaseFilter::default())
        .await
        .unwrap();
    assert_eq!(all.len(), 2);
    assert!(all[0].created_at >= all[1].created_at, "newest first");
    let table = gatewayctl::render_case_table(&all);
    assert!(table.contains(first["ticket_id"].as_str().unwrap()) && table.contains("2 case(s)"));
    let pending = CaseFilter {
        output_status: Some(gateway_domain::case::OutputStatus::Pending),
        ..Default::default()
    };
    assert_eq!(ctl.list_cases(&company_id(COMPANY), &pending).await.unwrap().len(), 2);
    let sent = CaseFilter {
        output_status: Some(gateway_domain::case::OutputStatus::Sent),
        ..Default::default()
    };
    assert!(ctl.list_cases(&company_id(COMPANY), &sent).await.unwrap().is_empty());
    let future = CaseFilter {
        since: Some(chrono::Utc::now() + chrono::Duration::hours(1)),
        ..Default::default()
    };
    assert!(ctl.list_cases(&company_id(COMPANY), &future).await.unwrap().is_empty());
    assert!(
        ctl.list_cases(&company_id("kanzlei-berg"), &CaseFilter::default())
            .await
            .unwrap()
            .is_empty()
    );

    let view = ctl
        .show_case(&company_id(COMPANY), &ticket(first["ticket_id"].as_str().unwrap()))
        .await
        .unwrap();
    assert_eq!(view.case.call_id, CALL_ID);
    let kinds: Vec<&str> = view.events.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(kinds, ["call_analyzed", "call_ended"]);
    assert!(view.exchange_log.is_empty());
    assert!(
        ctl.show_case(
            &company_id("kanzlei-berg"),
            &ticket(first["ticket_id"].as_str().unwrap())
        )
        .await
        .is_err(),
        "tenant isolation"
    );
}

/// `gatewayctl costs report` over calls captured through the real edge: the ledger entries are
/// written with the call events (DynamoDB), listed per company and across companies, and the
/// figures are the ones computed by hand (see shared/domain/tests/contexts/costs.rs for the
/// rules; rounding half-up to the cent per call).
#[tokio::test]
async fn the_cost_report_of_a_month_equals_the_figures_computed_by_hand() {
    let mut nordit = nordit();
    nordit.company.billing = Some(
        serde_norway::from_str(
            "price_per_minute: 0.20\nprice_per_case: 0.50\nmonthly_base_fee: 49.00\nreseller_margin_percent: 15\nexchange_rates:\n  - {currency: USD, valid_from: 2026-11-16, eur: 0.87}\n  - {currency: USD, valid_from: 2026-11-01, eur: 0.86}\n",
        )
        .unwrap(),
    );
    let mut other = nordit.clone();
    other.company.company_id = company_id("kanzlei-berg");
    other.company.billing = None;
    other.routes.agents = vec!["agent_kanzlei".into()];
    other.routes.phones = vec!["+4951199999998".into()];
    let s = stack_with(&[nordit, other]).await;
    let call = |id: &str, agent: &str, start_ms: i64, cents: f64, seconds: u64| {
        edited(ANALYZED, |v| {
            let c = &mut v["call"];
            c["call_id"] = serde_json::json!(id);
            c["agent_id"] = serde_json::json!(agent);
            c["start_timestamp"] = serde_json::json!(start_ms);
            c["call_cost"] = serde_json::json!({"combined_cost": cents, "total_duration_seconds": seconds,
                "product_costs": [{"product": "telephony", "cost": 1.56}, {"product": "voice_engine", "cost": cents - 1.56}]});
        })
    };
    let agent = "agent_9f3a1c7e52b84d06a1e3c8f27b";
    // A: 2026-11-03 10:00 Berlin; B: 2026-11-15 23:30 UTC = the 16th in Berlin (rate 0.87).
    for body in [
        call("call_cost_a", agent, 1_793_696_400_000, 10.5, 67),
        call("call_cost_b", agent, 1_794_785_400_000, 250.0, 600),
        call("call_cost_k", "agent_kanzlei", 1_793_696_400_000, 20.0, 30),
    ] {
        let (status, reply) = s.post("/webhooks/retell", &body).await;
        assert_eq!(status, StatusCode::OK, "{reply}");
        assert_eq!(reply["status"], "captured");
    }
    let ctl = ctl(&s);
    let november: gateway_domain::costs::Month = "2026-11".parse().unwrap();
    let one = ctl.cost_report(Some(&company_id(COMPANY)), november).await.unwrap();
    assert_eq!(one.len(), 1);
    let t = &one[0].totals;
    // external 9 + 218; base 72 + 250 + fee 4900; reseller 11 + 38 + 735.
    assert_eq!(
        (t.calls, t.cases, t.external_cents, t.calls_base_cents, t.base_cents),
        (2, 2, 227, 322, 5222)
    );
    assert_eq!(
        (t.platform_profit_cents, t.reseller_profit_cents, t.price_cents),
        (4995, 784, 6006)
    );
    let table = gatewayctl::render_cost_report(november, &one);
    assert!(table.contains("call_cost_b"), "{table}");
    assert!(
        table.contains("52.22") && table.contains("49.95") && table.contains("60.06"),
        "{table}"
    );

    let all = ctl.cost_report(None, november).await.unwrap();
    let companies: Vec<&str> = all.iter().map(|c| c.company_id.as_str()).collect();
    assert_eq!(companies, ["kanzlei-berg", COMPANY]);
    assert_eq!(
        all[0].totals.unpriced_calls, 1,
        "no billing section: recorded, unpriced"
    );
    let table = gatewayctl::render_cost_report(november, &all);
    assert!(
        table.contains("TOTAL") && table.contains("1 call(s) unpriced"),
        "{table}"
    );

    // The CSV's EUR columns add up to the report.
    let csv = gatewayctl::render_cost_csv(&one).unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header = reader.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3, "two calls and the base fee");
    let sum = |name: &str| -> i64 {
        rows.iter()
            .map(|r| {
                let v: rust_decimal::Decimal = r[col(name)].parse().unwrap();
                i64::try_from(v * rust_decimal::Decimal::from(100)).unwrap()
            })
            .sum()
    };
    assert_eq!(sum("external_eur"), 227);
    assert_eq!(sum("base_eur"), 5222);
    assert_eq!(sum("platform_profit_eur"), 4995);
    assert_eq!(sum("reseller_profit_eur"), 784);
    assert_eq!(sum("price_eur"), 6006);
    assert_eq!(&rows[0][col("telephony_usd_cents")], "1.56");
    assert_eq!(&rows[0][col("retell_usd_cents")], "8.94");
}
