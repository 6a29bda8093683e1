//! The operator console end to end: the real console router (merged with the HTTP edge, as
//! `make run` serves it) against the emulator's DynamoDB, SQS and Cognito, driven in Debian's
//! Chromium through ChromeDriver. One browser session walks through every scenario (signing
//! in and out between users), so the suite starts one browser, not eight.
//!
//! Also writes the screenshots the README shows (`docs/screenshots/*.png`).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{Duration as Span, Utc};
use fantoccini::{Client, ClientBuilder, Locator};
use gateway_adapters::cognito::{ConsoleUsers, NewUser, Role, UserPool};
use gateway_domain::case::{CaseStatus, OutputStatus, Priority, ServiceCase};
use gateway_domain::tenancy::TenantSpec;
use gateway_e2e::prelude::*;
use gateway_e2e::*;
use serde_json::{Value, json};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const PASSWORD: &str = "Konsole-Test-2026";
const ADMIN_A: &str = "leitstand@nordit.example";
const VIEWER_A: &str = "leser@nordit.example";
const OPERATOR_B: &str = "desk@acme.example";
const COMPANY_B: &str = "acme-berlin";
const SESSION_COOKIE: &str = "gw_console";

/// Company A delivers by webhook to this stack's sink and by e-mail to a per-test mailbox.
fn company_a(s: &Stack) -> TenantSpec {
    let mut spec = nordit();
    let out = &mut spec.outputs[0];
    let email = out.email.as_mut().unwrap();
    email.recipients = vec![format!("desk+{}@nordit.example", s.prefix)];
    email.muted.clear();
    out.webhook.as_mut().unwrap().url = s.sink.url("/api/v1/tickets");
    spec
}

/// Company B: the demo document under another id, number and agent.
fn company_b(s: &Stack) -> TenantSpec {
    let mut spec = company_a(s);
    spec.company.company_id = CompanyId::new(COMPANY_B);
    spec.company.name = "ACME Berlin GmbH".into();
    spec.routes.agents = vec!["agent_acme_berlin_0000000000".into()];
    spec.routes.phones = vec!["+493012345678".into()];
    spec
}

/// One seeded case: what differs from the sample call.
struct Seed {
    call: &'static str,
    ticket: &'static str,
    hours_ago: i64,
    subject: &'static str,
    caller: &'static str,
    phone: &'static str,
    category: &'static str,
    status: CaseStatus,
    priority: Priority,
    output: OutputStatus,
    /// Resolution due this many hours from now (negative: overdue).
    due_in_hours: i64,
}

const SEEDS: &[Seed] = &[
    Seed {
        call: "call_console_printer",
        ticket: "TKT-2026-00101",
        hours_ago: 1,
        subject: "Drucker im 2. OG zieht kein Papier ein",
        caller: "Jonas Weber",
        phone: "+4951187654321",
        category: "print",
        status: CaseStatus::New,
        priority: Priority::High,
        output: OutputStatus::Failed,
        due_in_hours: 7,
    },
    Seed {
        call: "call_console_vpn",
        ticket: "TKT-2026-00102",
        hours_ago: 30,
        subject: "VPN-Verbindung bricht alle zehn Minuten ab",
        caller: "Petra Schulz",
        phone: "+4951155501234",
        category: "network",
        status: CaseStatus::Open,
        priority: Priority::Critical,
        output: OutputStatus::Sent,
        due_in_hours: -2,
    },
    Seed {
        call: "call_console_access",
        ticket: "TKT-2026-00103",
        hours_ago: 5,
        subject: "Neue Kollegin braucht Zugang zu Teams und Outlook",
        caller: "Anna Krüger",
        phone: "+4951144403322",
        category: "m365",
        status: CaseStatus::Pending,
        priority: Priority::Normal,
        output: OutputStatus::Pending,
        due_in_hours: 20,
    },
    Seed {
        call: "call_console_monitor",
        ticket: "TKT-2026-00104",
        hours_ago: 50,
        subject: "Zweiter Monitor flackert nach Windows-Update",
        caller: "Murat Yilmaz",
        phone: "+4951133302211",
        category: "endpoint",
        status: CaseStatus::Resolved,
        priority: Priority::Low,
        output: OutputStatus::Sent,
        due_in_hours: 40,
    },
    Seed {
        call: "call_console_password",
        ticket: "TKT-2026-00105",
        hours_ago: 3,
        subject: "Passwort abgelaufen, Anmeldung am Laptop nicht möglich",
        caller: "Sabine Hoffmann",
        phone: "+4951122201100",
        category: "identity",
        status: CaseStatus::Open,
        priority: Priority::High,
        output: OutputStatus::Sent,
        due_in_hours: 1,
    },
    Seed {
        call: "call_console_phishing",
        ticket: "TKT-2026-00106",
        hours_ago: 80,
        subject: "Verdächtige E-Mail mit Rechnungsanhang geöffnet",
        caller: "Thomas Becker",
        phone: "+4951166607788",
        category: "security",
        status: CaseStatus::Closed,
        priority: Priority::Critical,
        output: OutputStatus::Sent,
        due_in_hours: -40,
    },
];

