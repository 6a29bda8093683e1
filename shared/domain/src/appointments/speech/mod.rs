//! German in both directions: the caller's date and time wishes parsed against the branch's
//! calendar, and dates, times, offers and confirmations as the agent says them.

pub mod parse;
pub mod speak;
