//! gatewayctl: tenant configuration as code, customer import and case inspection, through the
//! same adapters as the functions. Library part (tests drive it directly); `main.rs` is clap.

pub mod costs;
pub use costs::{render_cost_csv, render_cost_report};

use std::path::Path;

use chrono::{DateTime, Utc};
use gateway_adapters::DynamoStore;
use gateway_adapters::cognito::{ConsoleUsers, NewUser, Role, UserError};
use gateway_domain::StoreError;
use gateway_domain::call_event::{CallEvent, CallEventReader};
use gateway_domain::case::{CaseStatus, Channel, OutputStatus, ServiceCase};
use gateway_domain::delivery::redeliver::{RedeliveryPorts, Requester, redeliver};
use gateway_domain::enrichment::customer::Customer;
use gateway_domain::ids::{CompanyId, TicketRef};
use gateway_domain::ssrf::UrlPolicy;
use gateway_domain::tenancy::output::MASKED_SECRET;
use gateway_domain::tenancy::plan::{Change, ChangeKind, plan};
use gateway_domain::tenancy::validate::validate;
use gateway_domain::tenancy::{ConfigStore, RouteKey, TenantSpec};

#[derive(Debug, thiserror::Error)]
pub enum CtlError {
    /// Everything wrong with an input, one line each (`file: field: message`).
    #[error("{}", .0.join("\n"))]
    Invalid(Vec<String>),
    #[error("{0}")]
    Io(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Reads a tenant document (YAML, or JSON by extension); errors name the file and the field.
pub fn load_document(path: &Path) -> Result<TenantSpec, CtlError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| CtlError::Io(format!("{file}: {e}")))?;
    let json = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let result = if json {
        serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_str(&text))
            .map_err(|e| (e.path().to_string(), e.into_inner().to_string()))
    } else {
        serde_path_to_error::deserialize(serde_norway::Deserializer::from_str(&text))
            .map_err(|e| (e.path().to_string(), e.into_inner().to_string()))
    };
    result.map_err(|(field, message)| CtlError::Invalid(vec![format!("{file}: {field}: {message}")]))
}

/// What `apply` did (or, in a dry run, would do).
#[derive(Debug)]
pub struct ApplyReport {
    pub company_id: CompanyId,
    pub changes: Vec<Change>,
    pub dry_run: bool,
}

impl ApplyReport {
    pub fn render(&self) -> String {
        let mut out = String::new();
        for c in &self.changes {
            out.push_str(&format!("{c}\n"));
        }
        let count = |k| self.changes.iter().filter(|c| c.kind == k).count();
        out.push_str(&format!(
            "{}: {} to create, {} to change, {} to remove{}\n",
            self.company_id,
            count(ChangeKind::Create),
            count(ChangeKind::Change),
            count(ChangeKind::Remove),
            if self.dry_run {
                " (dry run: nothing written)"
            } else {
                ""
            }
        ));
        out
    }
}

pub struct Ctl {
    pub store: DynamoStore,
    pub policy: UrlPolicy,
}

