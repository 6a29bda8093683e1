//! Wiring only: configuration, clients, run.

use std::sync::Arc;

use lambda_http::{Error, run};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let config = ingest::Config::from_env()?;
    let sdk = gateway_adapters::aws::sdk_config(ingest::SDK_TIMEOUTS).await;
    let app = Arc::new(ingest::App::new(&config, &sdk));
    run(ingest::router(app)).await
}
