//! The adapter and end-to-end tests against the emulator, as one test binary: each binary links
//! the whole AWS SDK, so eight of them cost minutes of linking and gigabytes of disk.

mod alert;
mod appointments;
mod booking_functions;
mod calcom_webhooks;
mod capture;
mod console;
mod deliver;
mod dynamo_store;
mod enrich;
mod gatewayctl;
mod notices;
mod request_budget;
mod template_parity;
