//! `gateway-local serve`: provision the emulator, seed the demo tenant, serve the gateway.
//! `gateway-local demo`: send a signed sample call to a running gateway and show the case.

use std::path::PathBuf;
use std::sync::Arc;

use gateway_adapters::DynamoStore;
use gateway_adapters::provision::ResourceNames;
use gateway_domain::capture::retell::signature;
use gateway_domain::case::CaseReader;
use gateway_domain::ids::{CallId, CompanyId};
use gateway_local::stack::{LocalSettings, consume_queues, functions, sweep_periodically};
use gateway_local::{BoxError, emulator_endpoint, emulator_sdk, local_url_policy, provision_and_seed, serve};
use gatewayctl::{Ctl, load_document};
use tokio::net::TcpListener;

const STATE_DIR: &str = ".local";
const RUN_ENV: &str = ".local/run.env";
const DEMO_TENANT: &str = "infra/tenants/nordit.yaml";
const SAMPLE_CALL: &str = "events/retell/call_analyzed.json";
const DEMO_COMPANY: &str = "nordit-hannover";
/// The example practice (appointment mode), applied from a copy pointed at the local calendars.
const PRAXIS_COMPANY: &str = "praxis-lister-platz";
const PRAXIS_LOCAL: &str = ".local/praxis.yaml";
/// The console's demo users (all of the demo company; the last one is a platform admin).
const DEMO_USERS: &[(&str, gateway_adapters::cognito::Role, bool)] = &[
    (
        "leitstand@nordit.example",
        gateway_adapters::cognito::Role::Admin,
        false,
    ),
    (
        "bearbeiter@nordit.example",
        gateway_adapters::cognito::Role::Operator,
        false,
    ),
    ("leser@nordit.example", gateway_adapters::cognito::Role::Viewer, false),
    (
        "plattform@service-gateway.example",
        gateway_adapters::cognito::Role::Admin,
        true,
    ),
];
const DEMO_PASSWORD: &str = "Konsole-Demo-2026";
/// Locally the enrichment waits seconds, not the demo tenant's 90.
const LOCAL_ENRICH_DELAY: u32 = 5;

fn usage() -> BoxError {
    "usage: gateway-local serve [--port N] | demo [--port N] | demo-appointment [--port N] | measure-recording [--mb N] | measure-delivery [--cases N] | measure-console [--cases N] | sign FILE".into()
}

fn port_arg(args: &[String]) -> Result<u16, BoxError> {
    match args.iter().position(|a| a == "--port") {
        Some(i) => args.get(i + 1).ok_or_else(usage)?.parse().map_err(|_| usage()),
        None => Ok(3000),
    }
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    lambda_http::tracing::init_default_subscriber();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let port = port_arg(&args)?;
    match args.first().map(String::as_str) {
        Some("serve") => run_serve(port).await,
        Some("demo") => run_demo(port).await,
        Some("demo-appointment") => gateway_local::demo_appointment::run(port, &read_run_env()?).await,
        Some("measure-recording") => measure_recording(&args).await,
        Some("measure-delivery") => measure_delivery(&args).await,
        Some("measure-console") => measure_console(&args).await,
        Some("sign") => sign_envelope(&args),
        _ => Err(usage()),
    }
}

fn api_key() -> String {
    std::env::var("RETELL_API_KEY").unwrap_or_else(|_| "key_local_demo".into())
}

