//! Wiring only: configuration, clients, run.

use std::sync::Arc;

use lambda_http::{Error, run};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let sdk = gateway_adapters::aws::sdk_config(ingest::SDK_TIMEOUTS).await;
    // Keys kept in Secrets Manager (`*_SECRET_ARN`) are read once, before the configuration.
    gateway_adapters::secrets::load_at_cold_start(&sdk).await?;
    let config = ingest::Config::from_env()?;
    let app = Arc::new(ingest::App::new(&config, &sdk));
    run(ingest::router(app)).await
}
