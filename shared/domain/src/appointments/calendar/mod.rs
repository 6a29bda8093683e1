//! A branch's calendar: local time versus instants (every DST rule), weekly hours and closures,
//! their YAML/JSON shape with validation, and the slot grid computed from them.

pub mod config;
pub mod hours;
pub mod local_time;
pub mod slots;
