//! Words: normalisation of what the caller said into tokens, and the German vocabulary of dates
//! and times (number words, ordinals, months, weekdays, parts of the day).
//!
//! Normalisation folds case and umlauts (`Übermorgen` → `uebermorgen`, `ß` → `ss`) so both the
//! umlaut and the ASCII spellings match; dots and colons inside numbers are kept because they
//! carry meaning (`12.3.` is a date, `14:30` a time).

use chrono::Weekday;

/// Which input the token came from: the date text (`datum`) or the time text (`uhrzeit`).
/// Only matters where text is ambiguous, like `12.03` (a date in `datum`, a time in `uhrzeit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    Date,
    Time,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub text: String,
    pub field: Field,
}

/// Appends the tokens of one input text.
pub(crate) fn tokenize(text: &str, field: Field, out: &mut Vec<Token>) {
    let folded = fold(text);
    for piece in folded.split(|c: char| !(c.is_alphanumeric() || matches!(c, '.' | ':' | '-'))) {
        for word in split_piece(piece) {
            if !word.is_empty() {
                out.push(Token { text: word, field });
            }
        }
    }
}

/// Lower case, umlauts and ß folded, dashes unified.
fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for ch in text.chars() {
        match ch {
            'ä' | 'Ä' => out.push_str("ae"),
            'ö' | 'Ö' => out.push_str("oe"),
            'ü' | 'Ü' => out.push_str("ue"),
            'ß' | 'ẞ' => out.push_str("ss"),
            '–' | '—' => out.push('-'),
            _ => out.extend(ch.to_lowercase()),
        }
    }
    out
}

/// Splits a piece like `14uhr`, `14h30`, `12.maerz`, `10-12`, `dienstag-nachmittag`,
/// `dienstagnachmittag` into words.
fn split_piece(piece: &str) -> Vec<String> {
    let piece = piece.trim_matches(|c| c == '-' || c == ':');
    if piece.is_empty() {
        return Vec::new();
    }
    if is_iso_date(piece) {
        return vec![piece.to_string()];
    }
    if piece.contains('-') {
        let parts: Vec<&str> = piece.split('-').filter(|p| !p.is_empty()).collect();
        let numeric = parts.iter().all(|p| p.starts_with(|c: char| c.is_ascii_digit()));
        let mut out = Vec::new();
        for (i, p) in parts.iter().enumerate() {
            if i > 0 && numeric {
                out.push("bis".to_string()); // "10-12 Uhr" is a range
            }
            out.extend(split_piece(p));
        }
        return out;
    }
    // Runs of digits (with their dots and colons) versus runs of letters.
    let mut runs: Vec<String> = Vec::new();
    for ch in piece.chars() {
        let numeric = ch.is_ascii_digit() || ch == '.' || ch == ':';
        match runs.last_mut() {
            Some(last) if last.chars().next().is_some_and(|c| is_numeric_char(c) == numeric) => last.push(ch),
            _ => runs.push(ch.to_string()),
        }
    }
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < runs.len() {
        let run = &runs[i];
        let prev_num = i > 0 && runs[i - 1].starts_with(is_numeric_char);
        if run == "h" && prev_num {
            // "14h30" → "14:30", "14h" → "14 uhr"
            match runs.get(i + 1).filter(|n| n.chars().all(|c| c.is_ascii_digit())) {
                Some(min) => {
                    if let Some(hour) = out.pop() {
                        out.push(format!("{hour}:{min}"));
                    }
                    i += 2;
                    continue;
                }
                None => out.push("uhr".to_string()),
            }
        } else if run.starts_with(is_numeric_char) {
            let trimmed = run.trim_start_matches(['.', ':']);
            if !trimmed.is_empty() {
                out.push(trimmed.to_string());
            }
        } else {
            out.extend(split_compound(run.trim_matches('.')));
        }
        i += 1;
    }
    out
}

fn is_numeric_char(c: char) -> bool {
    c.is_ascii_digit() || c == '.' || c == ':'
}

fn is_iso_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

/// "dienstagnachmittag" → "dienstag", "nachmittag"; "montagmorgen" → "montag", "morgen".
fn split_compound(word: &str) -> Vec<String> {
    for (name, _) in WEEKDAYS {
        if let Some(rest) = word.strip_prefix(name)
            && !rest.is_empty()
            && (day_part(rest).is_some() || rest == "morgen")
        {
            return vec![name.to_string(), rest.to_string()];
        }
    }
    if word.is_empty() {
        Vec::new()
    } else {
        vec![word.to_string()]
    }
}