async fn run_serve(port: u16) -> Result<(), BoxError> {
    let endpoint = emulator_endpoint()?;
    let sdk = emulator_sdk(&endpoint).await;
    let provisioned = provision_and_seed(&sdk, &ResourceNames::with_prefix("service-gateway"), &[]).await?;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), &provisioned.table);
    let env_allow_list = std::env::var("GATEWAY_URL_ALLOW_LIST").ok();
    // The demo tenant goes in the way an operator applies one: validated, planned, written.
    let ctl = Ctl {
        store: store.clone(),
        policy: local_url_policy(&[], env_allow_list.as_deref()),
    };
    let report = ctl.apply(&PathBuf::from(DEMO_TENANT), false).await?;
    print!("gatewayctl apply -f {DEMO_TENANT}\n{}", report.render());

    // The example practice books against calendars on this machine: a Cal.com stand-in with its
    // event types and a real Radicale; its tenant is applied like the demo tenant, from a copy
    // pointed at them.
    let calendars = gateway_local::calendars::LocalCalendars::start().await?;
    calendars.send_webhooks_to(&format!("http://127.0.0.1:{port}"), PRAXIS_COMPANY);
    let praxis = calendars.praxis_tenant(gateway_local::calendars::praxis_spec()?, true);
    std::fs::create_dir_all(STATE_DIR)?;
    std::fs::write(PRAXIS_LOCAL, serde_norway::to_string(&praxis)?)?;
    let praxis_ctl = Ctl {
        store: store.clone(),
        policy: local_url_policy(&calendars.allow_list(), env_allow_list.as_deref()),
    };
    let report = praxis_ctl.apply(&PathBuf::from(PRAXIS_LOCAL), false).await?;
    print!(
        "gatewayctl apply -f {PRAXIS_LOCAL}  ({} pointed at Cal.com stand-in {} and Radicale {})\n{}",
        gateway_local::calendars::PRAXIS_TENANT,
        calendars.calcom.base_url(),
        calendars.radicale.base_url(),
        report.render()
    );

    // Stand-ins for the outside world: the ticket system's webhook and Retell's recording host.
    let sink = gateway_local::webhook_sink::Sink::start().await?;
    let recordings = gateway_local::recording_server::start().await?;
    let company = CompanyId::new(DEMO_COMPANY);
    let mut tenant = store.load_spec(&company).await?.ok_or("demo tenant missing")?;
    let configured_delay = tenant.company.enrichment_delay_seconds;
    tenant.company.enrichment_delay_seconds = LOCAL_ENRICH_DELAY;
    for out in &mut tenant.outputs {
        if let Some(hook) = out.webhook.as_mut() {
            hook.url = sink.url("/api/v1/tickets");
        }
    }
    store.apply_spec(&tenant).await?;
    println!(
        "local: webhooks go to the sink at {} and enrichment waits {LOCAL_ENRICH_DELAY} s (instead of {configured_delay} s)",
        sink.addr
    );

    let api_key = api_key();
    // The operator console's users, in the emulator's Cognito.
    let pool = gateway_local::console_user_pool(&sdk, "service-gateway-console").await?;
    let users =
        gateway_adapters::cognito::ConsoleUsers::new(aws_sdk_cognitoidentityprovider::Client::new(&sdk), &pool.pool_id);
    for (username, role, platform_admin) in DEMO_USERS {
        let user = gateway_adapters::cognito::NewUser {
            username,
            email: Some(username),
            company_id: DEMO_COMPANY,
            role: *role,
            platform_admin: *platform_admin,
            password: DEMO_PASSWORD,
        };
        match users.add(&user).await {
            Ok(()) | Err(gateway_adapters::cognito::UserError::Exists(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    std::fs::create_dir_all(STATE_DIR)?;
    std::fs::write(
        RUN_ENV,
        format!(
            "AWS_ENDPOINT_URL={endpoint}\nTABLE_NAME={}\nENRICH_QUEUE_URL={}\nDELIVERY_QUEUE_URL={}\nRETELL_API_KEY={api_key}\nRECORDING_HOST={recordings}\nWEBHOOK_SINK={}\nGATEWAY_URL_ALLOW_LIST={}\nCOGNITO_USER_POOL_ID={}\nCOGNITO_CLIENT_ID={}\n",
            provisioned.table,
            provisioned.enrich_queue_url,
            provisioned.delivery_queue_url,
            sink.addr,
            env_allow_list.clone().unwrap_or_default(),
            pool.pool_id,
            pool.client_id,
        ),
    )?;
    // One allow-list for every function: the stand-ins plus GATEWAY_URL_ALLOW_LIST, the same
    // list gatewayctl accepts tenants against.
    // The Retell key lives in the emulator's Secrets Manager and is read back the way a deployed
    // function reads it at cold start. RETELL_API_KEY_PREVIOUS: try a rotation (both accepted).
    let retell_secret = gateway_local::store_key_ring(
        &sdk,
        "service-gateway/retell-api-key",
        &gateway_domain::keys::KeyRing::new(api_key.clone())
            .with_previous(std::env::var("RETELL_API_KEY_PREVIOUS").ok()),
    )
    .await?;
    let retell_api_key = gateway_adapters::secrets::load(
        &aws_sdk_secretsmanager::Client::new(&sdk),
        [("RETELL_API_KEY_SECRET_ARN".to_string(), retell_secret.clone())],
    )
    .await?
    .remove("RETELL_API_KEY")
    .ok_or("the Retell key secret was not read")?;
    let settings = LocalSettings {
        retell_api_key,
        policy: local_url_policy(
            &[&[sink.addr.clone(), recordings.clone()][..], &calendars.allow_list()].concat(),
            env_allow_list.as_deref(),
        ),
        link_base_url: format!("http://127.0.0.1:{port}"),
        enrich_retry_seconds: vec![5, 10],
        backoff_seconds: vec![5, 10, 20],
    };
    let apps = functions(&endpoint, &provisioned, &settings).await?;
    sweep_periodically(Arc::new(apps.sweep), std::time::Duration::from_secs(30));
    consume_queues(
        aws_sdk_sqs::Client::new(&sdk),
        &provisioned,
        Arc::new(apps.enrich),
        Arc::new(apps.deliver),
        Arc::new(apps.alert),
    );

    let console = console::App::new(
        &gateway_local::console_config(&endpoint, &provisioned, &pool, settings.policy.clone()),
        &gateway_local::emulator_sdk_with(&endpoint, console::SDK_TIMEOUTS).await,
    );
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    println!(
        "\nService Gateway running locally\n  emulator            {endpoint}\n  table               {}\n  tenant              {} ({}), agent {}\n  Retell webhook URL  http://127.0.0.1:{port}/webhooks/retell\n  custom functions    http://127.0.0.1:{port}/retell/functions\n  Retell API key      {api_key} (RETELL_API_KEY; secret {retell_secret})\n  consumers           enrich, deliver, alert (the real handlers on the emulator's queues, with their Lambda timeouts); sweep every 30 s\n  webhook sink        http://{}/api/v1/tickets\n  allow-listed        {}\n\n  operator console    http://127.0.0.1:{port}/console  (users {}, password {DEMO_PASSWORD})\n  booking practice    {PRAXIS_COMPANY}: Cal.com stand-in {}, Radicale {}\n\nSend a signed sample call from another terminal:  make demo\nPlay a booking conversation:                       make demo-appointment\nInspect with the operator CLI:                     make ctl ARGS=\"cases list --company {}\"\nStop with Ctrl-C (the emulator stops with it).\n",
        provisioned.table,
        tenant.company.name,
        tenant.company.company_id,
        tenant.routes.agents.first().map(String::as_str).unwrap_or("-"),
        sink.addr,
        settings.policy.allow_list.join(", "),
        DEMO_USERS.iter().map(|(u, _, _)| *u).collect::<Vec<_>>().join(", "),
        calendars.calcom.base_url(),
        calendars.radicale.base_url(),
        tenant.company.company_id,
    );
    serve(listener, apps.ingest.into_router().merge(console.into_router())).await
}

fn read_run_env() -> Result<std::collections::HashMap<String, String>, BoxError> {
    let text = std::fs::read_to_string(RUN_ENV)
        .map_err(|_| format!("{RUN_ENV} not found: start the gateway with `make run` first"))?;
    Ok(text
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect())
}

/// Sends the sample German call signed like Retell, then follows the case until it is sent.
async fn run_demo(port: u16) -> Result<(), BoxError> {
    let env = read_run_env()?;
    let get = |k: &str| env.get(k).cloned().ok_or_else(|| format!("{k} missing from {RUN_ENV}"));
    let mut call: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(SAMPLE_CALL)?)?;
    let call_id = format!("call_demo_{}", ulid::Ulid::new().to_string().to_lowercase());
    call["call"]["call_id"] = serde_json::Value::String(call_id.clone());
    call["call"]["recording_url"] =
        serde_json::Value::String(format!("http://{}/rec/480000.wav", get("RECORDING_HOST")?));
    let body = serde_json::to_string(&call)?;
    let now_ms = chrono::Utc::now().timestamp_millis() as u64;
    let sig = signature::sign(&get("RETELL_API_KEY")?, body.as_bytes(), now_ms);
    let url = format!("http://127.0.0.1:{port}/webhooks/retell");
    println!("POST {url}  (call_analyzed, call_id {call_id}, X-Retell-Signature {sig})");
    let resp = reqwest::Client::new()
        .post(&url)
        .header("content-type", "application/json")
        .header("x-retell-signature", sig)
        .body(body)
        .send()
        .await
        .map_err(|e| format!("is the gateway running (`make run`)? {e}"))?;
    println!("→ {} {}\n", resp.status(), resp.text().await?);
    let endpoint = get("AWS_ENDPOINT_URL")?;
    let sdk = emulator_sdk(&endpoint).await;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), get("TABLE_NAME")?);
    let started = std::time::Instant::now();
    let mut last = String::new();
    let case = loop {
        let case = store
            .get_case(&CompanyId::new(DEMO_COMPANY), &CallId::new(call_id.as_str()))
            .await?
            .ok_or("no case was stored")?;
        let state = format!(
            "{:>5.1} s  {}  enrichment {:<9} output {}",
            started.elapsed().as_secs_f64(),
            case.ticket_ref.as_deref().unwrap_or("(no ticket yet)"),
            case.enrichment_status.as_str(),
            case.output_status.as_str()
        );
        if state[8..] != last.get(8..).unwrap_or_default()[..] {
            println!("{state}");
            last = state;
        }
        if case.output_status != gateway_domain::case::OutputStatus::Pending || started.elapsed().as_secs() > 120 {
            break case;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    };
    println!(
        "\nCase {} is {} (external ticket {}); recording {}, caller matched: {}",
        case.ticket_ref.as_deref().unwrap_or("-"),
        case.output_status.as_str(),
        case.external_reference.as_deref().unwrap_or("-"),
        case.enrichment.audio_object_key.as_deref().unwrap_or("-"),
        case.enrichment.customer.as_ref().map_or("no".to_string(), |m| format!(
            "{} by {}",
            m.customer_id,
            m.kind.as_str()
        )),
    );
    let data: serde_json::Value = reqwest::get(format!("{endpoint}/moto-api/data.json"))
        .await?
        .json()
        .await
        .unwrap_or_default();
    let ticket = case.ticket_ref.clone().unwrap_or_default();
    let text = data["ses"].to_string();
    if text.contains(ticket.as_str()) {
        println!(
            "\nThe e-mail (read back from the emulator's SES: `curl -s {endpoint}/moto-api/data.json | jq .ses`):"
        );
        print_mail(&data, &ticket);
    }
    println!("\nIts audit trail: make ctl ARGS=\"cases show {ticket} --company {DEMO_COMPANY}\"");
    Ok(())
}

/// Prints subject and text of the e-mails about `ticket` (SES stores them as raw MIME).
fn print_mail(data: &serde_json::Value, ticket: &str) {
    for raw in gateway_local::mail::raw_messages_to(data, "") {
        let mail = gateway_local::mail::read(&raw);
        if !mail.subject.contains(ticket) && !mail.text.contains(ticket) {
            continue;
        }
        println!("  Subject: {}", mail.subject);
        for line in mail.text.lines().filter(|l| !l.trim().is_empty()).take(14) {
            println!("  | {}", line.trim_end());
        }
    }
}

/// Peak resident memory of this process so far (Linux `VmHWM`), in KiB.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(str::to_string))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

/// Copies a recording of `--mb` MiB (default 200) from a local host into the emulator's S3 with
/// the enrich function's adapter and reports the peak memory of this process.
async fn measure_recording(args: &[String]) -> Result<(), BoxError> {
    use gateway_domain::enrichment::RecordingStore;
    let mb: u64 = match args.iter().position(|a| a == "--mb") {
        Some(i) => args.get(i + 1).ok_or_else(usage)?.parse().map_err(|_| usage())?,
        None => 200,
    };
    let endpoint = emulator_endpoint()?;
    let sdk = emulator_sdk(&endpoint).await;
    let s3 = gateway_local::s3_client(&sdk);
    let bucket = format!("measure-{}", ulid::Ulid::new().to_string().to_lowercase());
    gateway_adapters::provision::create_bucket(&s3, &bucket).await?;
    let host = gateway_local::recording_server::start().await?;
    let copier =
        gateway_adapters::S3Recordings::new(s3, &bucket, gateway_domain::ssrf::UrlPolicy::local(vec![host.clone()]))?;
    let size = mb * 1024 * 1024;
    let before = peak_rss_kib();
    let started = std::time::Instant::now();
    let copy = copier
        .copy(
            &format!("http://{host}/rec/{size}.wav"),
            "measure/recording.wav",
            gateway_domain::deadline::Deadline::none(),
        )
        .await?;
    let elapsed = started.elapsed();
    let peak = peak_rss_kib();
    println!(
        "copied {} bytes ({mb} MiB) in {:.1} s; peak RSS {:.1} MiB (before the copy {:.1} MiB); part size {} MiB",
        copy.bytes,
        elapsed.as_secs_f64(),
        peak as f64 / 1024.0,
        before as f64 / 1024.0,
        gateway_adapters::recordings::PART_SIZE / (1024 * 1024)
    );
    Ok(())
}

/// Delivers `--cases` (default 500) signed webhooks to a local sink through the real deliver
/// handler, SQS batches of 10 as the event source mapping would hand them over, and reports the
/// rate. Every delivery reads the case and tenant from DynamoDB, renders, signs, POSTs, marks the
/// channel and the case, writes the exchange log and deletes the message (all against the emulator).
async fn measure_delivery(args: &[String]) -> Result<(), BoxError> {
    let cases: usize = match args.iter().position(|a| a == "--cases") {
        Some(i) => args.get(i + 1).ok_or_else(usage)?.parse().map_err(|_| usage())?,
        None => 500,
    };
    measure_delivery_in_memory(cases).await?;
    let endpoint = emulator_endpoint()?;
    let sdk = emulator_sdk(&endpoint).await;
    let prefix = format!("measure-{}", ulid::Ulid::new().to_string().to_lowercase());
    let sink = gateway_local::webhook_sink::Sink::start().await?;
    let tenant = webhook_only_tenant(sink.url("/tickets"))?;
    let res = provision_and_seed(
        &sdk,
        &ResourceNames::with_prefix(&prefix),
        std::slice::from_ref(&tenant),
    )
    .await?;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), &res.table);
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let requests = sample_cases(&store, &tenant.tenant()?, cases).await?;
    for (n, chunk) in requests.chunks(10).enumerate() {
        let mut batch = sqs.send_message_batch().queue_url(&res.delivery_queue_url);
        for (i, request) in chunk.iter().enumerate() {
            batch = batch.entries(
                aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
                    .id(format!("{n}-{i}"))
                    .message_body(serde_json::to_string(request)?)
                    .build()?,
            );
        }
        batch.send().await?;
    }
    let config = deliver::Config {
        table_name: res.table.clone(),
        delivery_queue_url: res.delivery_queue_url.clone(),
        delivery_dlq_url: res.delivery_dlq_url.clone(),
        mail_from: gateway_local::MAIL_FROM.into(),
        backoff_seconds: vec![1, 2, 3],
        url_policy: gateway_domain::ssrf::UrlPolicy::local(vec![sink.addr.clone()]),
        links: None,
        config_cache: chrono::Duration::seconds(60),
    };
    let app = deliver::App::new(config, &sdk)?;
    let started = std::time::Instant::now();
    let deadline = started + std::time::Duration::from_secs(600);
    let mut batches = 0;
    while sink.received().len() < cases {
        if std::time::Instant::now() > deadline {
            return Err(format!("only {} of {cases} delivered within 10 minutes", sink.received().len()).into());
        }
        let event = gateway_local::event_source::receive_batch(&sqs, &res.delivery_queue_url, 10, 1).await?;
        if event.records.is_empty() {
            continue;
        }
        batches += 1;
        let ctx = gateway_lambda::local_context(deliver::TIME_BUDGET.function_timeout);
        let response = deliver::handle(&app, lambda_runtime::LambdaEvent::new(event.clone(), ctx)).await?;
        gateway_local::event_source::settle(&sqs, &res.delivery_queue_url, &event, &response).await?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "delivered {cases} signed webhooks in {elapsed:.2} s over {batches} batches of up to 10: {:.0} deliveries/s (one handler, emulator on loopback)",
        cases as f64 / elapsed
    );
    Ok(())
}

