//! Delivery: the case's category chooses an output configuration (e-mail, webhook or both);
//! each channel is delivered at most once on success, and every attempt is audited.

pub mod case_page;
pub mod email;
pub mod ports;
pub mod presets;
pub mod redeliver;
pub mod service;
pub mod template;
pub mod webhook;

pub use ports::{
    DeliverRequest, DeliveryQueue, DeliveryStore, HttpResponse, MailError, Mailer, RedeliveryStore, TransportError,
    WebhookClient,
};
pub use service::{DeliverError, DeliverOutcome, DeliverPorts, Deliverer, channels, output_for};