impl Ctl {
    /// Validates the document (all problems at once), plans it against what is stored and writes
    /// the plan unless `dry_run`. Nothing is written when anything is wrong.
    pub async fn apply(&self, path: &Path, dry_run: bool) -> Result<ApplyReport, CtlError> {
        let file = path.display().to_string();
        let mut desired = load_document(path)?;
        let company_id = desired.company.company_id.clone();
        let mut problems: Vec<String> = validate(&desired, &self.policy)
            .into_iter()
            .map(|i| format!("{file}: {}: {}", i.path, i.message))
            .collect();
        for (i, agent) in desired.routes.agents.iter().enumerate() {
            if let Some(owner) = self
                .owner_other_than(&RouteKey::Agent(agent.clone()), &company_id)
                .await?
            {
                problems.push(format!(
                    "{file}: routes.agents[{i}]: '{agent}' is already routed to company '{owner}'"
                ));
            }
        }
        for (i, phone) in desired.routes.phones.iter().enumerate() {
            if let Some(owner) = self
                .owner_other_than(&RouteKey::Phone(phone.clone()), &company_id)
                .await?
            {
                problems.push(format!(
                    "{file}: routes.phones[{i}]: '{phone}' is already routed to company '{owner}'"
                ));
            }
        }
        if !problems.is_empty() {
            return Err(CtlError::Invalid(problems));
        }
        let current = self.store.load_spec(&company_id).await?;
        // An exported file carries masked secrets: applying it keeps the stored ones.
        if let Some(stored) = &current {
            if desired.company.slack_webhook_url.as_deref() == Some(MASKED_SECRET) {
                desired
                    .company
                    .slack_webhook_url
                    .clone_from(&stored.company.slack_webhook_url);
            }
            for out in &mut desired.outputs {
                if let Some(old) = stored.outputs.iter().find(|o| o.id == out.id) {
                    out.unmask_from(old);
                }
            }
            if let (Some(appointments), Some(old)) = (desired.appointments.as_mut(), stored.appointments.as_ref()) {
                appointments.unmask_from(old);
            }
        }
        // A calendar credential still masked has nothing stored to keep: refuse rather than store the mask.
        if let Some(appointments) = &desired.appointments {
            let masked: Vec<String> = appointments
                .masked_secrets()
                .into_iter()
                .map(|i| format!("{file}: {}: {}", i.path, i.message))
                .collect();
            if !masked.is_empty() {
                return Err(CtlError::Invalid(masked));
            }
        }
        let changes = plan(current.as_ref(), &desired);
        if !dry_run {
            self.store.apply_changes(&desired, &changes).await?;
        }
        Ok(ApplyReport {
            company_id,
            changes,
            dry_run,
        })
    }

    async fn owner_other_than(&self, route: &RouteKey, company_id: &CompanyId) -> Result<Option<CompanyId>, CtlError> {
        Ok(self.store.company_for(route).await?.filter(|owner| owner != company_id))
    }

    /// The stored document in the same format `apply` reads (secrets masked unless asked).
    pub async fn export(&self, company_id: &CompanyId, show_secrets: bool) -> Result<String, CtlError> {
        let mut spec = self
            .store
            .load_spec(company_id)
            .await?
            .ok_or_else(|| CtlError::Io(format!("company '{company_id}' has no configuration")))?;
        if !show_secrets {
            spec.outputs = spec.outputs.iter().map(|o| o.masked()).collect();
            if spec.company.slack_webhook_url.is_some() {
                spec.company.slack_webhook_url = Some(MASKED_SECRET.into());
            }
            spec.appointments = spec.appointments.as_ref().map(|a| a.masked());
        }
        let yaml = serde_norway::to_string(&spec).map_err(|e| CtlError::Io(e.to_string()))?;
        Ok(format!(
            "# exported by gatewayctl at {}\n{yaml}",
            Utc::now().to_rfc3339()
        ))
    }

    /// Imports customers from CSV (`name,phone,email,company,external_id` with a header row).
    /// Bad rows are reported by line number and skipped; the rest are written.
    pub async fn import_customers(&self, company_id: &CompanyId, path: &Path) -> Result<ImportReport, CtlError> {
        let tenant = self
            .store
            .tenant(company_id)
            .await?
            .ok_or_else(|| CtlError::Io(format!("company '{company_id}' has no configuration")))?;
        let file = path.display().to_string();
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .trim(csv::Trim::All)
            .from_path(path)
            .map_err(|e| CtlError::Io(format!("{file}: {e}")))?;
        let headers = reader
            .headers()
            .map_err(|e| CtlError::Io(format!("{file}: {e}")))?
            .clone();
        let column = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
        let Some(name_col) = column("name") else {
            return Err(CtlError::Invalid(vec![format!(
                "{file}: line 1: missing column 'name'"
            )]));
        };
        let cols = [
            column("phone"),
            column("email"),
            column("company"),
            column("external_id"),
        ];
        let mut report = ImportReport::default();
        for record in reader.records() {
            let record = match record {
                Ok(r) => r,
                Err(e) => {
                    let line = e.position().map_or(0, |p| p.line());
                    report.skipped.push(format!("{file}: line {line}: {e}"));
                    continue;
                }
            };
            let line = record.position().map_or(0, |p| p.line());
            let field = |c: Option<usize>| c.and_then(|i| record.get(i)).unwrap_or("");
            match Customer::from_fields(
                field(Some(name_col)),
                field(cols[0]),
                field(cols[1]),
                field(cols[2]),
                field(cols[3]),
                tenant.region,
            ) {
                Ok(customer) => {
                    self.store.put_customer(company_id, &customer).await?;
                    report.imported += 1;
                }
                Err(reason) => report.skipped.push(format!("{file}: line {line}: {reason}")),
            }
        }
        Ok(report)
    }

