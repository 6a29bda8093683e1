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
/// Locally the enrichment waits seconds, not the demo tenant's 90.
const LOCAL_ENRICH_DELAY: u32 = 5;

fn usage() -> BoxError {
    "usage: gateway-local serve [--port N] | demo [--port N] | measure-recording [--mb N] | measure-delivery [--cases N] | sign FILE".into()
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
        Some("measure-recording") => measure_recording(&args).await,
        Some("measure-delivery") => measure_delivery(&args).await,
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
    std::fs::create_dir_all(STATE_DIR)?;
    std::fs::write(
        RUN_ENV,
        format!(
            "AWS_ENDPOINT_URL={endpoint}\nTABLE_NAME={}\nENRICH_QUEUE_URL={}\nDELIVERY_QUEUE_URL={}\nRETELL_API_KEY={api_key}\nRECORDING_HOST={recordings}\nWEBHOOK_SINK={}\nGATEWAY_URL_ALLOW_LIST={}\n",
            provisioned.table,
            provisioned.enrich_queue_url,
            provisioned.delivery_queue_url,
            sink.addr,
            env_allow_list.clone().unwrap_or_default(),
        ),
    )?;
    // One allow-list for every function: the stand-ins plus GATEWAY_URL_ALLOW_LIST, the same
    // list gatewayctl accepts tenants against.
    let settings = LocalSettings {
        retell_api_key: api_key.clone(),
        policy: local_url_policy(&[sink.addr.clone(), recordings.clone()], env_allow_list.as_deref()),
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

    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    println!(
        "\nService Gateway running locally\n  emulator            {endpoint}\n  table               {}\n  tenant              {} ({}), agent {}\n  Retell webhook URL  http://127.0.0.1:{port}/webhooks/retell\n  custom functions    http://127.0.0.1:{port}/retell/functions\n  Retell API key      {api_key} (RETELL_API_KEY)\n  consumers           enrich, deliver, alert (the real handlers on the emulator's queues, with their Lambda timeouts); sweep every 30 s\n  webhook sink        http://{}/api/v1/tickets\n  allow-listed        {}\n\nSend a signed sample call from another terminal:  make demo\nInspect with the operator CLI:                     make ctl ARGS=\"cases list --company {}\"\nStop with Ctrl-C (the emulator stops with it).\n",
        provisioned.table,
        tenant.company.name,
        tenant.company.company_id,
        tenant.routes.agents.first().map(String::as_str).unwrap_or("-"),
        sink.addr,
        settings.policy.allow_list.join(", "),
        tenant.company.company_id,
    );
    serve(listener, apps.ingest.into_router()).await
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
        print_mail(&data["ses"], &ticket);
    }
    println!("\nIts audit trail: make ctl ARGS=\"cases show {ticket} --company {DEMO_COMPANY}\"");
    Ok(())
}

/// Prints subject, recipients and the body (tags stripped) of the SES messages about `ticket`.
fn print_mail(ses: &serde_json::Value, ticket: &str) {
    let mut stack = vec![ses];
    while let Some(v) = stack.pop() {
        match v {
            serde_json::Value::Object(m) if m.contains_key("subject") && v.to_string().contains(ticket) => {
                println!(
                    "  To:      {}",
                    m.get("destinations").map(ToString::to_string).unwrap_or_default()
                );
                println!("  Subject: {}", m["subject"].as_str().unwrap_or_default());
                let body = m.get("body").and_then(|b| b.as_str()).unwrap_or_default();
                let mut text = String::new();
                let mut in_tag = false;
                for c in body.chars() {
                    match c {
                        '<' => in_tag = true,
                        '>' => {
                            in_tag = false;
                            text.push(' ');
                        }
                        c if !in_tag => text.push(c),
                        _ => {}
                    }
                }
                let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
                println!("  Body:    {}…", gateway_domain::text::truncate_chars(&text, 600));
            }
            serde_json::Value::Object(m) => stack.extend(m.values()),
            serde_json::Value::Array(a) => stack.extend(a.iter()),
            _ => {}
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
