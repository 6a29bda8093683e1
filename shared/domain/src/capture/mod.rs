//! Capture: a signed Retell request becomes a recorded call event and, where the call should
//! become a ticket, exactly one service case that is handed to enrichment.

pub mod classify;
pub mod draft;
pub mod error;
pub mod functions;
pub mod handoff;
pub mod inbound;
pub mod ports;
pub mod problem_since;
pub mod retell;
pub mod service;

pub use error::IngestError;
pub use functions::{Booking, Function};
pub use handoff::{Handoff, SweepReport};
pub use ports::{CaptureStore, CapturedContent, CreateOutcome};
pub use service::{AckStatus, FinalizeReply, Ingest, IngestSettings, Ports, WebhookAck, WebhookReply};
