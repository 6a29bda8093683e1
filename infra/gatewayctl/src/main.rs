//! `gatewayctl`: the operator CLI. Wiring only: arguments, clients, output.

use gateway_domain::ids::{CompanyId, TicketRef};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use gateway_adapters::DynamoStore;
use gateway_adapters::cognito::{ConsoleUsers, Role};
use gateway_domain::case::{CaseStatus, OutputStatus};
use gatewayctl::{CaseFilter, Ctl, CtlError, UsersRequest, parse_since, render_case_table};

/// Service Gateway operator CLI: tenant configuration as code, customers, cases.
///
/// Talks to AWS through the default credential chain, or to the local emulator when
/// AWS_ENDPOINT_URL points at it (local mode: http webhook and calendar server URLs allowed).
#[derive(Parser)]
#[command(name = "gatewayctl", version)]
struct Cli {
    /// The gateway's DynamoDB table (stack output TableName).
    #[arg(long, env = "TABLE_NAME", global = true, default_value = "service-gateway-table")]
    table: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate a tenant file (YAML or JSON) and apply it: creates, changes and removes items.
    Apply {
        /// The tenant file.
        #[arg(short = 'f', long = "file")]
        file: PathBuf,
        /// Print the plan, write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Print a company's configuration in the format `apply` reads.
    Export {
        #[arg(long)]
        company: CompanyId,
        /// Print secrets instead of masking them.
        #[arg(long)]
        show_secrets: bool,
        /// Write to this file instead of standard output.
        #[arg(short = 'o', long)]
        output: Option<PathBuf>,
    },
    /// Customer records used to recognise callers.
    #[command(subcommand)]
    Customers(CustomersCommand),
    /// Inspect service cases.
    #[command(subcommand)]
    Cases(CasesCommand),
    /// Console users (Cognito user pool): who may sign in to the operator console.
    Users(UsersArgs),
    /// What calls cost and earned (the cost ledger).
    #[command(subcommand)]
    Costs(CostsCommand),
    /// Rotate a key kept in AWS Secrets Manager (stack outputs RetellApiKeySecretArn,
    /// LinkSigningKeySecretArn, ConsoleSessionKeySecretArn) without refusing a request.
    #[command(subcommand)]
    Keys(KeysCommand),
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Whether a rotation is under way (fingerprints of the keys, never the keys).
    Show { secret: String },
    /// Start the rotation of a key the gateway only checks (Retell's): the new key, read from
    /// standard input, is current at once; the replaced one is still accepted.
    Rotate { secret: String },
    /// Start the rotation of a key the gateway signs with (the link-signing and console session
    /// keys): a new random key (64 hex digits) is accepted, but does not sign yet.
    Prepare { secret: String },
    /// The prepared key signs from now on; the replaced one is still accepted.
    Promote { secret: String },
    /// End a rotation: only the current key is accepted from the next cold start on (after
    /// `prepare` without `promote`: the rotation is called off).
    Finish { secret: String },
}

#[derive(Subcommand)]
enum CostsCommand {
    /// A month's costs in EUR: external (Retell + telephony), base cost, platform and reseller
    /// profit; per company, or per call with --company.
    Report {
        /// One company; without it every company with calls in the month.
        #[arg(long)]
        company: Option<CompanyId>,
        /// The month, e.g. 2026-11 (calls by their day in the company's time zone).
        #[arg(long)]
        month: gateway_domain::costs::Month,
        /// CSV instead of a table: one row per call and one base-fee row per company.
        #[arg(long)]
        csv: bool,
    },
}

#[derive(Args)]
struct UsersArgs {
    /// The console's user pool (stack output ConsoleUserPoolId).
    #[arg(long, env = "COGNITO_USER_POOL_ID", global = true)]
    user_pool_id: Option<String>,
    #[command(subcommand)]
    command: UsersCommand,
}

#[derive(Subcommand)]
enum UsersCommand {
    /// Create a user of a company with a role (the password is set permanently).
    Add {
        /// The sign-in name, e.g. an e-mail address.
        username: String,
        #[arg(long)]
        company: CompanyId,
        #[arg(long, value_enum)]
        role: RoleArg,
        /// Also a platform admin: sees and may switch to every company.
        #[arg(long)]
        platform_admin: bool,
        /// The user's e-mail address (default: the username when it is one).
        #[arg(long)]
        email: Option<String>,
        /// The password (at least 12 characters, upper and lower case, a digit); read from
        /// CONSOLE_USER_PASSWORD when not given.
        #[arg(long, env = "CONSOLE_USER_PASSWORD", hide_env_values = true)]
        password: String,
    },
    /// List users (all, or one company's).
    List {
        #[arg(long)]
        company: Option<CompanyId>,
    },
    /// Delete a user.
    Remove { username: String },
}

#[derive(Clone, Copy, ValueEnum)]
enum RoleArg {
    Admin,
    Operator,
    Viewer,
}

#[derive(Subcommand)]
enum CustomersCommand {
    /// Import customers from CSV with the header name,phone,email,company,external_id.
    Import {
        #[arg(long)]
        company: CompanyId,
        /// The CSV file.
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum CasesCommand {
    /// List a company's cases, newest first.
    List(ListArgs),
    /// Deliver cases again once their target is fixed (one by ticket, or all failed ones).
    Redeliver {
        /// Ticket reference; leave out with --failed.
        ticket: Option<TicketRef>,
        #[arg(long)]
        company: CompanyId,
        /// Every failed case of the company.
        #[arg(long, conflicts_with = "ticket")]
        failed: bool,
        /// With --failed: only cases created since (RFC 3339, YYYY-MM-DD, or 30m / 24h / 7d).
        #[arg(long, requires = "failed")]
        since: Option<String>,
        /// Send this channel again even if it was delivered (repeatable); by default only the
        /// channels not yet delivered go out.
        #[arg(long, value_enum)]
        channel: Vec<ChannelArg>,
        /// Who asks (recorded in the exchange log); default GATEWAY_OPERATOR or the login name.
        #[arg(long)]
        operator: Option<String>,
        /// The delivery queue (stack output DeliveryQueueUrl).
        #[arg(long, env = "DELIVERY_QUEUE_URL")]
        queue_url: String,
    },
    /// Show one case with its call events and exchange log.
    Show {
        /// Ticket reference, e.g. TKT-2026-00042.
        ticket: TicketRef,
        #[arg(long)]
        company: CompanyId,
    },
}

#[derive(Args)]
struct ListArgs {
    #[arg(long)]
    company: CompanyId,
    #[arg(long, value_enum)]
    status: Option<StatusArg>,
    #[arg(long, value_enum)]
    output_status: Option<OutputArg>,
    /// Only cases created since: RFC 3339, YYYY-MM-DD, or 30m / 24h / 7d.
    #[arg(long)]
    since: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum StatusArg {
    New,
    Open,
    Pending,
    Resolved,
    Closed,
}

#[derive(Clone, Copy, ValueEnum)]
enum ChannelArg {
    Email,
    Webhook,
}

#[derive(Clone, Copy, ValueEnum)]
enum OutputArg {
    Pending,
    Sent,
    Failed,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("{err}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), CtlError> {
    let local = std::env::var("AWS_ENDPOINT_URL").is_ok_and(|e| e.contains("127.0.0.1") || e.contains("localhost"));
    // An operator waits longer than a function would; a hanging call still ends.
    let sdk = gateway_adapters::aws::sdk_config(gateway_adapters::aws::SdkTimeouts {
        attempt: std::time::Duration::from_secs(20),
        operation: std::time::Duration::from_secs(60),
    })
    .await;
    let ctl = Ctl {
        store: DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), &cli.table),
        policy: gateway_adapters::aws::url_policy(local),
    };
    match cli.command {
        Command::Apply { file, dry_run } => print!("{}", ctl.apply(&file, dry_run).await?.render()),
        Command::Export {
            company,
            show_secrets,
            output,
        } => {
            let yaml = ctl.export(&company, show_secrets).await?;
            match output {
                Some(path) => {
                    std::fs::write(&path, yaml).map_err(|e| CtlError::Io(format!("{}: {e}", path.display())))?
                }
                None => print!("{yaml}"),
            }
        }
        Command::Customers(CustomersCommand::Import { company, file }) => {
            let report = ctl.import_customers(&company, &file).await?;
            for line in &report.skipped {
                eprintln!("skipped {line}");
            }
            println!(
                "{} customer(s) imported, {} row(s) skipped",
                report.imported,
                report.skipped.len()
            );
        }
        Command::Cases(CasesCommand::List(args)) => {
            let since = args
                .since
                .map(|s| parse_since(&s, chrono::Utc::now()))
                .transpose()
                .map_err(|e| CtlError::Invalid(vec![e]))?;
            let filter = CaseFilter {
                status: args.status.map(|s| match s {
                    StatusArg::New => CaseStatus::New,
                    StatusArg::Open => CaseStatus::Open,
                    StatusArg::Pending => CaseStatus::Pending,
                    StatusArg::Resolved => CaseStatus::Resolved,
                    StatusArg::Closed => CaseStatus::Closed,
                }),
                output_status: args.output_status.map(|s| match s {
                    OutputArg::Pending => OutputStatus::Pending,
                    OutputArg::Sent => OutputStatus::Sent,
                    OutputArg::Failed => OutputStatus::Failed,
                }),
                since,
            };
            print!("{}", render_case_table(&ctl.list_cases(&args.company, &filter).await?));
        }
        Command::Cases(CasesCommand::Redeliver {
            ticket,
            company,
            failed,
            since,
            channel,
            operator,
            queue_url,
        }) => {
            let channels: Vec<gateway_domain::case::Channel> = channel
                .iter()
                .map(|c| match c {
                    ChannelArg::Email => gateway_domain::case::Channel::Email,
                    ChannelArg::Webhook => gateway_domain::case::Channel::Webhook,
                })
                .collect();
            let redelivery = gatewayctl::Redelivery {
                store: ctl.store.clone(),
                queue: gateway_adapters::SqsQueue::new(aws_sdk_sqs::Client::new(&sdk), queue_url),
                operator: gatewayctl::operator_name(operator),
            };
            match (ticket, failed) {
                (Some(ticket), false) => {
                    redelivery.case(&company, &ticket, &channels).await?;
                    println!("{ticket}: queued for delivery (by {})", redelivery.operator);
                }
                (None, true) => {
                    let since = since
                        .map(|s| parse_since(&s, chrono::Utc::now()))
                        .transpose()
                        .map_err(|e| CtlError::Invalid(vec![e]))?;
                    let done = redelivery.failed(&company, since, &channels).await?;
                    println!("{} failed case(s) queued for delivery: {}", done.len(), done.join(", "));
                }
                _ => return Err(CtlError::Invalid(vec!["give a ticket reference or --failed".into()])),
            }
        }
        Command::Users(args) => {
            let pool = args
                .user_pool_id
                .ok_or_else(|| CtlError::Invalid(vec!["give --user-pool-id or COGNITO_USER_POOL_ID".into()]))?;
            let users = ConsoleUsers::new(aws_sdk_cognitoidentityprovider::Client::new(&sdk), pool);
            print!("{}", gatewayctl::users(&users, args_to_request(args.command)).await?);
        }
        Command::Keys(command) => {
            let secrets = aws_sdk_secretsmanager::Client::new(&sdk);
            let request = match command {
                KeysCommand::Show { secret } => gatewayctl::KeysRequest::Show { secret },
                KeysCommand::Rotate { secret } => {
                    let mut new_key = String::new();
                    std::io::Read::read_to_string(&mut std::io::stdin(), &mut new_key)
                        .map_err(|e| CtlError::Io(format!("standard input: {e}")))?;
                    gatewayctl::KeysRequest::Rotate { secret, new_key }
                }
                KeysCommand::Prepare { secret } => gatewayctl::KeysRequest::Prepare {
                    secret,
                    new_key: gatewayctl::generate_key()?,
                },
                KeysCommand::Promote { secret } => gatewayctl::KeysRequest::Promote { secret },
                KeysCommand::Finish { secret } => gatewayctl::KeysRequest::Finish { secret },
            };
            print!("{}", gatewayctl::keys(&secrets, request).await?);
        }
        Command::Costs(CostsCommand::Report { company, month, csv }) => {
            let report = ctl.cost_report(company.as_ref(), month).await?;
            if csv {
                print!("{}", gatewayctl::render_cost_csv(&report)?);
            } else {
                print!("{}", gatewayctl::render_cost_report(month, &report));
            }
        }
        Command::Cases(CasesCommand::Show { ticket, company }) => {
            let view = ctl.show_case(&company, &ticket).await?;
            print!(
                "{}",
                serde_norway::to_string(&view).map_err(|e| CtlError::Io(e.to_string()))?
            );
        }
    }
    Ok(())
}

fn args_to_request(command: UsersCommand) -> UsersRequest {
    match command {
        UsersCommand::Add {
            username,
            company,
            role,
            platform_admin,
            email,
            password,
        } => UsersRequest::Add {
            email: email.or_else(|| username.contains('@').then(|| username.clone())),
            username,
            company,
            role: match role {
                RoleArg::Admin => Role::Admin,
                RoleArg::Operator => Role::Operator,
                RoleArg::Viewer => Role::Viewer,
            },
            platform_admin,
            password,
        },
        UsersCommand::List { company } => UsersRequest::List { company },
        UsersCommand::Remove { username } => UsersRequest::Remove { username },
    }
}
