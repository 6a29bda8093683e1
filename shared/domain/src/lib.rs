//! The Service Gateway domain, grouped by bounded context: `tenancy` (a company's configuration),
//! `capture` (Retell requests → one case per call), `enrichment` (caller and recording),
//! `delivery` (e-mail and webhooks), `alerting` (final failures), `appointments` (booking in
//! spoken German against opening hours) and `notices` (what callers and companies are told of
//! every appointment change). A context uses another only through its public ports
//! and types. The modules at the top are the shared kernel: the case, the call's events, ids,
//! errors, time. Pure: no AWS types and no I/O beyond the port traits.

pub mod alerting;
pub mod appointments;
pub mod call_event;
pub mod capture;
pub mod case;
pub mod clock;
pub mod costs;
pub mod deadline;
pub mod delivery;
pub mod enrichment;
pub mod error;
pub mod exchange;
pub mod ids;
pub mod keys;
pub mod links;
pub mod locale;
pub mod metrics;
pub mod notices;
pub mod phone;
pub mod ssrf;
pub mod tenancy;
pub mod text;

pub use error::StoreError;
