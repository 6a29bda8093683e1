//! What each call cost and earned, in layers: the external cost (Retell and its telephony,
//! billed in US cents, converted to EUR with the rate of the call's day), the platform's price
//! for the call (its *base cost* to whoever resells it: per minute and per case), the platform's
//! profit (base cost − external cost) and a reseller's profit (its margin on the base cost).
//!
//! The figures are computed once, when `call_analyzed` is captured, and kept as a ledger entry per
//! call (written in the same request as the call's event), so a later price or rate change does
//! not rewrite a past month. Rounding: each per-call amount is rounded half-up (away from zero)
//! to the euro cent once; profits are differences of rounded amounts; a month's totals are sums
//! of the rounded per-call amounts plus the month's base fee (and the reseller's margin on it).

pub mod billing;
pub mod ports;
pub mod record;
pub mod report;

pub use billing::{Billing, ExchangeRate};
pub use ports::CostLedger;
pub use record::{CostFigures, CostRecord, Month, ProviderCost};
pub use report::{CompanyMonth, MonthTotals};
