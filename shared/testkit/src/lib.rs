//! Test support for the Service Gateway: in-memory twins of the domain's ports (`memory`) and
//! the contract suite every store implementation must pass (`contract`). Test-only: no Lambda
//! binary links this crate.

pub mod appointment_contract;
pub mod appointments;
pub mod calendar_contract;
pub mod calendar_sync;
pub mod calendar_sync_contract;
pub mod contract;
pub mod http_target;
pub mod memory;
pub mod notice_contract;
pub mod notices;
pub mod radicale;
