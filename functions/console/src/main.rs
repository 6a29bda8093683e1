//! Wiring only: configuration, clients, run.

use std::sync::Arc;

use lambda_http::{Error, run};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let config = console::Config::from_env()?;
    let sdk = gateway_adapters::aws::sdk_config(console::SDK_TIMEOUTS).await;
    let app = Arc::new(console::App::new(&config, &sdk));
    run(console::router(app)).await
}