    pub async fn list_cases(&self, company_id: &CompanyId, filter: &CaseFilter) -> Result<Vec<ServiceCase>, CtlError> {
        let cases = self.store.cases_since(company_id, filter.since).await?;
        Ok(cases
            .into_iter()
            .filter(|c| filter.status.is_none_or(|s| c.status == s))
            .filter(|c| filter.output_status.is_none_or(|s| c.output_status == s))
            .collect())
    }

    pub async fn show_case(&self, company_id: &CompanyId, ticket_ref: &TicketRef) -> Result<CaseView, CtlError> {
        let case = self
            .store
            .case_by_ticket(company_id, ticket_ref)
            .await?
            .ok_or_else(|| CtlError::Io(format!("no case {ticket_ref} for company '{company_id}'")))?;
        let events = self.store.call_events(Some(company_id), &case.call_id).await?;
        let exchange_log = self.store.exchange_log(company_id, &case.case_id).await?;
        Ok(CaseView {
            case,
            events,
            exchange_log,
        })
    }
}

/// Deliberate redelivery of cases whose target has been fixed.
pub struct Redelivery {
    pub store: DynamoStore,
    pub queue: gateway_adapters::SqsQueue,
    /// Who asked (recorded in the exchange log).
    pub operator: String,
}

impl Redelivery {
    /// Resets the chosen channels (a channel not named keeps its `sent` mark, so what already
    /// arrived is not sent again), puts the case back to `pending`, logs who asked and enqueues it.
    pub async fn case(
        &self,
        company_id: &CompanyId,
        ticket_ref: &TicketRef,
        channels: &[Channel],
    ) -> Result<ServiceCase, CtlError> {
        let case = self
            .store
            .case_by_ticket(company_id, ticket_ref)
            .await?
            .ok_or_else(|| CtlError::Io(format!("no case {ticket_ref} for company '{company_id}'")))?;
        self.redeliver(&case, channels).await?;
        Ok(case)
    }

    /// Every `failed` case of the company (optionally only those created since `since`).
    pub async fn failed(
        &self,
        company_id: &CompanyId,
        since: Option<DateTime<Utc>>,
        channels: &[Channel],
    ) -> Result<Vec<String>, CtlError> {
        let mut done: Vec<String> = Vec::new();
        for case in self.store.cases_since(company_id, since).await? {
            if case.output_status == OutputStatus::Failed {
                self.redeliver(&case, channels).await?;
                done.push(case.ticket_ref.as_deref().unwrap_or(&case.call_id).to_string());
            }
        }
        Ok(done)
    }

    async fn redeliver(&self, case: &ServiceCase, channels: &[Channel]) -> Result<(), CtlError> {
        let ports = RedeliveryPorts {
            store: &self.store,
            log: &self.store,
            queue: &self.queue,
        };
        let by = Requester {
            handler: "gatewayctl",
            operator: &self.operator,
            at: Utc::now(),
        };
        redeliver(ports, case, channels, &by).await?;
        Ok(())
    }
}

/// What `gatewayctl users` was asked to do.
#[derive(Debug, Clone)]
pub enum UsersRequest {
    Add {
        username: String,
        email: Option<String>,
        company: CompanyId,
        role: Role,
        platform_admin: bool,
        password: String,
    },
    List {
        company: Option<CompanyId>,
    },
    Remove {
        username: String,
    },
}

/// What `gatewayctl keys` does with a key ring kept in Secrets Manager.
pub enum KeysRequest {
    Show {
        secret: String,
    },
    /// A key the gateway only checks (Retell's): the new key is current at once.
    Rotate {
        secret: String,
        new_key: String,
    },
    /// A key the gateway signs with (links, console sessions): the new key is accepted first.
    Prepare {
        secret: String,
        new_key: String,
    },
    /// The prepared key signs from now on.
    Promote {
        secret: String,
    },
    Finish {
        secret: String,
    },
}

