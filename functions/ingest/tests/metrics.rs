//! Metrics: the gateway's flows (Retell requests through the edge, capture, booking functions,
//! delivery) with an EMF sink that keeps its lines. Every line is valid Embedded Metric Format,
//! no call id becomes a dimension, and every metric template.yaml's dashboard and alarms
//! reference is one these flows emit, with the dimensions the template asks for.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use axum::Router;
use chrono::{TimeZone, Utc};
use gateway_domain::alerting::{AlertPorts, Alerter};
use gateway_domain::appointments::desk::BookingDesk;
use gateway_domain::appointments::engine::{Engine, EnginePorts, EngineSettings};
use gateway_domain::capture::retell::signature;
use gateway_domain::capture::{Booking, Handoff, Ports};
use gateway_domain::clock::Clock;
use gateway_domain::deadline::Deadline;
use gateway_domain::delivery::{DeliverPorts, DeliverRequest, Deliverer, HttpResponse};
use gateway_domain::enrichment::{EnrichPorts, EnrichRequest, Enricher};
use gateway_domain::ids::{CallId, CompanyId};
use gateway_domain::metrics::names;
use gateway_domain::notices::NoticeHandoff;
use gateway_domain::tenancy::TenantSpec;
use gateway_lambda::batch::{BatchRunner, Concurrency, Record, RecordOutcome};
use gateway_lambda::metrics::{Emf, NAMESPACE, validate_line};
use gateway_lambda::testing::sqs_record;
use gateway_testkit::appointments::{MemoryAppointmentStore, MemoryCalendar, OneCalendar};
use gateway_testkit::memory::{
    FixedClock, MemoryCaseStore, MemoryConfigStore, MemoryCustomerStore, MemoryDeliveryQueue, MemoryExchangeLog,
    MemoryMailer, MemoryQueue, MemoryRecordings, ScriptedWebhooks,
};
use gateway_testkit::notices::MemoryNoticeQueue;
use ingest::{App, SIGNATURE_HEADER};
use lambda_http::{Body, Request};
use serde_json::{Value, json};
use tower::ServiceExt;

const KEY: &str = "key_metrics_test";
const ANALYZED: &str = include_str!("../../../events/retell/call_analyzed.json");
const NORDIT: &str = include_str!("../../../infra/tenants/nordit.yaml");
const CALL_ID: &str = "call_4b9e2f71c08d3a6e5f1b27c9d04";
const PRAXIS: &str = r#"
company: {company_id: praxis, name: Praxis am Platz, mode: appointment}
routes: {agents: [agent_praxis]}
appointments:
  calcom: {api_key: cal_test_metrics}
  branches:
  - id: hannover
    name: Praxis Hannover
    time_zone: Europe/Berlin
    opening_hours: {mon: ["08:00-12:00", "13:00-18:00"], tue: ["08:00-12:00", "13:00-18:00"], wed: ["08:00-12:00", "13:00-18:00"], thu: ["08:00-12:00", "13:00-18:00"], fri: ["08:00-14:00"]}
  services:
  - {id: beratung, name: Beratung, duration_minutes: 30, calendar: {calcom: {event_type_id: 1}}}
"#;

struct World {
    router: Router,
    appointments: Arc<MemoryAppointmentStore>,
    cases: Arc<MemoryCaseStore>,
    config: Arc<MemoryConfigStore>,
    calendar: Arc<MemoryCalendar>,
    clock: Arc<FixedClock>,
    emf: Emf,
    lines: Arc<Mutex<Vec<String>>>,
}