/// The gateway's own cost: the same deliveries with in-memory stores (no emulator), real
/// rendering, signing and HTTP to the local sink, batches of 10 delivered concurrently.
async fn measure_delivery_in_memory(cases: usize) -> Result<(), BoxError> {
    use gateway_testkit::memory::{FixedClock, MemoryCaseStore, MemoryConfigStore, MemoryExchangeLog, MemoryMailer};
    let sink = gateway_local::webhook_sink::Sink::start().await?;
    let spec = webhook_only_tenant(sink.url("/tickets"))?;
    let config = Arc::new(MemoryConfigStore::default());
    config.put_tenant(spec.tenant()?);
    let store = Arc::new(MemoryCaseStore::default());
    let requests = sample_cases(store.as_ref(), &spec.tenant()?, cases).await?;
    let deliverer = gateway_domain::delivery::Deliverer::new(
        gateway_domain::delivery::DeliverPorts {
            cases: store,
            config,
            webhooks: Arc::new(gateway_adapters::HttpWebhooks::new(
                gateway_domain::ssrf::UrlPolicy::local(vec![sink.addr.clone()]),
                gateway_adapters::outbound::WEBHOOK_BUDGET,
            )?),
            mailer: Arc::new(MemoryMailer::default()),
            log: Arc::new(MemoryExchangeLog::default()),
            clock: Arc::new(FixedClock::new(chrono::Utc::now())),
        },
        None,
    );
    let started = std::time::Instant::now();
    for batch in requests.chunks(10) {
        let results = futures_util::future::join_all(
            batch
                .iter()
                .map(|r| deliverer.process(r, 1, gateway_domain::deadline::Deadline::none())),
        )
        .await;
        if let Some(Err(e)) = results.into_iter().find(Result::is_err) {
            return Err(format!("delivery failed: {e}").into());
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "in memory: delivered {cases} signed webhooks in {elapsed:.2} s, batches of 10: {:.0} deliveries/s (the gateway's own cost)",
        cases as f64 / elapsed
    );
    Ok(())
}

/// The console's server time with `--cases` (default 10 000) cases of one company in the table:
/// seeds them with BatchWriteItem (spread over the last 30 days), signs in through the
/// emulator's Cognito, then times the cases list (first page, a filtered page, a search) and
/// the dashboard (30 days) over loopback HTTP and prints p50/p95/max of each.
async fn measure_console(args: &[String]) -> Result<(), BoxError> {
    use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
    let cases: usize = match args.iter().position(|a| a == "--cases") {
        Some(i) => args.get(i + 1).ok_or_else(usage)?.parse().map_err(|_| usage())?,
        None => 10_000,
    };
    let rounds = 30;
    let endpoint = emulator_endpoint()?;
    let sdk = emulator_sdk(&endpoint).await;
    let prefix = format!("measure-{}", ulid::Ulid::new().to_string().to_lowercase());
    let tenant = load_document(&PathBuf::from(DEMO_TENANT))?;
    let res = provision_and_seed(
        &sdk,
        &ResourceNames::with_prefix(&prefix),
        std::slice::from_ref(&tenant),
    )
    .await?;
    let ddb = aws_sdk_dynamodb::Client::new(&sdk);
    let sample: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(SAMPLE_CALL)?)?;
    let envelope: gateway_domain::capture::retell::payload::WebhookEnvelope = serde_json::from_value(sample)?;
    let call = envelope.call.ok_or("sample call has no call")?;
    let t = tenant.tenant()?;
    let now = chrono::Utc::now();
    let started = std::time::Instant::now();
    let statuses = gateway_domain::case::CaseStatus::ALL;
    let outputs = gateway_domain::case::OutputStatus::ALL;
    let categories: Vec<String> = tenant.categories.iter().map(|c| c.slug.clone()).collect();
    let mut batch = Vec::with_capacity(25);
    for i in 0..cases {
        let created = now - chrono::Duration::seconds((i as i64 * 30 * 86_400) / cases as i64);
        let call_id = CallId::new(format!("call_measure_{i:05}"));
        let mut case = gateway_domain::capture::draft::from_analysis(&t, &call, &call_id, created);
        case.ticket_ref = Some(gateway_domain::ids::TicketRef::format(2026, i as u64 + 1));
        case.enqueued_at = Some(created);
        case.status = statuses[i % statuses.len()];
        case.output_status = outputs[i % outputs.len()];
        case.category = Some(categories[i % categories.len()].clone());
        case.caller.name = Some(format!("Anrufer {i}"));
        let item = DynamoStore::case_item(&case)?;
        batch.push(
            WriteRequest::builder()
                .put_request(PutRequest::builder().set_item(Some(item)).build()?)
                .build(),
        );
        if batch.len() == 25 || i + 1 == cases {
            let mut pending = std::mem::take(&mut batch);
            while !pending.is_empty() {
                let out = ddb.batch_write_item().request_items(&res.table, pending).send().await?;
                pending = out
                    .unprocessed_items
                    .and_then(|mut u| u.remove(&res.table))
                    .unwrap_or_default();
            }
        }
    }
    println!(
        "seeded {cases} cases of {DEMO_COMPANY} in {:.1} s (BatchWriteItem)",
        started.elapsed().as_secs_f64()
    );

    let pool = gateway_local::console_user_pool(&sdk, &format!("{prefix}-console")).await?;
    let users =
        gateway_adapters::cognito::ConsoleUsers::new(aws_sdk_cognitoidentityprovider::Client::new(&sdk), &pool.pool_id);
    users
        .add(&gateway_adapters::cognito::NewUser {
            username: "measure@nordit.example",
            email: None,
            company_id: DEMO_COMPANY,
            role: gateway_adapters::cognito::Role::Viewer,
            platform_admin: false,
            password: DEMO_PASSWORD,
        })
        .await?;
    // Against the emulator a full read of 10 000 cases takes longer than Lambda would wait:
    // the benchmark measures it instead of answering 503.
    let app = console::App::new(
        &gateway_local::console_config(&endpoint, &res, &pool, local_url_policy(&[], None)),
        &emulator_sdk(&endpoint).await,
    )
    .with_function_timeout(std::time::Duration::from_secs(600));
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(serve(listener, app.into_router()));
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let login = http
        .post(format!("{base}/console/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("username=measure%40nordit.example&password={DEMO_PASSWORD}"))
        .send()
        .await?;
    let cookie = login
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .ok_or("sign-in gave no session")?
        .to_string();
    println!(
        "{:<52} {:>9} {:>9} {:>9}  (after one warm-up)",
        "page", "p50 ms", "p95 ms", "max ms"
    );
    let store = DynamoStore::new(ddb.clone(), &res.table);
    let company = CompanyId::new(DEMO_COMPANY);
    let month = gateway_adapters::console_store::Window {
        from: Some(now - chrono::Duration::days(30)),
        to: None,
    };
    let (_, cursor) = store.case_page(&company, month, None, 25).await?;
    let cursor: String = url::form_urlencoded::byte_serialize(cursor.unwrap_or_default().as_bytes()).collect();
    let pages: [(&str, String, usize); 6] = [
        (
            "cases list, 30 days, page 1 (one index page)",
            "/console/cases".into(),
            rounds,
        ),
        (
            "cases list, page 2 (cursor)",
            format!("/console/cases?after={cursor}"),
            rounds,
        ),
        (
            "cases list, ticket reference (GSI2)",
            "/console/cases?q=TKT-2026-04711".into(),
            rounds,
        ),
        ("dashboard, 7 days (the default)", "/console".into(), 3),
        ("dashboard, 30 days (reads all cases)", "/console?range=30d".into(), 2),
        (
            "cases list, status=open (reads 30 days)",
            "/console/cases?status=open&page=3".into(),
            2,
        ),
    ];
    for (name, path, n) in pages {
        let mut times = Vec::with_capacity(n);
        for round in 0..=n {
            let started = std::time::Instant::now();
            let resp = http
                .get(format!("{base}{path}"))
                .header("cookie", &cookie)
                .send()
                .await?;
            let status = resp.status();
            resp.bytes().await?;
            if status != 200 {
                return Err(format!("{path}: {status}").into());
            }
            if round > 0 {
                times.push(started.elapsed().as_secs_f64() * 1000.0);
            }
        }
        times.sort_by(f64::total_cmp);
        let at = |q: f64| times[((times.len() as f64 * q).ceil() as usize).clamp(1, times.len()) - 1];
        println!(
            "{name:<52} {:>9.1} {:>9.1} {:>9.1}  (n = {n})",
            at(0.5),
            at(0.95),
            times[times.len() - 1]
        );
    }
    // The emulator's share: the same index reads without the console around them.
    for (name, days) in [("index read alone, 7 days", 7), ("index read alone, 30 days", 30)] {
        let started = std::time::Instant::now();
        let window = gateway_adapters::console_store::Window {
            from: Some(now - chrono::Duration::days(days)),
            to: None,
        };
        let rows = store.case_rows(&company, window).await?;
        println!(
            "{name:<52} {:>9.1}  ({} rows)",
            started.elapsed().as_secs_f64() * 1000.0,
            rows.len()
        );
        if days == 30 {
            console_own_work(&rows, now);
        }
    }
    Ok(())
}

/// The console's own share for the rows of a month, without any I/O: the dashboard's figures
/// and a filtered, searched list (p95 of 30 runs each).
fn console_own_work(rows: &[gateway_domain::case::ServiceCase], now: chrono::DateTime<chrono::Utc>) {
    use console::views::dashboard::Stats;
    use console::views::filter::{CaseFilter, RawFilter};
    let time = |work: &dyn Fn()| {
        let mut times: Vec<f64> = (0..30)
            .map(|_| {
                let started = std::time::Instant::now();
                work();
                started.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        times.sort_by(f64::total_cmp);
        times[28]
    };
    let stats = time(&|| {
        std::hint::black_box(Stats::compute(rows, now - chrono::Duration::days(30), now));
    });
    let filter = CaseFilter::parse(
        &RawFilter {
            status: "open".into(),
            q: "Anrufer 47".into(),
            ..Default::default()
        },
        now.date_naive(),
    );
    let search = time(&|| {
        std::hint::black_box(rows.iter().filter(|c| filter.matches(c, now)).count());
    });
    println!(
        "console's own work on {} rows, p95: dashboard figures {stats:.1} ms, filter + search {search:.1} ms",
        rows.len()
    );
}

/// Prints an API Gateway envelope from events/apigw with its body signed now, as Retell would
/// (key: RETELL_API_KEY), for `cargo lambda invoke ingest --data-ascii "$(gateway-local sign …)"`.
fn sign_envelope(args: &[String]) -> Result<(), BoxError> {
    let path = args.get(1).ok_or_else(usage)?;
    let mut envelope: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path)?)?;
    let body = envelope["body"]
        .as_str()
        .ok_or("the envelope has no body to sign")?
        .to_string();
    let sig = signature::sign(
        &api_key(),
        body.as_bytes(),
        chrono::Utc::now().timestamp_millis() as u64,
    );
    envelope["headers"]["x-retell-signature"] = serde_json::Value::String(sig);
    println!("{envelope}");
    Ok(())
}

/// The demo tenant with its first output sending only signed webhooks (generic-rest) to `url`.
fn webhook_only_tenant(url: String) -> Result<gateway_domain::tenancy::TenantSpec, BoxError> {
    let mut tenant = load_document(&PathBuf::from(DEMO_TENANT))?;
    let output = &mut tenant.outputs[0];
    output.kind = gateway_domain::tenancy::output::OutputType::Webhook;
    output.email = None;
    if let Some(hook) = output.webhook.as_mut() {
        hook.url = url;
        hook.preset = Some("generic-rest".into());
    }
    Ok(tenant)
}

/// `n` handed-off cases of the sample call, written to `store`, with their delivery requests.
async fn sample_cases(
    store: &dyn gateway_domain::capture::CaptureStore,
    tenant: &gateway_domain::tenancy::Tenant,
    n: usize,
) -> Result<Vec<gateway_domain::delivery::DeliverRequest>, BoxError> {
    let sample: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(SAMPLE_CALL)?)?;
    let envelope: gateway_domain::capture::retell::payload::WebhookEnvelope = serde_json::from_value(sample)?;
    let call = envelope.call.ok_or("sample call has no call")?;
    let mut requests = Vec::with_capacity(n);
    for i in 0..n {
        let call_id = CallId::new(format!("call_measure_{i}"));
        let mut case = gateway_domain::capture::draft::from_analysis(tenant, &call, &call_id, chrono::Utc::now());
        case.ticket_ref = Some(gateway_domain::ids::TicketRef::format(2026, i as u64));
        let event = gateway_domain::call_event::CallEvent::new(
            Some(&case.company_id),
            &call_id,
            "call_analyzed",
            chrono::Utc::now(),
        );
        store.create_case(&case, &event).await?;
        requests.push(gateway_domain::delivery::DeliverRequest {
            company_id: case.company_id,
            call_id,
            case_id: case.case_id,
        });
    }
    Ok(requests)
}
