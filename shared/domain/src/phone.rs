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
    let parsed = phonenumber::parse(Some(default_region.id()), &candidate).ok()?;
    phonenumber::is_valid(&parsed).then(|| parsed.format().mode(Mode::E164).to_string())
}

/// Caller ids that carry no number: Retell/Twilio placeholders and German words for "withheld".
pub fn is_withheld(raw: &str) -> bool {
    let n = raw.trim().to_ascii_lowercase();
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
