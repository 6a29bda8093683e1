//! Retell's side of the contract: the `X-Retell-Signature` scheme and the request bodies.

pub mod payload;
pub mod signature;