/// Shows, rotates or finishes the rotation of a key ring; returns what to print (fingerprints,
/// never keys) and the step that comes next.
pub async fn keys(client: &aws_sdk_secretsmanager::Client, request: KeysRequest) -> Result<String, CtlError> {
    use gateway_adapters::secrets::{read_ring, write_ring};
    use gateway_domain::keys::KeyRing;
    let failed = |e: gateway_adapters::secrets::SecretError| CtlError::Io(e.to_string());
    let describe = |ring: &KeyRing| match ring.previous() {
        Some(other) => format!(
            "current key {} signs, key {} is also accepted (rotation under way)\n",
            KeyRing::fingerprint(ring.current()),
            KeyRing::fingerprint(other)
        ),
        None => format!(
            "current key {}, no rotation under way\n",
            KeyRing::fingerprint(ring.current())
        ),
    };
    let next = "next: start fresh containers (README, \"Rotating keys\")\n";
    // The ring as it is, and a new key checked against it.
    let unrotated = |ring: &KeyRing, new_key: &str| -> Result<String, CtlError> {
        let new_key = new_key.trim();
        if new_key.len() < 16 {
            return Err(CtlError::Invalid(vec![format!(
                "the new key has {} characters; a key needs at least 16",
                new_key.len()
            )]));
        }
        if ring.is_rotating() {
            return Err(CtlError::Invalid(vec![
                "a rotation is under way: finish it first (gatewayctl keys finish …)".into(),
            ]));
        }
        if ring.current() == new_key {
            return Err(CtlError::Invalid(vec!["the new key is the current key".into()]));
        }
        Ok(new_key.to_string())
    };
    let read = |secret: String| async move { read_ring(client, &secret).await.map_err(failed).map(|r| (secret, r)) };
    let (secret, changed) = match request {
        KeysRequest::Show { secret } => return Ok(describe(&read(secret).await?.1)),
        KeysRequest::Rotate { secret, new_key } => {
            let (secret, ring) = read(secret).await?;
            let new_key = unrotated(&ring, &new_key)?;
            (secret, ring.rotated_to(new_key))
        }
        KeysRequest::Prepare { secret, new_key } => {
            let (secret, ring) = read(secret).await?;
            let new_key = unrotated(&ring, &new_key)?;
            (secret, ring.prepared(new_key))
        }
        KeysRequest::Promote { secret } => {
            let (secret, ring) = read(secret).await?;
            if !ring.is_rotating() {
                return Err(CtlError::Invalid(vec![
                    "nothing to promote: prepare a key first (gatewayctl keys prepare …)".into(),
                ]));
            }
            (secret, ring.promoted())
        }
        KeysRequest::Finish { secret } => {
            let (secret, ring) = read(secret).await?;
            if !ring.is_rotating() {
                return Ok(format!("nothing to finish: {}", describe(&ring)));
            }
            (secret, ring.finished())
        }
    };
    write_ring(client, &secret, &changed).await.map_err(failed)?;
    Ok(format!("{}{next}", describe(&changed)))
}

/// A new random key: 32 bytes from the operating system, as 64 hex digits.
pub fn generate_key() -> Result<String, CtlError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| CtlError::Io(format!("no randomness from the system: {e}")))?;
    Ok(hex::encode(bytes))
}

/// Adds, lists or removes console users; returns what to print.
pub async fn users(pool: &ConsoleUsers, request: UsersRequest) -> Result<String, CtlError> {
    let failed = |e: UserError| match e {
        UserError::Store(e) => CtlError::Store(e),
        other => CtlError::Invalid(vec![other.to_string()]),
    };
    match request {
        UsersRequest::Add {
            username,
            email,
            company,
            role,
            platform_admin,
            password,
        } => {
            let user = NewUser {
                username: &username,
                email: email.as_deref(),
                company_id: &company,
                role,
                platform_admin,
                password: &password,
            };
            pool.add(&user).await.map_err(failed)?;
            Ok(format!(
                "{username}: {} of {company}{}\n",
                role.as_str(),
                if platform_admin { " (platform admin)" } else { "" }
            ))
        }
        UsersRequest::List { company } => {
            let list = pool.list(company.as_deref()).await.map_err(failed)?;
            let mut out = format!(
                "{:<36} {:<24} {:<9} {:<8} {}\n",
                "USER", "COMPANY", "ROLE", "PLATFORM", "STATUS"
            );
            for u in &list {
                out.push_str(&format!(
                    "{:<36} {:<24} {:<9} {:<8} {}{}\n",
                    u.username,
                    u.company_id,
                    u.role,
                    if u.platform_admin { "yes" } else { "-" },
                    u.status,
                    if u.enabled { "" } else { " (disabled)" }
                ));
            }
            out.push_str(&format!("{} user(s)\n", list.len()));
            Ok(out)
        }
        UsersRequest::Remove { username } => {
            pool.remove(&username).await.map_err(failed)?;
            Ok(format!("{username}: removed\n"))
        }
    }
}

