//! Wiring only: configuration, clients, run.

use lambda_http::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let config = ingest::Config::from_env()?;
    let sdk = gateway_adapters::aws::sdk_config().await;
    let app = ingest::App::new(&config, &sdk);
    run(service_fn(|req| ingest::handle(&app, req))).await
}