/// Tuesday 2026-12-01 10:00 in Hannover.
fn world() -> World {
    let (emf, lines) = Emf::captured();
    let cases = Arc::new(MemoryCaseStore::default());
    let config = Arc::new(MemoryConfigStore::default());
    let clock = Arc::new(FixedClock::new(Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap()));
    for yaml in [NORDIT, PRAXIS] {
        let spec: TenantSpec = serde_norway::from_str(yaml).unwrap();
        for route in spec.route_keys() {
            config.put_route(route, &spec.company.company_id);
        }
        config.put_tenant(spec.tenant().unwrap());
    }
    let calendar = Arc::new(MemoryCalendar::default());
    let store = Arc::new(MemoryAppointmentStore::default().with_call_events(cases.clone()));
    let engine = Arc::new(Engine::new(
        EnginePorts {
            calendars: Arc::new(OneCalendar(calendar.clone())),
            store: store.clone(),
            clock: clock.clone(),
        },
        // No slot cache: the third check meets the calendar (and its outage).
        EngineSettings {
            cache_ttl: chrono::TimeDelta::zero(),
            ..EngineSettings::default()
        },
    ));
    let ports = Ports {
        cases: cases.clone(),
        config: config.clone(),
        queue: Arc::new(MemoryQueue::default()),
        clock: clock.clone(),
    };
    let router = App::with_ports(KEY, ports)
        .with_booking(Booking {
            desk: Arc::new(BookingDesk::new(engine, clock.clone())),
            appointments: store.clone(),
            events: cases.clone(),
        })
        .with_metrics(Arc::new(emf.clone()))
        .into_router();
    World {
        router,
        appointments: store,
        cases,
        config,
        calendar,
        clock,
        emf,
        lines,
    }
}

