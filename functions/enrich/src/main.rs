//! Wiring only: configuration, clients, run.

use lambda_runtime::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = enrich::Config::from_env()?;
    let sdk = gateway_adapters::aws::sdk_config().await;
    let s3 = gateway_adapters::aws::s3_client(&sdk);
    let app = enrich::App::new(&config, &sdk, s3);
    run(service_fn(|event| enrich::handle(&app, event))).await
}
