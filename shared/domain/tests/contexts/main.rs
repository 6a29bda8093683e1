//! The domain's contexts tested through their services with the in-memory twins of the ports
//! (`gateway-testkit`), in milliseconds; and the store contract run against those twins.

mod alerting;
mod appointments;
mod booking_desk;
mod calendar_sync;
mod capture;
mod costs;
mod delivery;
mod enrichment;
mod memory_contract;
mod notices;
mod tenancy;