impl World {
    async fn post(&self, path: &str, body: &str, key: &str) -> (u16, Value) {
        let sig = signature::sign(key, body.as_bytes(), self.clock.now().timestamp_millis() as u64);
        let req: Request = lambda_http::http::Request::builder()
            .method("POST")
            .uri(path)
            .header(SIGNATURE_HEADER, sig)
            .body(Body::from(body.to_string()))
            .unwrap();
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status().as_u16();
        let bytes = http_body_util::BodyExt::collect(resp.into_body())
            .await
            .unwrap()
            .to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    async fn booking(&self, call: &str, name: &str, args: Value) -> Value {
        let body = json!({"name": name, "args": args,
            "call": {"call_id": call, "agent_id": "agent_praxis", "from_number": "+4951112345678"}});
        let (status, reply) = self.post("/retell/functions", &body.to_string(), KEY).await;
        assert_eq!(status, 200, "{reply}");
        reply
    }

    /// Every emitted line, parsed.
    fn documents(&self) -> Vec<Value> {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// The values emitted for metric `name`, with their company (if any).
    fn values(&self, name: &str) -> Vec<(Option<String>, f64)> {
        self.documents()
            .iter()
            .filter(|d| d.get(name).is_some())
            .map(|d| (d["Company"].as_str().map(str::to_string), d[name].as_f64().unwrap()))
            .collect()
    }

    /// Runs every flow the dashboard and alarms look at.
    async fn run_everything(&self) {
        // Retell: a new case, Retell's retry of it, an unknown agent, a request with a bad key.
        assert_eq!(self.post("/webhooks/retell", ANALYZED, KEY).await.0, 200);
        assert_eq!(self.post("/webhooks/retell", ANALYZED, KEY).await.0, 200);
        let unrouted = ANALYZED
            .replace("agent_9f3a1c7e52b84d06a1e3c8f27b", "agent_unknown")
            .replace("+4951112345670", "+4930000000000");
        assert_eq!(self.post("/webhooks/retell", &unrouted, KEY).await.0, 200);
        assert_eq!(self.post("/webhooks/retell", ANALYZED, "retired-key").await.0, 401);

        // Booking: booked; the same time again (alternatives offered); the calendar down.
        let wish = json!({"datum": "Donnerstag", "uhrzeit": "halb drei", "dienstleistung": "Beratung"});
        let r = self
            .booking(
                "call_book_1",
                "book_appointment",
                json!({"datetime": "2026-12-03T14:30:00+01:00", "service_name": "beratung",
                       "customer_name": "Jonas Weber", "customer_email": "jonas@example.com"}),
            )
            .await;
        assert_eq!(r["status"], "booked", "{r}");
        let r2 = self.booking("call_book_2", "check_availability", wish.clone()).await;
        assert_eq!(r2["status"], "alternatives", "{r2}");
        self.calendar.fail_next(vec![
            gateway_domain::appointments::backend::BackendError::Unavailable(
                "down".into()
            );
            3
        ]);
        let r = self.booking("call_book_3", "check_availability", wish).await;
        assert_eq!(r["status"], "unavailable", "{r}");
        self.calendar.fail_next(vec![]);
        // The second caller takes the first time offered instead; after the call Retell's
        // analysis arrives (appointment mode): alternatives accepted, an appointment, no ticket.
        let offered = r2["offers"][0]["start"].as_str().unwrap().to_string();
        let r = self
            .booking(
                "call_book_2",
                "book_appointment",
                json!({"datetime": offered, "service_name": "beratung",
                       "customer_name": "Mia Schulz", "customer_email": "mia@example.com"}),
            )
            .await;
        assert_eq!(r["status"], "booked", "{r}");
        let praxis_analyzed = ANALYZED
            .replace(CALL_ID, "call_book_2")
            .replace("agent_9f3a1c7e52b84d06a1e3c8f27b", "agent_praxis");
        assert_eq!(self.post("/webhooks/retell", &praxis_analyzed, KEY).await.0, 200);
        // Retell's retry of it counts nothing again.
        assert_eq!(self.post("/webhooks/retell", &praxis_analyzed, KEY).await.0, 200);

        // Delivery of the case: the webhook fails once (retry), then both channels go out.
        let webhooks = Arc::new(ScriptedWebhooks::default());
        webhooks.answer(vec![
            Ok(HttpResponse {
                status: 503,
                body: "maintenance".into(),
            }),
            Ok(HttpResponse {
                status: 201,
                body: r#"{"id": 7}"#.into(),
            }),
        ]);
        let deliverer = Deliverer::new(
            DeliverPorts {
                cases: self.cases.clone(),
                config: self.config.clone(),
                webhooks,
                mailer: Arc::new(MemoryMailer::default()),
                log: Arc::new(MemoryExchangeLog::default()),
                clock: self.clock.clone(),
            },
            None,
        )
        .with_metrics(Arc::new(self.emf.clone()));
        let case = self.cases.cases_of(&CompanyId::new("nordit-hannover")).remove(0);
        let request = DeliverRequest {
            company_id: case.company_id.clone(),
            call_id: CallId::new(CALL_ID),
            case_id: case.case_id.clone(),
        };
        assert!(deliverer.process(&request, 1, Deadline::none()).await.is_err());
        deliverer.process(&request, 2, Deadline::none()).await.unwrap();

        // Enrichment of the case (the recording copied in memory).
        let enricher = Enricher::new(
            EnrichPorts {
                cases: self.cases.clone(),
                config: self.config.clone(),
                customers: Arc::new(MemoryCustomerStore::default()),
                recordings: Arc::new(MemoryRecordings::default()),
                delivery: Arc::new(MemoryDeliveryQueue::default()),
                log: Arc::new(MemoryExchangeLog::default()),
                clock: self.clock.clone(),
            },
            3,
        )
        .with_metrics(Arc::new(self.emf.clone()));
        let enrich = EnrichRequest {
            company_id: request.company_id.clone(),
            call_id: request.call_id.clone(),
            case_id: request.case_id.clone(),
        };
        // The recording is gone (no such object at the host): on the last receive the enrichment
        // finishes without it.
        enricher.process(&enrich, 3, Deadline::none()).await.unwrap();

        // A second case whose delivery failed for good: its admins are alerted by e-mail.
        let failed_call = ANALYZED.replace(CALL_ID, "call_alert_1");
        assert_eq!(self.post("/webhooks/retell", &failed_call, KEY).await.0, 200);
        let alerter = Alerter::new(
            AlertPorts {
                cases: self.cases.clone(),
                config: self.config.clone(),
                mailer: Arc::new(MemoryMailer::default()),
                slack: Arc::new(ScriptedWebhooks::default()),
                log: Arc::new(MemoryExchangeLog::default()),
                clock: self.clock.clone(),
            },
            None,
        )
        .with_metrics(Arc::new(self.emf.clone()));
        let failed = DeliverRequest {
            company_id: request.company_id.clone(),
            call_id: CallId::new("call_alert_1"),
            case_id: request.case_id.clone(),
        };
        alerter
            .process(&failed, Some("webhook: HTTP 500"), Deadline::none())
            .await
            .unwrap();

        // A queue consumer's batch: one record done, one that cannot be read.
        let runner = BatchRunner::new("deliver", Concurrency::Sequential).with_metrics(Arc::new(self.emf.clone()));
        let mut event = aws_lambda_events::event::sqs::SqsEvent::default();
        event.records = vec![
            sqs_record("m1", &serde_json::to_string(&request).unwrap(), 1),
            sqs_record("m2", "not json", 1),
        ];
        runner
            .run(&event, Deadline::none(), |_: Record<DeliverRequest>| async {
                RecordOutcome::Done
            })
            .await
            .unwrap();

        // The sweep, two minutes later: the two bookings' notices were never handed to delivery
        // here (no listener on the desk), so it hands them over.
        self.clock.advance(chrono::Duration::minutes(2));
        let sweep = sweep::App::from_parts(
            Handoff {
                cases: self.cases.clone(),
                queue: Arc::new(MemoryQueue::default()),
                clock: self.clock.clone(),
                lease: chrono::Duration::seconds(10),
            },
            NoticeHandoff {
                notices: self.appointments.clone(),
                queue: Arc::new(MemoryNoticeQueue::default()),
                clock: self.clock.clone(),
            },
            self.config.clone(),
        )
        .with_metrics(Arc::new(self.emf.clone()));
        sweep.sweep().await.unwrap();
    }
}

#[tokio::test]
async fn every_line_is_valid_emf_and_counts_what_happened() {
    let w = world();
    w.run_everything().await;
    let lines = w.lines.lock().unwrap().clone();
    assert!(!lines.is_empty());
    for line in &lines {
        assert_eq!(validate_line(line), Vec::<String>::new(), "{line}");
        assert!(
            !line.contains(CALL_ID) && !line.contains("call_book"),
            "a call id in {line}"
        );
    }
    let nordit = Some("nordit-hannover".to_string());
    let praxis = Some("praxis".to_string());
    // 7 Retell webhooks + 4 functions; the 401 is the one failure.
    assert_eq!(w.values(names::WEBHOOK_REQUESTS).len(), 11);
    let failures: f64 = w.values(names::WEBHOOK_FAILURES).iter().map(|(_, v)| v).sum();
    assert_eq!(failures, 1.0);
    assert_eq!(w.values(names::WEBHOOK_DURATION).len(), 11);
    assert_eq!(
        w.values(names::CASES_CAPTURED),
        [(nordit.clone(), 1.0), (nordit.clone(), 1.0)]
    );
    assert_eq!(w.values(names::DUPLICATES), [(nordit.clone(), 1.0)]);
    assert_eq!(w.values(names::UNROUTED_EVENTS), [(None, 1.0)]);
    assert_eq!(
        w.values(names::BOOKINGS),
        [(praxis.clone(), 1.0), (praxis.clone(), 1.0)]
    );
    assert_eq!(w.values(names::ALTERNATIVES_OFFERED), [(praxis.clone(), 1.0)]);
    assert_eq!(w.values(names::BOOKING_FAILURES), [(praxis.clone(), 1.0)]);
    // Per analyzed call, once: the nordit call became a ticket, the second nordit call (alerted)
    // too; the praxis call booked after it was offered other times. Retell's repeats count nothing.
    assert_eq!(
        w.values(names::TICKET_CONVERSION),
        [(nordit.clone(), 1.0), (praxis.clone(), 0.0), (nordit.clone(), 1.0)]
    );
    assert_eq!(
        w.values(names::APPOINTMENT_CONVERSION),
        [(nordit.clone(), 0.0), (praxis.clone(), 1.0), (nordit.clone(), 0.0)]
    );
    assert_eq!(w.values(names::ALTERNATIVES_ACCEPTED), [(praxis.clone(), 1.0)]);
    // nordit is priced (billing in its tenant file): Retell's combined cost, converted to EUR.
    let costs = w.values(names::CALL_COST);
    assert_eq!(costs.len(), 2, "{costs:?}");
    assert!(costs.iter().all(|(c, eur)| *c == nordit && *eur > 0.0), "{costs:?}");
    let results = |name: &str, dimension: &str| -> Vec<String> {
        w.documents()
            .iter()
            .filter(|d| d.get(name).is_some())
            .map(|d| d[dimension].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(results(names::ENRICHMENTS, "Result"), ["failed"]);
    assert_eq!(results(names::ALERTS, "Channel"), ["email"]);
    assert_eq!(results(names::ALERTS, "Result"), ["sent"]);
    assert_eq!(results(names::ATTEMPTS, "Result"), ["done", "dead_letter"]);
    assert_eq!(results(names::ATTEMPTS, "Function"), ["deliver", "deliver"]);
    assert_eq!(
        results(names::HANDLER_DURATION, "Function"),
        ["deliver", "deliver", "sweep"]
    );
    let swept: Vec<(String, f64)> = w
        .documents()
        .iter()
        .filter(|d| d.get(names::SWEPT_HANDOFFS).is_some())
        .map(|d| {
            (
                d["Kind"].as_str().unwrap().to_string(),
                d[names::SWEPT_HANDOFFS].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(swept, [("case".to_string(), 0.0), ("notice".to_string(), 2.0)]);
    let deliveries: Vec<(String, String)> = w
        .documents()
        .iter()
        .filter(|d| d.get(names::DELIVERIES).is_some())
        .map(|d| {
            assert_eq!(d["Company"], "nordit-hannover");
            (
                d["Channel"].as_str().unwrap().to_string(),
                d["Result"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        deliveries,
        [
            ("email".to_string(), "sent".to_string()),
            ("webhook".to_string(), "retry".to_string()),
            ("webhook".to_string(), "sent".to_string()),
        ]
    );
}

/// A metric as the template references it: name and the set of dimension names.
type Reference = (String, BTreeSet<String>);

fn template() -> serde_norway::Value {
    serde_norway::from_str(&std::fs::read_to_string("../../template.yaml").unwrap()).unwrap()
}

fn tagged_str(v: &serde_norway::Value) -> String {
    match v {
        serde_norway::Value::Tagged(t) => t.value.as_str().unwrap().to_string(),
        other => other.as_str().unwrap().to_string(),
    }
}

/// Every ServiceGateway metric the dashboard and the alarms of template.yaml reference.
fn referenced() -> BTreeSet<Reference> {
    let t = template();
    let mut refs = BTreeSet::new();
    let resources = t["Resources"].as_mapping().unwrap();
    let mut dashboards = 0;
    for (_, resource) in resources {
        match resource["Type"].as_str() {
            Some("AWS::CloudWatch::Dashboard") => {
                dashboards += 1;
                let body =
                    tagged_str(&resource["Properties"]["DashboardBody"]).replace("${AWS::Region}", "eu-central-1");
                let body: Value = serde_json::from_str(&body).expect("the dashboard body is JSON");
                for widget in body["widgets"].as_array().unwrap() {
                    for metric in widget["properties"]["metrics"].as_array().into_iter().flatten() {
                        let parts = metric.as_array().unwrap();
                        if let Some(expression) = parts[0].get("expression").and_then(Value::as_str) {
                            // SEARCH('{ServiceGateway,Company} MetricName="X"', …)
                            if let Some(rest) = expression.split("SEARCH('{").nth(1) {
                                let (schema, rest) = rest.split_once('}').unwrap();
                                let mut dims = schema.split(',').map(str::trim);
                                assert_eq!(dims.next(), Some(NAMESPACE), "{expression}");
                                let name = rest.split("MetricName=\"").nth(1).unwrap().split('"').next().unwrap();
                                refs.insert((name.to_string(), dims.map(str::to_string).collect()));
                            }
                            continue;
                        }
                        assert_eq!(parts[0], NAMESPACE, "{metric}");
                        let strings: Vec<&str> = parts[1..].iter().filter_map(Value::as_str).collect();
                        let dims = strings[1..].chunks(2).map(|kv| kv[0].to_string()).collect();
                        refs.insert((strings[0].to_string(), dims));
                    }
                }
            }
            Some("AWS::CloudWatch::Alarm") => {
                let p = &resource["Properties"];
                let dims = |d: &serde_norway::Value| -> BTreeSet<String> {
                    d.as_sequence()
                        .into_iter()
                        .flatten()
                        .map(|x| x["Name"].as_str().unwrap().to_string())
                        .collect()
                };
                if p["Namespace"].as_str() == Some(NAMESPACE) {
                    refs.insert((p["MetricName"].as_str().unwrap().to_string(), dims(&p["Dimensions"])));
                }
                for query in p["Metrics"].as_sequence().into_iter().flatten() {
                    let m = &query["MetricStat"]["Metric"];
                    if m["Namespace"].as_str() == Some(NAMESPACE) {
                        refs.insert((m["MetricName"].as_str().unwrap().to_string(), dims(&m["Dimensions"])));
                    }
                }
            }
            _ => {}
        }
    }
    assert_eq!(dashboards, 1, "the KPI dashboard");
    refs
}

#[tokio::test]
async fn every_metric_the_dashboard_and_alarms_reference_is_emitted() {
    let w = world();
    w.run_everything().await;
    // What the code emitted: each metric with every dimension set it is published under.
    let mut emitted: BTreeMap<String, BTreeSet<BTreeSet<String>>> = BTreeMap::new();
    for d in w.documents() {
        for directive in d["_aws"]["CloudWatchMetrics"].as_array().unwrap() {
            assert_eq!(directive["Namespace"], NAMESPACE);
            for metric in directive["Metrics"].as_array().unwrap() {
                let sets = emitted.entry(metric["Name"].as_str().unwrap().to_string()).or_default();
                for set in directive["Dimensions"].as_array().unwrap() {
                    sets.insert(
                        set.as_array()
                            .unwrap()
                            .iter()
                            .map(|s| s.as_str().unwrap().to_string())
                            .collect(),
                    );
                }
            }
        }
    }
    let refs = referenced();
    let alarm_names: BTreeSet<&str> = refs.iter().map(|(n, _)| n.as_str()).collect();
    for needed in [
        names::WEBHOOK_REQUESTS,
        names::WEBHOOK_FAILURES,
        names::BOOKINGS,
        names::BOOKING_FAILURES,
    ] {
        assert!(
            alarm_names.contains(needed),
            "{needed} is not on the dashboard or in an alarm"
        );
    }
    for (name, dims) in &refs {
        let sets = emitted
            .get(name)
            .unwrap_or_else(|| panic!("template.yaml references {name}, which the code does not emit"));
        assert!(
            sets.contains(dims),
            "template.yaml asks for {name} by {dims:?}; the code publishes it by {sets:?}"
        );
    }
    // And every name the code knows is exercised here, so this test sees all of them, and is
    // on the dashboard, so nothing is counted that nobody sees.
    for name in names::ALL {
        assert!(emitted.contains_key(*name), "{name} was not emitted by any flow");
        assert!(
            alarm_names.contains(name),
            "{name} is not on the dashboard or in an alarm"
        );
    }
}
