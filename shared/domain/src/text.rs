//! Text normalisation shared by the classifiers and the fuzzy matchers: lower case, German
//! umlauts and ß folded (ä → ae, ß → ss), punctuation turned into single spaces.

/// Normalises `input` into space-separated lower-case ASCII-folded words.
pub fn normalize(input: &str) -> String {
    let mut out = String::with_capacity(input.len() + 8);
    let mut pending_space = false;
    for ch in input.chars() {
        let folded: Option<&str> = match ch {
            'ä' | 'Ä' => Some("ae"),
            'ö' | 'Ö' => Some("oe"),
            'ü' | 'Ü' => Some("ue"),
            'ß' | 'ẞ' => Some("ss"),
            _ => None,
        };
        if let Some(f) = folded {
            push_word_part(&mut out, &mut pending_space, f);
        } else if ch.is_alphanumeric() {
            let mut buf = [0u8; 4];
            for lower in ch.to_lowercase() {
                push_word_part(&mut out, &mut pending_space, lower.encode_utf8(&mut buf));
            }
        } else {
            pending_space = !out.is_empty();
        }
    }
    out
}

fn push_word_part(out: &mut String, pending_space: &mut bool, part: &str) {
    if *pending_space {
        out.push(' ');
        *pending_space = false;
    }
    out.push_str(part);
}

/// Truncates to at most `max` characters on a char boundary.
pub fn truncate_chars(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((idx, _)) => s[..idx].to_string(),
        None => s.to_string(),
    }
}

/// Trims and turns an empty string into `None`.
pub fn non_empty(s: Option<&str>) -> Option<String> {
    s.map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_umlauts_and_sharp_s() {
        assert_eq!(
            normalize("Drucker-Störung: Größe ÜBEL!"),
            "drucker stoerung groesse uebel"
        );
        assert_eq!(normalize("Straße"), "strasse");
    }

    #[test]
    fn collapses_punctuation_and_whitespace() {
        assert_eq!(normalize("  WLAN,  geht   nicht...  "), "wlan geht nicht");
        assert_eq!(normalize(""), "");
    }

    #[test]
    fn truncates_on_char_boundary() {
        assert_eq!(truncate_chars("Störung", 3), "Stö");
        assert_eq!(truncate_chars("ab", 5), "ab");
    }
}
