//! iCalendar content lines (RFC 5545 §3.1): `NAME;PARAM=value:value`, TEXT escaped (§3.3.11),
//! parameter values quoted where they must be (§3.2), folded so no line is longer than 75
//! octets (never inside a UTF-8 character), every line ended by CRLF.

/// The longest line in octets, without its CRLF.
pub const MAX_OCTETS: usize = 75;

/// A TEXT value: backslash, semicolon, comma and line breaks escaped; other control characters
/// dropped (a bare CR would end the line early).
pub fn text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let normalised = value.replace("\r\n", "\n");
    for c in normalised.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A parameter value: no double quotes or control characters at all (they cannot be escaped),
/// quoted when it holds `:`, `;` or `,`.
pub fn param(value: &str) -> String {
    let clean: String = value.chars().filter(|c| *c != '"' && !c.is_control()).collect();
    if clean.contains([':', ';', ',']) {
        format!("\"{clean}\"")
    } else {
        clean
    }
}

/// One content line, folded and CRLF-terminated.
pub fn line(name: &str, params: &[(&str, String)], value: &str) -> String {
    let mut unfolded = name.to_string();
    for (key, v) in params {
        unfolded.push(';');
        unfolded.push_str(key);
        unfolded.push('=');
        unfolded.push_str(v);
    }
    unfolded.push(':');
    unfolded.push_str(value);
    fold(&unfolded)
}

/// Folds a line: at most 75 octets per physical line, continuation lines start with one space
/// (which counts), breaks only between characters; CRLF after each.
pub fn fold(unfolded: &str) -> String {
    let mut out = String::with_capacity(unfolded.len() + unfolded.len() / 70 * 3 + 2);
    let mut room = MAX_OCTETS;
    for c in unfolded.chars() {
        let size = c.len_utf8();
        if size > room {
            out.push_str("\r\n ");
            room = MAX_OCTETS - 1;
        }
        out.push(c);
        room -= size;
    }
    out.push_str("\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unfold(folded: &str) -> String {
        folded.replace("\r\n ", "").trim_end_matches("\r\n").to_string()
    }

    #[test]
    fn long_lines_fold_at_75_octets_between_characters() {
        let value =
            "Physiotherapie am Lister Platz – Erstbefund und Beratung für Jörg Müller-Lüdenscheidt, Grüße ".repeat(4);
        let folded = line("DESCRIPTION", &[], &text(&value));
        assert!(folded.ends_with("\r\n"));
        for physical in folded.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(physical.len() <= MAX_OCTETS, "{} octets: {physical:?}", physical.len());
        }
        assert!(
            folded
                .split("\r\n")
                .skip(1)
                .filter(|l| !l.is_empty())
                .all(|l| l.starts_with(' '))
        );
        assert_eq!(unfold(&folded), format!("DESCRIPTION:{}", text(&value)));
        assert!(!folded.contains('\n') || folded.matches('\n').count() == folded.matches("\r\n").count());
    }

    #[test]
    fn a_line_of_exactly_75_octets_is_not_folded() {
        let value = "x".repeat(MAX_OCTETS - "SUMMARY:".len());
        assert_eq!(line("SUMMARY", &[], &value), format!("SUMMARY:{value}\r\n"));
        let longer = format!("{value}y");
        assert_eq!(line("SUMMARY", &[], &longer), format!("SUMMARY:{value}\r\n y\r\n"));
    }

    #[test]
    fn a_multibyte_character_is_never_split() {
        // 74 ASCII octets, then "ü" (2 octets) cannot fit in line one.
        let value = format!("{}ü", "a".repeat(MAX_OCTETS - "X:".len() - 1));
        let folded = line("X", &[], &value);
        assert_eq!(folded, format!("X:{}\r\n ü\r\n", "a".repeat(MAX_OCTETS - 3)));
    }

    #[test]
    fn text_and_parameters_are_escaped() {
        assert_eq!(text("a,b;c\\d\r\ne\u{7}"), "a\\,b\\;c\\\\d\\ne");
        assert_eq!(param("Weber, Jonas"), "\"Weber, Jonas\"");
        assert_eq!(param("Jonas \"JW\" Weber"), "Jonas JW Weber");
        assert_eq!(
            line("ATTENDEE", &[("CN", param("Weber; J."))], "mailto:j@example.org"),
            "ATTENDEE;CN=\"Weber; J.\":mailto:j@example.org\r\n"
        );
    }
}