const WEEKDAYS: [(&str, Weekday); 8] = [
    ("montag", Weekday::Mon),
    ("dienstag", Weekday::Tue),
    ("mittwoch", Weekday::Wed),
    ("donnerstag", Weekday::Thu),
    ("freitag", Weekday::Fri),
    ("samstag", Weekday::Sat),
    ("sonnabend", Weekday::Sat),
    ("sonntag", Weekday::Sun),
];

/// Weekday names, also adverbial ("dienstags").
pub(crate) fn weekday(word: &str) -> Option<Weekday> {
    let stem = word.strip_suffix('s').unwrap_or(word);
    WEEKDAYS
        .iter()
        .find(|(name, _)| *name == word || *name == stem)
        .map(|(_, day)| *day)
}

/// "Di", "Mo", … — only trusted right before a numeric date ("Di, 8.12."), since "so" is also a
/// filler word ("so gegen drei").
pub(crate) fn weekday_abbreviation(word: &str) -> Option<Weekday> {
    Some(match word {
        "mo" => Weekday::Mon,
        "di" => Weekday::Tue,
        "mi" => Weekday::Wed,
        "do" => Weekday::Thu,
        "fr" => Weekday::Fri,
        "sa" => Weekday::Sat,
        "so" => Weekday::Sun,
        _ => return None,
    })
}

/// Month names and abbreviations, with the Austrian "Jänner" and spellings without umlaut.
pub(crate) fn month(word: &str) -> Option<u32> {
    Some(match word {
        "januar" | "jaenner" | "janner" | "jan" => 1,
        "februar" | "feber" | "feb" => 2,
        "maerz" | "marz" | "mrz" | "maer" => 3,
        "april" | "apr" => 4,
        "mai" => 5,
        "juni" | "jun" | "juno" => 6,
        "juli" | "jul" | "julei" => 7,
        "august" | "aug" => 8,
        "september" | "sep" | "sept" => 9,
        "oktober" | "okt" => 10,
        "november" | "nov" => 11,
        "dezember" | "dez" => 12,
        _ => return None,
    })
}

const UNITS: [&str; 10] = [
    "null", "ein", "zwei", "drei", "vier", "fuenf", "sechs", "sieben", "acht", "neun",
];
const TENS: [(&str, u32); 4] = [("zwanzig", 20), ("dreissig", 30), ("vierzig", 40), ("fuenfzig", 50)];

/// Number words 0–59 ("vierzehn", "dreiundzwanzig", "zwo") or digits.
pub(crate) fn number(word: &str) -> Option<u32> {
    if !word.is_empty() && word.len() <= 2 && word.bytes().all(|b| b.is_ascii_digit()) {
        return word.parse().ok();
    }
    number_word(word)
}

fn number_word(word: &str) -> Option<u32> {
    let simple = match word {
        "null" => Some(0),
        "eins" | "ein" | "eine" | "einer" | "einem" => Some(1),
        "zwo" => Some(2),
        "zehn" => Some(10),
        "elf" => Some(11),
        "zwoelf" => Some(12),
        "sechzehn" => Some(16),
        "siebzehn" => Some(17),
        _ => None,
    };
    if simple.is_some() {
        return simple;
    }
    if let Some(i) = UNITS.iter().position(|u| *u == word) {
        return Some(i as u32);
    }
    if let Some(unit) = word.strip_suffix("zehn")
        && let Some(i) = UNITS.iter().position(|u| *u == unit)
        && i >= 3
    {
        return Some(10 + i as u32);
    }
    if let Some((_, tens)) = TENS.iter().find(|(w, _)| *w == word) {
        return Some(*tens);
    }
    let (unit, tens) = word.split_once("und")?;
    let unit = UNITS.iter().position(|u| *u == unit).filter(|i| *i >= 1)?;
    let (_, tens) = TENS.iter().find(|(w, _)| *w == tens)?;
    Some(tens + unit as u32)
}

