//! A company's time zone and phone region, parsed once when its tenant document is read, so no
//! code further on has to handle (or silently replace) an unknown zone or region.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An IANA time zone such as `Europe/Berlin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeZone(pub chrono_tz::Tz);

impl TimeZone {
    pub fn tz(self) -> chrono_tz::Tz {
        self.0
    }
}

impl Default for TimeZone {
    fn default() -> Self {
        Self(chrono_tz::Europe::Berlin)
    }
}

impl FromStr for TimeZone {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse::<chrono_tz::Tz>()
            .map(Self)
            .map_err(|_| format!("'{s}' is not an IANA time zone such as Europe/Berlin"))
    }
}

impl fmt::Display for TimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.name())
    }
}

/// A region for phone numbers written without a country code (ISO 3166 alpha-2, e.g. `DE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region(pub phonenumber::country::Id);

impl Region {
    pub fn id(self) -> phonenumber::country::Id {
        self.0
    }
}

impl Default for Region {
    fn default() -> Self {
        Self(phonenumber::country::Id::DE)
    }
}

impl FromStr for Region {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.trim()
            .to_ascii_uppercase()
            .parse::<phonenumber::country::Id>()
            .map(Self)
            .map_err(|_| format!("'{s}' is not a two-letter country code such as DE"))
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_ref())
    }
}

macro_rules! serde_via_str {
    ($name:ident) => {
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

serde_via_str!(TimeZone);
serde_via_str!(Region);

/// Month names, January first (German for what callers and German users read).
pub const MONTHS_DE: [&str; 12] = [
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
];
pub const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_names_the_problem() {
        let tz: TimeZone = serde_json::from_str("\"Europe/Berlin\"").unwrap();
        assert_eq!(tz.to_string(), "Europe/Berlin");
        let err = serde_json::from_str::<TimeZone>("\"Europe/Berln\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("'Europe/Berln' is not an IANA time zone"), "{err}");
        let region: Region = serde_json::from_str("\"de\"").unwrap();
        assert_eq!(serde_json::to_string(&region).unwrap(), "\"DE\"");
        assert!(serde_json::from_str::<Region>("\"XX\"").is_err());
    }
}
