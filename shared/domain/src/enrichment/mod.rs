//! Enrichment: recognise the caller among the company's customers, keep the call's recording,
//! count the transcript, then hand the case to delivery.

pub mod customer;
pub mod ports;
pub mod service;

pub use ports::{
    CustomerStore, EnrichClaim, EnrichQueue, EnrichRequest, EnrichmentStore, RecordingCopy, RecordingError,
    RecordingStore,
};
pub use service::{EnrichError, EnrichOutcome, EnrichPorts, Enricher, recording_key};
