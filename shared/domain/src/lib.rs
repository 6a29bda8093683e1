//! The Service Gateway domain: what a service case is, how a Retell call becomes one, and the
//! ports the adapters implement. Pure: no AWS types and no I/O beyond the port traits.

pub mod alert;
pub mod cache;
pub mod capture;
pub mod case;
pub mod case_page;
pub mod classify;
pub mod customer;
pub mod deliver;
pub mod email;
pub mod enrich;
pub mod error;
pub mod exchange;
pub mod inbound;
pub mod ingest;
pub mod links;
pub mod memory;
pub mod output;
pub mod phone;
pub mod plan;
pub mod ports;
pub mod presets;
pub mod problem_since;
pub mod retell;
pub mod ssrf;
pub mod template;
pub mod tenant;
pub mod text;
pub mod validate;
pub mod webhook;

pub use error::{IngestError, StoreError};