async fn seed(s: &Stack, company: &CompanyId, seed: &Seed) -> ServiceCase {
    let tenant = s.store.tenant(company).await.unwrap().unwrap();
    let envelope: gateway_domain::capture::retell::payload::WebhookEnvelope = serde_json::from_str(ANALYZED).unwrap();
    let call = envelope.call.unwrap();
    let now = Utc::now();
    let created = now - Span::hours(seed.hours_ago);
    let call_id = CallId::new(format!("{}_{}", seed.call, company));
    let mut case = gateway_domain::capture::draft::from_analysis(&tenant, &call, &call_id, created);
    case.subject = seed.subject.into();
    case.caller.name = Some(seed.caller.into());
    case.caller.phone = Some(seed.phone.into());
    case.category = Some(seed.category.into());
    case.status = seed.status;
    case.priority = seed.priority;
    case.output_status = seed.output;
    case.enrichment_status = gateway_domain::case::EnrichmentStatus::Enriched;
    case.enrichment.audio_object_key = Some(format!("{company}/{}/recording.wav", case.case_id));
    case.sla_resolution_due_at = Some(now + Span::hours(seed.due_in_hours));
    case.output_sent_at = (seed.output == OutputStatus::Sent).then(|| created + Span::seconds(95));
    case.output_error = (seed.output == OutputStatus::Failed).then(|| "webhook: HTTP 503: maintenance".to_string());
    case.enqueued_at = Some(created);
    let mut event = CallEvent::new(Some(company), &call_id, "call_analyzed", created);
    // The call's cost-ledger entry as capture writes it, on today's date (the dashboard's card
    // shows the current month).
    let provider = gateway_domain::costs::ProviderCost::from_retell(call.call_cost.as_ref(), call.duration_ms).unwrap();
    event.cost = Some(gateway_domain::costs::CostRecord::new(
        company,
        &call_id,
        now.with_timezone(&tenant.tz()).date_naive(),
        provider,
        true,
        tenant.config.billing.as_ref(),
        now,
    ));
    s.store.create_case(&case, &event).await.unwrap();
    let ticket = TicketRef::new(seed.ticket);
    s.store
        .complete_handoff(company, &call_id, &ticket, created)
        .await
        .unwrap();
    case.ticket_ref = Some(ticket);
    case
}

/// The console served on a free port next to the HTTP edge, with its user pool and users.
struct Console {
    s: Stack,
    base: String,
    /// The console's metric lines (EMF).
    metrics: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

async fn console() -> Console {
    let s = stack_with(&[]).await;
    s.store.apply_spec(&company_a(&s)).await.unwrap();
    s.store.apply_spec(&company_b(&s)).await.unwrap();
    let pool: UserPool = gateway_local::console_user_pool(&s.sdk, &format!("{}-console", s.prefix))
        .await
        .expect("user pool in the emulator");
    let users = ConsoleUsers::new(aws_sdk_cognitoidentityprovider::Client::new(&s.sdk), &pool.pool_id);
    for (username, company, role) in [
        (ADMIN_A, COMPANY, Role::Admin),
        (VIEWER_A, COMPANY, Role::Viewer),
        (OPERATOR_B, COMPANY_B, Role::Operator),
    ] {
        users
            .add(&NewUser {
                username,
                email: Some(username),
                company_id: company,
                role,
                platform_admin: false,
                password: PASSWORD,
            })
            .await
            .expect("console user");
    }
    let policy = gateway_local::local_url_policy(std::slice::from_ref(&s.sink.addr), None);
    let (emf, metrics) = gateway_lambda::metrics::Emf::captured();
    let app = console::App::new(
        &gateway_local::console_config(&s.endpoint, &s.resources, &pool, policy),
        &s.sdk,
    )
    .with_metrics(std::sync::Arc::new(emf));
    let router = s.router.clone().merge(app.into_router());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    Console { s, base, metrics }
}

/// ChromeDriver on a free port; stopped (with its browser) when dropped.
struct Driver {
    child: Child,
    url: String,
    profile: PathBuf,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

async fn browser() -> (Driver, Client) {
    for path in [CHROMIUM, CHROMEDRIVER] {
        assert!(
            std::path::Path::new(path).exists(),
            "{path} is missing: the console's browser tests need Debian's Chromium and ChromeDriver. \
             Install them with `infra/browser.sh install` (apt-get install chromium chromium-driver; \
             `make test` does it)."
        );
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting chromedriver");
    let profile = std::env::temp_dir().join(format!("console-e2e-{}-{port}", std::process::id()));
    let driver = Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
        profile,
    };
    let started = Instant::now();
    loop {
        if let Ok(resp) = reqwest::get(format!("{}/status", driver.url)).await
            && resp
                .json::<Value>()
                .await
                .is_ok_and(|v| v["value"]["ready"] == json!(true))
        {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "chromedriver did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let caps = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1360,900", "--lang=de-DE",
                format!("--user-data-dir={}", driver.profile.display()),
            ],
            "prefs": {"intl.accept_languages": "de-DE,de"}
        }
    });
    let Value::Object(caps) = caps else { unreachable!() };
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a browser session");
    (driver, client)
}

