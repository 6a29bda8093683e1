//! Identifiers that travel between contexts, as types: a company id cannot be passed where a
//! call id is expected, and a ticket reference is always `TKT-YYYY-NNNNN`.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! string_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        // Reading an id as text is always fine; making one from text is explicit (`new`, `from`).
        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self(value.to_string())
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self(value)
            }
        }
    };
}

string_id!(
    /// A tenant: the key prefix of all of a company's data (`a-z`, `0-9`, `-`, `_`).
    CompanyId
);
string_id!(
    /// Retell's id of one call; a case is keyed by it (one case per call).
    CallId
);
string_id!(
    /// The internal id of a case (a ULID), never shown to partners.
    CaseId
);
string_id!(
    /// The reference callers and ticket systems see, `TKT-2026-00042`.
    TicketRef
);

string_id!(
    /// One appointment booked through the gateway (a ULID), stable across reschedules.
    AppointmentId
);
string_id!(
    /// A company's branch (location with its own opening hours and time zone).
    BranchId
);
string_id!(
    /// A bookable service of a company (`haarschnitt`, `erstberatung`).
    ServiceId
);

impl TicketRef {
    /// `TKT-2026-00042`: five digits, more once past 99999.
    pub fn format(year: i32, number: u64) -> Self {
        Self(format!("TKT-{year}-{number:05}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticket_reference_format() {
        assert_eq!(TicketRef::format(2026, 42), "TKT-2026-00042");
        assert_eq!(TicketRef::format(2026, 123_456), "TKT-2026-123456");
    }

    #[test]
    fn ids_serialise_as_plain_strings() {
        assert_eq!(serde_json::to_string(&CallId::new("call_1")).unwrap(), "\"call_1\"");
        let c: CompanyId = serde_json::from_str("\"nordit\"").unwrap();
        assert_eq!(c, "nordit");
    }
}