/// The operator's name: `--operator`, else `GATEWAY_OPERATOR`, else the login name.
pub fn operator_name(flag: Option<String>) -> String {
    flag.or_else(|| std::env::var("GATEWAY_OPERATOR").ok())
        .or_else(|| std::env::var("USER").ok())
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| "unknown operator".into())
}

#[derive(Debug, Default)]
pub struct ImportReport {
    pub imported: usize,
    pub skipped: Vec<String>,
}

#[derive(Debug, Default, Clone)]
pub struct CaseFilter {
    pub status: Option<CaseStatus>,
    pub output_status: Option<OutputStatus>,
    pub since: Option<DateTime<Utc>>,
}

/// A case with its audit trail.
#[derive(Debug, serde::Serialize)]
pub struct CaseView {
    pub case: ServiceCase,
    pub events: Vec<CallEvent>,
    pub exchange_log: Vec<serde_json::Value>,
}

/// One line per case, newest first.
pub fn render_case_table(cases: &[ServiceCase]) -> String {
    let mut out = format!(
        "{:<16} {:<20} {:<8} {:<8} {:<10} {:<9} {:<10} {}\n",
        "TICKET", "CREATED", "STATUS", "OUTPUT", "ENRICH", "PRIORITY", "CATEGORY", "SUBJECT"
    );
    for c in cases {
        out.push_str(&format!(
            "{:<16} {:<20} {:<8} {:<8} {:<10} {:<9} {:<10} {}\n",
            c.ticket_ref.as_deref().unwrap_or("(pending)"),
            c.created_at.format("%Y-%m-%d %H:%M:%S"),
            c.status.as_str(),
            c.output_status.as_str(),
            c.enrichment_status.as_str(),
            c.priority.as_str(),
            c.category.as_deref().unwrap_or("-"),
            gateway_domain::text::truncate_chars(&c.subject, 60),
        ));
    }
    out.push_str(&format!("{} case(s)\n", cases.len()));
    out
}

/// Parses a `since` value: RFC 3339, a date (`2026-11-01`), or a duration back from now (`24h`, `7d`).
pub fn parse_since(value: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        return Ok(d.and_time(chrono::NaiveTime::MIN).and_utc());
    }
    let (num, unit) = value.split_at(value.len().saturating_sub(1));
    let n: i64 = num
        .parse()
        .map_err(|_| format!("'{value}' is not a time (RFC 3339, YYYY-MM-DD, or 30m/24h/7d)"))?;
    let span = match unit {
        "m" => chrono::Duration::minutes(n),
        "h" => chrono::Duration::hours(n),
        "d" => chrono::Duration::days(n),
        _ => return Err(format!("'{value}': unit must be m, h or d")),
    };
    Ok(now - span)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn since_accepts_times_dates_and_spans() {
        let now = Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap();
        assert_eq!(parse_since("24h", now).unwrap(), now - chrono::Duration::hours(24));
        assert_eq!(parse_since("7d", now).unwrap(), now - chrono::Duration::days(7));
        assert_eq!(
            parse_since("2026-11-01", now).unwrap(),
            Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap()
        );
        assert_eq!(
            parse_since("2026-11-01T10:00:00+01:00", now).unwrap(),
            Utc.with_ymd_and_hms(2026, 11, 1, 9, 0, 0).unwrap()
        );
        assert!(parse_since("soon", now).is_err());
        assert!(parse_since("3w", now).is_err());
    }
}