/// Waits (polling, no fixed sleep) until `check` holds; panics with `what` after 15 s.
async fn until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !check().await {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn text(c: &Client, css: &str) -> String {
    // The element can go stale between finding and reading it when a page is still loading
    // after a navigation: look it up again.
    for _ in 0..5 {
        let element = c
            .wait()
            .at_most(Duration::from_secs(15))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"));
        match element.text().await {
            Ok(text) => return text,
            Err(e) if e.to_string().contains("stale element") => continue,
            Err(e) => panic!("{css}: {e}"),
        }
    }
    panic!("{css}: stale five times in a row")
}

/// Waits until `css` reads `expected`: after a form's redirect the previous page (with its own
/// message) may still be the one on screen for a moment.
async fn shows(c: &Client, css: &str, expected: &str) {
    let started = Instant::now();
    loop {
        let now = text(c, css).await;
        if now == expected {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "{css} reads {now:?}, not {expected:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The text of every element `css` matches, in document order.
async fn texts(c: &Client, css: &str) -> Vec<String> {
    let mut found = Vec::new();
    for element in c.find_all(Locator::Css(css)).await.unwrap() {
        found.push(element.text().await.unwrap().trim().to_string());
    }
    found
}

async fn sign_in(c: &Client, base: &str, user: &str, password: &str) {
    c.goto(&format!("{base}/console/login")).await.unwrap();
    c.find(Locator::Id("username"))
        .await
        .unwrap()
        .send_keys(user)
        .await
        .unwrap();
    c.find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys(password)
        .await
        .unwrap();
    c.find(Locator::Id("sign-in")).await.unwrap().click().await.unwrap();
}

async fn sign_out(c: &Client) {
    c.find(Locator::Id("sign-out")).await.unwrap().click().await.unwrap();
    c.wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Id("login-form"))
        .await
        .unwrap();
}

/// Ticket references in the cases table.
async fn listed(c: &Client) -> Vec<String> {
    c.wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css("#case-count"))
        .await
        .unwrap();
    let mut out = Vec::new();
    for cell in c.find_all(Locator::Css("#cases a.ticket")).await.unwrap() {
        out.push(cell.text().await.unwrap());
    }
    out.sort();
    out
}

/// A full-page screenshot for the README.
async fn screenshot(c: &Client, name: &str) {
    let height = c
        .execute("return document.documentElement.scrollHeight", vec![])
        .await
        .unwrap()
        .as_f64()
        .unwrap_or(900.0) as u32;
    c.set_window_size(1360, height.clamp(700, 2600) + 120).await.unwrap();
    let png = c.screenshot().await.unwrap();
    let dir = PathBuf::from("../docs/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    c.set_window_size(1360, 900).await.unwrap();
}

/// `fetch` inside the page (the session cookie rides along): status and body.
async fn fetch(c: &Client, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
    let v = c
        .execute_async(
            "const [method, path, body, done] = arguments;
             fetch(path, {method, body, redirect: 'manual',
                          headers: body ? {'content-type': 'application/x-www-form-urlencoded'} : {}})
               .then(r => r.text().then(t => done([r.status, t])));",
            vec![json!(method), json!(path), json!(body)],
        )
        .await
        .unwrap();
    (
        v[0].as_u64().unwrap() as u16,
        v[1].as_str().unwrap_or_default().to_string(),
    )
}

/// The console's CSRF token on the current page (every signed-in page has the sign-out form).
async fn csrf(c: &Client) -> String {
    c.find(Locator::Css("input[name=_csrf]"))
        .await
        .unwrap()
        .attr("value")
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn the_console_in_a_real_browser() {
    let Console { s, base, .. } = console().await;
    let a = company_id(COMPANY);
    let b = company_id(COMPANY_B);
    let mut seeded = Vec::new();
    for seed_case in SEEDS {
        seeded.push(seed(&s, &a, seed_case).await);
    }
    let b_case = seed(
        &s,
        &b,
        &Seed {
            call: "call_console_acme",
            ticket: "TKT-2026-00001",
            hours_ago: 2,
            subject: "Kassensystem startet nicht",
            caller: "Lena Vogel",
            phone: "+493099988877",
            category: "endpoint",
            status: CaseStatus::New,
            priority: Priority::High,
            output: OutputStatus::Pending,
            due_in_hours: 6,
        },
    )
    .await;
    let printer = &seeded[0];
    let printer_page = format!("/console/cases/{}", printer.call_id);
    let (_driver, c) = browser().await;

    // Signed out, every page leads to the sign-in form.
    c.goto(&format!("{base}/console/cases")).await.unwrap();
    assert!(c.current_url().await.unwrap().path().ends_with("/console/login"));

    // A wrong password: the form again, with a German error.
    sign_in(&c, &base, ADMIN_A, "Falsches-Passwort-1").await;
    assert_eq!(text(&c, "#login-error").await, "Benutzername oder Passwort ist falsch.");
    assert_eq!(
        c.find(Locator::Id("username"))
            .await
            .unwrap()
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some(ADMIN_A),
        "the username is kept"
    );

    // Signed in: the dashboard, with an HttpOnly, Secure, SameSite=Strict session.
    sign_in(&c, &base, ADMIN_A, PASSWORD).await;
    let open = text(&c, "#kpi-open .value").await;
    assert_eq!(open, "4", "new, open, pending, open");
    let cookie = c.get_named_cookie(SESSION_COOKIE).await.expect("session cookie");
    assert_eq!(cookie.http_only(), Some(true));
    assert_eq!(cookie.secure(), Some(true));
    assert_eq!(format!("{:?}", cookie.same_site()), "Some(Strict)");
    assert!(text(&c, "#kpi-failed .value").await.starts_with('1'));
    // The month's costs from the ledger, computed by hand from the sample call (Retell: 10.5 US
    // cents, 67 s) and nordit's billing (0.20 EUR/min, 0.50 EUR per case, 49 EUR a month, 15 %
    // reseller margin): per call 67 s × 0.20/60 + 0.50 = 0.72 EUR, + 15 % = 0.83 EUR; the month
    // 6 × 0.83 + 49.00 + 7.35 = 61.33 EUR. Company A sees its price, not the platform's layers.
    // Last month had no calls: its price is the base fee with the margin (49.00 + 7.35).
    assert_eq!(texts(&c, "#costs .costs-calls").await, ["6", "0"]);
    assert_eq!(texts(&c, "#costs .costs-cases").await, ["6", "0"]);
    assert_eq!(texts(&c, "#costs .costs-minutes").await, ["6,7", "0,0"]);
    assert_eq!(
        texts(&c, "#costs .costs-price").await,
        [
            "61,33 € (davon Grundgebühr 49,00 €)",
            "56,35 € (davon Grundgebühr 49,00 €)"
        ]
    );
    assert!(
        c.find(Locator::Id("costs-platform")).await.is_err(),
        "only platform admins see costs and profits"
    );
    screenshot(&c, "dashboard").await;

    // The case list: every case of the company, none of the other's.
    c.goto(&format!("{base}/console/cases")).await.unwrap();
    let all: Vec<String> = SEEDS.iter().map(|s| s.ticket.to_string()).collect();
    assert_eq!(listed(&c).await, all);
    screenshot(&c, "cases").await;

    // Filters through the form: status "Offen".
    c.find(Locator::Id("status"))
        .await
        .unwrap()
        .select_by_value("open")
        .await
        .unwrap();
    c.find(Locator::Id("apply-filters"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    until("the status filter", || async {
        c.current_url()
            .await
            .is_ok_and(|u| u.query().unwrap_or_default().contains("status=open"))
    })
    .await;
    assert_eq!(listed(&c).await, ["TKT-2026-00102", "TKT-2026-00105"]);
    // …and by query string: priority, overdue, output status, search by name, number, ticket.
    for (query, expected) in [
        ("priority=critical", vec!["TKT-2026-00102", "TKT-2026-00106"]),
        ("overdue=1", vec!["TKT-2026-00102"]),
        ("output=failed", vec!["TKT-2026-00101"]),
        ("category=print&status=new", vec!["TKT-2026-00101"]),
        ("q=Krüger", vec!["TKT-2026-00103"]),
        ("q=kruger", vec![]),
        ("q=0511+555+012", vec!["TKT-2026-00102"]),
        ("q=tkt-2026-00104", vec!["TKT-2026-00104"]),
        ("q=00106", vec!["TKT-2026-00106"]),
        ("q=TKT-2026-00001", vec![]),
    ] {
        c.goto(&format!("{base}/console/cases?{query}")).await.unwrap();
        assert_eq!(listed(&c).await, expected, "{query}");
    }
    assert_eq!(
        text(&c, "#no-cases").await,
        "Keine Fälle gefunden.",
        "company B's ticket is not found"
    );

    // The CSV export of a filtered list: the link carries the filter, the file its rows.
    c.goto(&format!("{base}/console/cases?priority=critical"))
        .await
        .unwrap();
    let href = c
        .find(Locator::Id("export-csv"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    assert!(
        href.starts_with("/console/cases.csv?") && href.contains("priority=critical"),
        "{href}"
    );
    let session = cookie.value().to_string();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = http
        .get(format!("{base}{href}"))
        .header("cookie", format!("{SESSION_COOKIE}={session}"))
        .header("accept-language", "de")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(
        resp.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"faelle-nordit-hannover-")
    );
    let csv = resp.text().await.unwrap();
    let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(
        lines[0],
        "Ticket;Erfasst;Status;Priorität;Kategorie;Betreff;Name;Firma;Rückrufnummer;Zustellung;Anreicherung;Lösung fällig;Externe Referenz"
    );
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(
        lines[1..]
            .iter()
            .any(|l| l.starts_with("TKT-2026-00102;") && l.contains(";Kritisch;Netzwerk & Internet;VPN-Verbindung"))
    );
    assert!(
        lines[1..]
            .iter()
            .any(|l| l.starts_with("TKT-2026-00106;") && l.contains("'+4951166607788"))
    );
    let anonymous = http.get(format!("{base}{href}")).send().await.unwrap();
    assert_eq!(anonymous.status(), 303, "no session, no export");

    // A POST without the CSRF token (or with another) is refused, and changes nothing.
    c.goto(&format!("{base}{printer_page}")).await.unwrap();
    let token = csrf(&c).await;
    let notes_path = format!("{printer_page}/notes");
    let (status, body) = fetch(&c, "POST", &notes_path, Some("note=ohne+Token")).await;
    assert_eq!(status, 403);
    assert!(body.contains("Sicherheitsprüfung"), "{body}");
    let (status, _) = fetch(&c, "POST", &notes_path, Some("note=falsch&_csrf=00ff")).await;
    assert_eq!(status, 403);
    let (status, _) = fetch(&c, "POST", &format!("{printer_page}/redeliver"), Some("channels=both")).await;
    assert_eq!(status, 403);
    let log = s.store.exchange_log(&a, &printer.case_id).await.unwrap();
    assert!(log.is_empty(), "nothing was written: {log:?}");
    assert!(!token.is_empty());

    // A redelivery from the case page ends with the case sent (the deliver consumer runs here).
    s.sink.script(&[(201, r#"{"id": 4711, "number": "31077"}"#)]);
    assert_eq!(text(&c, "#case-output").await, "Zustellung: Fehlgeschlagen");
    c.find(Locator::Id("channels"))
        .await
        .unwrap()
        .select_by_value("missing")
        .await
        .unwrap();
    c.find(Locator::Id("redeliver")).await.unwrap().click().await.unwrap();
    shows(&c, "#done", "Der Fall wurde zur Zustellung eingereiht.").await;
    assert_eq!(s.run_deliver_once(5).await, (1, 0));
    let stored = s.store.get_case(&a, &printer.call_id).await.unwrap().unwrap();
    assert_eq!(stored.output_status, OutputStatus::Sent);
    assert_eq!(stored.external_reference.as_deref(), Some("31077"));
    c.refresh().await.unwrap();
    assert_eq!(text(&c, "#case-output").await, "Zustellung: Zugestellt");
    let timeline = text(&c, "#timeline").await;
    assert!(timeline.contains("console · manual-redelivery"), "{timeline}");
    assert!(timeline.contains(&format!("durch {ADMIN_A}")), "{timeline}");
    assert!(timeline.contains("deliver · webhook"), "{timeline}");

    // Status and priority with a note, and an internal note: both on the trail, with who.
    c.find(Locator::Id("wf-status"))
        .await
        .unwrap()
        .select_by_value("open")
        .await
        .unwrap();
    c.find(Locator::Id("wf-priority"))
        .await
        .unwrap()
        .select_by_value("critical")
        .await
        .unwrap();
    c.find(Locator::Id("wf-note"))
        .await
        .unwrap()
        .send_keys("Kunde zurückgerufen, Techniker unterwegs")
        .await
        .unwrap();
    c.find(Locator::Id("save-workflow"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    shows(&c, "#done", "Status und Priorität gespeichert.").await;
    assert_eq!(text(&c, "#case-status").await, "Offen");
    assert_eq!(text(&c, "#case-priority").await, "Kritisch");
    c.find(Locator::Id("note"))
        .await
        .unwrap()
        .send_keys("Ersatz-Toner liegt im Lager 3")
        .await
        .unwrap();
    c.find(Locator::Id("add-note")).await.unwrap().click().await.unwrap();
    shows(&c, "#done", "Notiz gespeichert.").await;
    let timeline = text(&c, "#timeline").await;
    assert!(
        timeline.contains("status new → open, priority high → critical; note: Kunde zurückgerufen"),
        "{timeline}"
    );
    assert!(timeline.contains("Ersatz-Toner liegt im Lager 3"), "{timeline}");
    let stored = s.store.get_case(&a, &printer.call_id).await.unwrap().unwrap();
    assert_eq!((stored.status, stored.priority), (CaseStatus::Open, Priority::Critical));
    // The webhook's entry opens with its request and a cURL without secrets.
    c.execute(
        "document.querySelectorAll('#timeline details').forEach(d => d.open = true)",
        vec![],
    )
    .await
    .unwrap();
    let curl = text(&c, "pre.curl").await;
    assert!(curl.starts_with("curl -X POST 'http://"), "{curl}");
    assert!(curl.contains("-H \"Authorization: $AUTHORIZATION\""), "{curl}");
    assert!(!curl.contains("demo-zammad-token"), "{curl}");
    c.execute(
        "document.querySelectorAll('#timeline details').forEach(d => d.open = false); window.scrollTo(0, 0)",
        vec![],
    )
    .await
    .unwrap();
    screenshot(&c, "case").await;

    // The exchange log: the company's entries with the hint per status, each in full.
    c.goto(&format!("{base}/console/log?kind=success")).await.unwrap();
    let log = text(&c, "#log").await;
    assert!(
        log.contains("deliver · webhook") && log.contains("Erfolgreich übermittelt."),
        "{log}"
    );
    assert!(log.contains("console · note") && log.contains(ADMIN_A), "{log}");
    c.goto(&format!("{base}/console/log?min=400")).await.unwrap();
    assert!(c.find(Locator::Css("#log")).await.is_err(), "no failed entries");
    c.goto(&format!("{base}/console/log")).await.unwrap();
    c.find(Locator::Css("#log tbody tr:last-child td a"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert!(text(&c, "main h1").await.contains(" · "));

    // Outputs: read-only configuration, a signed test webhook (marked, logged), the e-mail preview.
    c.goto(&format!("{base}/console/outputs")).await.unwrap();
    let output = text(&c, "#output-it-ticketing").await;
    assert!(
        output.contains("signiert (Secret hinterlegt)") && !output.contains("whsec_"),
        "{output}"
    );
    assert!(!output.contains("demo-zammad-token"), "{output}");
    let before = s.sink.received().len();
    c.find(Locator::Css("#output-it-ticketing form button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let result = text(&c, "#test-result").await;
    assert!(
        result.contains("201 Erfolg") && result.contains("Erfolgreich übermittelt."),
        "{result}"
    );
    let received = s.sink.received();
    assert_eq!(received.len(), before + 1);
    let test = received.last().unwrap();
    assert_eq!(test.headers["x-gateway-test"], "true");
    assert_eq!(test.headers["x-event"], "service_case.test");
    let body = String::from_utf8_lossy(&test.body);
    assert!(body.contains("[TEST]"), "{body}");
    let legacy = gateway_domain::delivery::webhook::legacy_signature(
        &company_a(&s).outputs[0]
            .webhook
            .as_ref()
            .unwrap()
            .secret
            .clone()
            .unwrap(),
        &test.body,
    );
    assert_eq!(test.headers["x-signature"], legacy.as_str(), "signed like a delivery");
    let logged = s.store.exchange_log(&a, &CaseId::new("TEST")).await.unwrap();
    assert_eq!(logged.len(), 1, "the test is logged");
    assert_eq!(logged[0]["operation"], "test-webhook");
    assert_eq!(logged[0]["operator"], ADMIN_A);
    let (status, preview) = fetch(&c, "GET", "/console/outputs/it-ticketing/preview", None).await;
    assert_eq!(status, 200);
    assert!(
        preview.contains("TKT-2026-00042") && preview.contains("Jürgen O") && !preview.contains("</script>"),
        "the sample case, escaped"
    );

    // Another company's case, even by its URL: not found (404, as if it did not exist).
    let (status, _) = fetch(&c, "GET", &format!("/console/cases/{}", b_case.call_id), None).await;
    assert_eq!(status, 404);
    sign_out(&c).await;
    assert!(c.get_named_cookie(SESSION_COOKIE).await.is_err(), "the cookie is gone");

    // A viewer sees the case but no action, and a POST of theirs (with a valid token) is refused.
    sign_in(&c, &base, VIEWER_A, PASSWORD).await;
    text(&c, "#kpi-open").await;
    c.goto(&format!("{base}{printer_page}")).await.unwrap();
    assert_eq!(
        text(&c, "#viewer-notice").await,
        "Als Leser können Sie Fälle ansehen, aber nichts ändern."
    );
    assert!(c.find(Locator::Id("redeliver")).await.is_err(), "no redeliver button");
    let token = csrf(&c).await;
    let (status, body) = fetch(
        &c,
        "POST",
        &format!("{printer_page}/redeliver"),
        Some(&format!("channels=both&_csrf={token}")),
    )
    .await;
    assert_eq!(status, 403);
    assert!(body.contains("Keine Berechtigung"), "{body}");
    sign_out(&c).await;

    // A user of company B: their own case only; company A's case by URL is a 404 page.
    sign_in(&c, &base, OPERATOR_B, PASSWORD).await;
    text(&c, "#kpi-open").await;
    c.goto(&format!("{base}/console/cases")).await.unwrap();
    assert_eq!(listed(&c).await, ["TKT-2026-00001"]);
    c.goto(&format!("{base}{printer_page}")).await.unwrap();
    assert_eq!(text(&c, "main h1").await, "Nicht gefunden");
    let (status, _) = fetch(&c, "GET", &printer_page, None).await;
    assert_eq!(status, 404);
    c.goto(&format!("{base}/console/cases?q=TKT-2026-00101")).await.unwrap();
    assert!(listed(&c).await.is_empty(), "A's ticket is not found from B");
    let (status, body) = fetch(&c, "GET", "/console/cases.csv", None).await;
    assert_eq!(status, 200);
    assert!(
        body.contains("TKT-2026-00001") && !body.contains("TKT-2026-001"),
        "{body}"
    );
    // A redelivery of A's case from B's session: not found, nothing queued.
    let token = csrf(&c).await;
    let (status, _) = fetch(
        &c,
        "POST",
        &format!("{printer_page}/redeliver"),
        Some(&format!("channels=both&_csrf={token}")),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(s.run_deliver_once(1).await, (0, 0));
    c.close().await.unwrap();
}

/// Headers every page carries, and what the edge does with sessions it did not sign or tokens
/// that do not verify (no browser needed).
#[tokio::test]
async fn sessions_are_verified_on_every_request() {
    let Console { s, base, metrics } = console().await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let login = http.get(format!("{base}/console/login")).send().await.unwrap();
    assert_eq!(login.status(), 200);
    let h = login.headers();
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("default-src 'none'")
            && csp.contains("script-src 'self'")
            && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert_eq!(h["cache-control"], "no-store");
    let english = http
        .get(format!("{base}/console/login"))
        .header("accept-language", "en-US,en;q=0.9")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(english.contains("Sign in with your console account."));

    // A real sign-in over plain HTTP gives the session cookie.
    let resp = http
        .post(format!("{base}/console/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("username=leitstand%40nordit.example&password={PASSWORD}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    let set = resp.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        set.contains("HttpOnly") && set.contains("Secure") && set.contains("SameSite=Strict"),
        "{set}"
    );
    let value = set
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("gw_console=")
        .to_string();
    let get = |cookie: String| {
        let http = http.clone();
        let base = base.clone();
        async move {
            http.get(format!("{base}/console/cases"))
                .header("cookie", format!("{SESSION_COOKIE}={cookie}"))
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(get(value.clone()).await, 200);

    let key = console::auth::session::SessionKey::new(gateway_local::CONSOLE_SESSION_KEY);
    let session = key.open(&value).unwrap();
    // The company in a session counts for platform admins only: this user stays in their own.
    let elsewhere = key.seal(&console::auth::session::SessionData {
        company: Some(COMPANY_B.into()),
        ..session.clone()
    });
    let page = http
        .get(format!("{base}/console/cases?q=TKT-2026-00001"))
        .header("cookie", format!("{SESSION_COOKIE}={elsewhere}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("NordIT Systemhaus GmbH") && !page.contains("ACME Berlin"));
    // A token changed by one character no longer verifies: back to the sign-in form.
    let mut parts: Vec<String> = session.token.split('.').map(str::to_string).collect();
    let last = if parts[1].ends_with('A') { 'B' } else { 'A' };
    parts[1] = format!("{}{last}", &parts[1][..parts[1].len() - 1]);
    let tampered = key.seal(&console::auth::session::SessionData {
        token: parts.join("."),
        company: None,
    });
    assert_eq!(get(tampered).await, 303);
    // A cookie signed with another key is not a session.
    let foreign = console::auth::session::SessionKey::new("another-key-another-key-another-key").seal(&session);
    assert_eq!(get(foreign).await, 303);
    // A platform admin switches company through the signed session (never a URL or form field
    // of a page): the list then shows the other company's cases.
    let users = ConsoleUsers::new(aws_sdk_cognitoidentityprovider::Client::new(&s.sdk), pool_id(&s).await);
    users
        .add(&NewUser {
            username: "plattform@service-gateway.example",
            email: None,
            company_id: COMPANY,
            role: Role::Admin,
            platform_admin: true,
            password: PASSWORD,
        })
        .await
        .unwrap();
    let resp = http
        .post(format!("{base}/console/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "username=plattform%40service-gateway.example&password={PASSWORD}"
        ))
        .send()
        .await
        .unwrap();
    let admin = resp.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let page = http
        .get(format!("{base}/console/cases"))
        .header("cookie", &admin)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = page
        .split("name=\"_csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_string();
    let switched = http
        .post(format!("{base}/console/company"))
        .header("cookie", &admin)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("company={COMPANY_B}&_csrf={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(switched.status(), 303);
    let chosen = switched.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let page = http
        .get(format!("{base}/console/cases"))
        .header("cookie", &chosen)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("ACME Berlin GmbH"), "now looking at company B");
    // A platform admin's dashboard shows the layers behind the price: company B has no calls
    // this month, so its price is the base fee and the reseller's 15 % on it (49.00 + 7.35).
    let dashboard = http
        .get(format!("{base}/console"))
        .header("cookie", &chosen)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(dashboard.contains("id=\"costs-platform\""), "{dashboard}");
    assert!(dashboard.contains("<strong>56,35 €</strong>"), "{dashboard}");
    assert!(
        dashboard.contains("<td class=\"costs-platform-profit\">49,00 €</td>"),
        "{dashboard}"
    );
    // An operator of company A may not switch.
    let refused = http
        .post(format!("{base}/console/company"))
        .header("cookie", format!("{SESSION_COOKIE}={value}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("company={COMPANY_B}&_csrf={}", key.csrf(&value)))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);

    // Every request's handler time is a valid EMF line of the console (no company: it is
    // measured before the session says whose request it is).
    let lines = metrics.lock().unwrap().clone();
    assert!(lines.len() >= 5, "{lines:?}");
    for line in &lines {
        assert_eq!(
            gateway_lambda::metrics::validate_line(line),
            Vec::<String>::new(),
            "{line}"
        );
        let doc: Value = serde_json::from_str(line).unwrap();
        assert_eq!(doc["Function"], "console", "{line}");
        assert!(doc["HandlerDuration"].as_f64().is_some_and(|ms| ms >= 0.0), "{line}");
    }

    // The assets are cached, the pages are not.
    let css = http
        .get(format!("{base}/console/static/x/console.css"))
        .send()
        .await
        .unwrap();
    assert!(css.headers()["cache-control"].to_str().unwrap().contains("immutable"));
    drop(s);
}

/// The pool of a stack's console (created by `console()` under the stack's prefix).
async fn pool_id(s: &Stack) -> String {
    gateway_local::console_user_pool(&s.sdk, &format!("{}-console", s.prefix))
        .await
        .unwrap()
        .pool_id
}

/// `gatewayctl users add|list|remove` against the emulator's Cognito.
#[tokio::test]
async fn gatewayctl_manages_console_users() {
    let s = stack_with(&[]).await;
    let pool = gateway_local::console_user_pool(&s.sdk, &format!("{}-ctl", s.prefix))
        .await
        .unwrap();
    let users = ConsoleUsers::new(aws_sdk_cognitoidentityprovider::Client::new(&s.sdk), &pool.pool_id);
    let add = |username: &str, company: &str, role, platform_admin, password: &str| gatewayctl::UsersRequest::Add {
        username: username.into(),
        email: Some(username.into()),
        company: CompanyId::new(company),
        role,
        platform_admin,
        password: password.into(),
    };
    let out = gatewayctl::users(
        &users,
        add("a@nordit.example", COMPANY, Role::Operator, false, PASSWORD),
    )
    .await
    .unwrap();
    assert_eq!(out, "a@nordit.example: operator of nordit-hannover\n");
    gatewayctl::users(&users, add("root@example.com", COMPANY_B, Role::Admin, true, PASSWORD))
        .await
        .unwrap();
    let again = gatewayctl::users(&users, add("a@nordit.example", COMPANY, Role::Viewer, false, PASSWORD)).await;
    assert!(again.unwrap_err().to_string().contains("exists already"));
    let weak = gatewayctl::users(&users, add("b@nordit.example", COMPANY, Role::Viewer, false, "kurz")).await;
    assert!(
        weak.unwrap_err().to_string().contains("password"),
        "the pool's policy applies"
    );
    let list = gatewayctl::users(&users, gatewayctl::UsersRequest::List { company: None })
        .await
        .unwrap();
    assert!(
        list.contains("a@nordit.example") && list.contains("root@example.com"),
        "{list}"
    );
    assert!(
        !list.contains("b@nordit.example"),
        "a refused user is not left behind: {list}"
    );
    let platform = list.lines().find(|l| l.starts_with("root@example.com")).unwrap();
    assert!(
        platform.contains("acme-berlin") && platform.contains("yes"),
        "{platform}"
    );
    let only_a = gatewayctl::users(
        &users,
        gatewayctl::UsersRequest::List {
            company: Some(CompanyId::new(COMPANY)),
        },
    )
    .await
    .unwrap();
    assert!(
        only_a.contains("a@nordit.example") && !only_a.contains("root@"),
        "{only_a}"
    );
    let removed = gatewayctl::users(
        &users,
        gatewayctl::UsersRequest::Remove {
            username: "a@nordit.example".into(),
        },
    )
    .await
    .unwrap();
    assert_eq!(removed, "a@nordit.example: removed\n");
    let gone = gatewayctl::users(
        &users,
        gatewayctl::UsersRequest::Remove {
            username: "a@nordit.example".into(),
        },
    )
    .await;
    assert!(gone.unwrap_err().to_string().contains("no user"));
}
