//! A short e-mail built once and written twice: as plain text and as HTML (every value escaped),
//! so both parts always say the same.

/// One block of a letter.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Block {
    Headline(String),
    Paragraph(String),
    /// Label and value rows ("Termin: Dienstag, …").
    Facts(Vec<(String, String)>),
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Letter {
    blocks: Vec<Block>,
}

/// `<`, `>`, `&`, quotes: nothing a value holds can become markup.
pub fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

impl Letter {
    pub fn headline(mut self, text: impl Into<String>) -> Self {
        self.blocks.push(Block::Headline(text.into()));
        self
    }

    pub fn paragraph(mut self, text: impl Into<String>) -> Self {
        self.blocks.push(Block::Paragraph(text.into()));
        self
    }

    /// Rows whose value is empty are left out.
    pub fn facts(mut self, rows: Vec<(&str, Option<String>)>) -> Self {
        let rows: Vec<(String, String)> = rows
            .into_iter()
            .filter_map(|(label, value)| Some((label.to_string(), value.filter(|v| !v.trim().is_empty())?)))
            .collect();
        if !rows.is_empty() {
            self.blocks.push(Block::Facts(rows));
        }
        self
    }

    pub fn text(&self) -> String {
        let mut parts = Vec::new();
        for block in &self.blocks {
            parts.push(match block {
                Block::Headline(t) | Block::Paragraph(t) => t.clone(),
                Block::Facts(rows) => {
                    let width = rows.iter().map(|(l, _)| l.chars().count()).max().unwrap_or(0) + 1;
                    rows.iter()
                        .map(|(label, value)| format!("{:<width$} {value}", format!("{label}:")))
                        .collect::<Vec<_>>()
                        .join("\n")
                }
            });
        }
        parts.join("\n\n") + "\n"
    }

    pub fn html(&self) -> String {
        let mut out = String::from(
            "<!DOCTYPE html>\n<html lang=\"de\"><head><meta charset=\"utf-8\"></head>\
             <body style=\"font-family:Arial,Helvetica,sans-serif;font-size:15px;line-height:1.5;color:#222\">\n",
        );
        for block in &self.blocks {
            match block {
                Block::Headline(t) => out.push_str(&format!("<h2 style=\"font-size:18px\">{}</h2>\n", escape(t))),
                Block::Paragraph(t) => {
                    let lines: Vec<String> = t.lines().map(escape).collect();
                    out.push_str(&format!("<p>{}</p>\n", lines.join("<br>")));
                }
                Block::Facts(rows) => {
                    out.push_str("<table style=\"border-collapse:collapse\">\n");
                    for (label, value) in rows {
                        out.push_str(&format!(
                            "<tr><td style=\"padding:2px 12px 2px 0;color:#555;vertical-align:top\">{}</td><td style=\"padding:2px 0\">{}</td></tr>\n",
                            escape(label),
                            escape(value)
                        ));
                    }
                    out.push_str("</table>\n");
                }
            }
        }
        out.push_str("</body></html>\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_parts_say_the_same_and_html_is_escaped() {
        let letter = Letter::default()
            .headline("Ihr Termin ist bestätigt.")
            .facts(vec![
                ("Termin", Some("Dienstag, 8. Dezember 2026".into())),
                ("Bei", None),
                ("Name", Some("<script>alert(1)</script> & Co".into())),
            ])
            .paragraph("Zeile eins\nZeile zwei");
        let text = letter.text();
        assert!(text.contains("Termin: Dienstag, 8. Dezember 2026"), "{text}");
        assert!(text.contains("Name:   <script>alert(1)</script> & Co"), "{text}");
        assert!(!text.contains("Bei"));
        let html = letter.html();
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co"));
        assert!(html.contains("Zeile eins<br>Zeile zwei"));
    }
}