/// Ordinal words 1–31 in any inflection ("ersten", "dritte", "zwölfter", "einunddreißigsten").
pub(crate) fn ordinal_word(word: &str) -> Option<u32> {
    let stem = ["en", "er", "em", "es", "e"]
        .iter()
        .find_map(|s| word.strip_suffix(s))?;
    let n = if let Some(base) = stem.strip_suffix("st")
        && let Some(n) = number_word(base).filter(|n| *n >= 20)
    {
        n
    } else {
        let base = stem.strip_suffix('t')?;
        match base {
            "ers" => 1,
            "drit" => 3,
            "sieb" | "sieben" => 7,
            "ach" => 8,
            _ => number_word(base).filter(|n| (2..20).contains(n) && *n != 3 && *n != 7 && *n != 8)?,
        }
    };
    (1..=31).contains(&n).then_some(n)
}

/// Parts of the day. `morgen` is not here: it means "tomorrow" unless it follows a day word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DayPart {
    /// "früh", "morgens": opening until 10:00.
    Early,
    /// "vormittags": opening until 12:00.
    Morning,
    /// "mittags": 11:00–14:00.
    Noon,
    /// "nachmittags": 12:00 until closing.
    Afternoon,
    /// "abends": 17:00 until closing.
    Evening,
}

pub(crate) fn day_part(word: &str) -> Option<DayPart> {
    Some(match word {
        "frueh" | "morgens" => DayPart::Early,
        "vormittag" | "vormittags" => DayPart::Morning,
        "mittag" | "mittags" | "mittagszeit" => DayPart::Noon,
        "nachmittag" | "nachmittags" => DayPart::Afternoon,
        "abend" | "abends" => DayPart::Evening,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        tokenize(text, Field::Date, &mut out);
        out.into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn tokens() {
        assert_eq!(words("Übermorgen um 14:30 Uhr."), ["uebermorgen", "um", "14:30", "uhr"]);
        assert_eq!(words("Montag, den 8. Dezember"), ["montag", "den", "8.", "dezember"]);
        assert_eq!(words("12.3."), ["12.3."]);
        assert_eq!(words("2026-03-12"), ["2026-03-12"]);
        assert_eq!(words("10-12 Uhr"), ["10", "bis", "12", "uhr"]);
        assert_eq!(words("14uhr"), ["14", "uhr"]);
        assert_eq!(words("14h30"), ["14:30"]);
        assert_eq!(words("Dienstagnachmittag"), ["dienstag", "nachmittag"]);
        assert_eq!(words("Montag-Morgen"), ["montag", "morgen"]);
        assert_eq!(words("NÄCHSTE Woche"), ["naechste", "woche"]);
    }

    #[test]
    fn numbers_and_ordinals() {
        assert_eq!(number("zwoelf"), Some(12));
        assert_eq!(number("vierzehn"), Some(14));
        assert_eq!(number("sechzehn"), Some(16));
        assert_eq!(number("siebzehn"), Some(17));
        assert_eq!(number("dreiundzwanzig"), Some(23));
        assert_eq!(number("dreissig"), Some(30));
        assert_eq!(number("fuenfundvierzig"), Some(45));
        assert_eq!(number("07"), Some(7));
        assert_eq!(number("zweizehn"), None);
        assert_eq!(ordinal_word("ersten"), Some(1));
        assert_eq!(ordinal_word("dritte"), Some(3));
        assert_eq!(ordinal_word("siebten"), Some(7));
        assert_eq!(ordinal_word("achten"), Some(8));
        assert_eq!(ordinal_word("zwoelften"), Some(12));
        assert_eq!(ordinal_word("zwanzigsten"), Some(20));
        assert_eq!(ordinal_word("einunddreissigsten"), Some(31));
        assert_eq!(ordinal_word("zweiunddreissigsten"), None);
        assert_eq!(ordinal_word("morgen"), None);
    }

    #[test]
    fn weekdays_and_months() {
        assert_eq!(weekday("dienstags"), Some(Weekday::Tue));
        assert_eq!(weekday("so"), None, "'so um drei' is not Sunday");
        assert_eq!(weekday_abbreviation("so"), Some(Weekday::Sun));
        assert_eq!(weekday("sonnabend"), Some(Weekday::Sat));
        assert_eq!(month("maerz"), Some(3));
        assert_eq!(month("jaenner"), Some(1));
    }
}
