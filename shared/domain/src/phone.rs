//! Phone numbers: E.164 normalisation with a company's default region, and caller ids that
//! must never be matched (anonymous, withheld).

use phonenumber::Mode;

use crate::locale::Region;

/// Normalises a number to E.164 (`+4951187654321`). National numbers use `default_region`.
/// Returns `None` for anything that is not a valid number.
pub fn to_e164(raw: &str, default_region: Region) -> Option<String> {
    let trimmed = raw.trim();
    if trimmed.is_empty() || is_withheld(trimmed) {
        return None;
    }
    // "0049…" is common in German speech-to-text; phonenumber wants "+49…".
    let candidate = match trimmed.strip_prefix("00") {
        Some(rest) => format!("+{rest}"),
        None => trimmed.to_string(),
    };
    // A number with its own country code is parsed without the company's region: phonenumber
    // would otherwise strip that region's trunk prefix from it (+39 06 … lost its 0 with DE).
    let region = (!candidate.starts_with('+')).then(|| default_region.id());
    let parsed = phonenumber::parse(region, &candidate).ok()?;
    let e164 = phonenumber::is_valid(&parsed).then(|| parsed.format().mode(Mode::E164).to_string())?;
    // E.164 allows at most 15 digits (some national plans are looser).
    (e164.len() <= 16).then_some(e164)
}

/// Caller ids that carry no number: Retell/Twilio placeholders and German words for "withheld".
pub fn is_withheld(raw: &str) -> bool {
    let n = raw.trim().to_lowercase();
    matches!(
        n.as_str(),
        "" | "anonymous"
            | "unknown"
            | "private"
            | "withheld"
            | "restricted"
            | "unavailable"
            | "anonym"
            | "unbekannt"
            | "unterdrueckt"
            | "unterdrückt"
            | "+266696687"
            | "266696687"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn de() -> Region {
        "DE".parse().unwrap()
    }

    #[test]
    fn normalises_german_numbers() {
        assert_eq!(to_e164("0511 87654321", de()).as_deref(), Some("+4951187654321"));
        assert_eq!(to_e164("+49 511 87654321", de()).as_deref(), Some("+4951187654321"));
        assert_eq!(to_e164("0049 511 87654321", de()).as_deref(), Some("+4951187654321"));
        assert_eq!(to_e164("(0511) 876-543-21", de()).as_deref(), Some("+4951187654321"));
    }

    #[test]
    fn rejects_withheld_and_garbage() {
        assert_eq!(to_e164("anonymous", de()), None);
        assert_eq!(to_e164("", de()), None);
        assert_eq!(to_e164("keine ahnung", de()), None);
        assert_eq!(to_e164("123", de()), None);
        assert!(is_withheld("Unbekannt"));
        assert!(!is_withheld("+4951187654321"));
    }
}
