//! Wiring only: configuration, clients, run.

use lambda_runtime::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let sdk = gateway_adapters::aws::sdk_config(deliver::SDK_TIMEOUTS).await;
    // Keys kept in Secrets Manager (`*_SECRET_ARN`) are read once, before the configuration.
    gateway_adapters::secrets::load_at_cold_start(&sdk).await?;
    let config = deliver::Config::from_env()?;
    let app = deliver::App::new(config, &sdk)?;
    run(service_fn(|event| deliver::handle(&app, event))).await
}
