//! The exchange log as operators read it: each entry's result (success, HTTP error, semantic
//! error in a 2xx body, exception), the German hint per HTTP status the original showed, and the
//! page's filters.

use chrono::NaiveDate;
use gateway_domain::exchange::{Direction, ExchangeEntry};
use serde::Deserialize;

use crate::i18n::Lang;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Success,
    HttpError,
    SemanticError,
    Exception,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Success, Kind::HttpError, Kind::SemanticError, Kind::Exception];

    pub fn of(entry: &ExchangeEntry) -> Kind {
        match entry.error_class.as_deref() {
            Some(class) if class.starts_with("SemanticError") => Kind::SemanticError,
            Some("HttpError") => Kind::HttpError,
            Some(_) => Kind::Exception,
            None if entry.status_code >= 400 && entry.direction == Direction::Outbound => Kind::HttpError,
            None if entry.status_code >= 400 || entry.status_code == 0 => Kind::Exception,
            None => Kind::Success,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Kind::Success => "success",
            Kind::HttpError => "http_error",
            Kind::SemanticError => "semantic_error",
            Kind::Exception => "exception",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.code() == s)
    }

    pub fn label(self, lang: Lang) -> &'static str {
        let t = lang.texts();
        match self {
            Kind::Success => t.kind_success,
            Kind::HttpError => t.kind_http,
            Kind::SemanticError => t.kind_semantic,
            Kind::Exception => t.kind_exception,
        }
    }

    /// The badge's CSS class.
    pub fn badge(self) -> &'static str {
        match self {
            Kind::Success => "ok",
            Kind::HttpError => "bad",
            Kind::SemanticError => "warn",
            Kind::Exception => "bad",
        }
    }
}

/// What an entry's outcome means and what to do about it.
pub fn hint(entry: &ExchangeEntry, lang: Lang) -> &'static str {
    let class = entry.error_class.as_deref().unwrap_or_default();
    let (de, en) = if class.starts_with("SemanticError") {
        (
            "Antwort mit 2xx, aber der Inhalt meldet einen Fehler: Antwort des Zielsystems prüfen.",
            "A 2xx answer whose body reports an error: check the target's answer.",
        )
    } else if class == "Blocked" {
        (
            "Vom Gateway blockiert (SSRF-Schutz): die Ziel-URL zeigt auf eine nicht erlaubte Adresse.",
            "Blocked by the gateway (SSRF guard): the target URL points to an address that is not allowed.",
        )
    } else if class == "TemplateError" {
        (
            "Die Vorlage ergibt kein gültiges JSON: Vorlage bzw. Preset prüfen.",
            "The template does not render valid JSON: check the template or preset.",
        )
    } else {
        match entry.status_code {
            200 | 201 => ("Erfolgreich übermittelt.", "Delivered."),
            202 => ("Angenommen bzw. eingereiht.", "Accepted or queued."),
            204 => ("Übersprungen: nichts zu tun.", "Skipped: nothing to do."),
            400 => (
                "Anfrage abgelehnt: Nutzdaten und Pflichtfelder prüfen (Vorlage, Feldzuordnung).",
                "Request rejected: check the payload and required fields (template, field mapping).",
            ),
            401 => (
                "Nicht authentifiziert: API-Schlüssel bzw. Zugangsdaten im Header prüfen.",
                "Not authenticated: check the API key or credentials in the headers.",
            ),
            403 => (
                "Zugriff verweigert: Berechtigungen des API-Benutzers oder IP-Freigaben prüfen.",
                "Forbidden: check the API user's permissions or IP allow-lists.",
            ),
            404 => (
                "Endpunkt nicht gefunden: URL und Pfad der Schnittstelle prüfen.",
                "Endpoint not found: check the URL and path.",
            ),
            405 => (
                "Methode nicht erlaubt: der Endpunkt erwartet eine andere HTTP-Methode.",
                "Method not allowed: the endpoint expects another HTTP method.",
            ),
            408 => (
                "Zeitüberschreitung: das Zielsystem hat nicht rechtzeitig geantwortet; es wird erneut versucht.",
                "Timeout: the target did not answer in time; it is retried.",
            ),
            409 => (
                "Konflikt: das Ticket existiert vermutlich bereits (Idempotenz-Schlüssel).",
                "Conflict: the ticket probably exists already (idempotency key).",
            ),
            410 => (
                "Endpunkt dauerhaft entfernt: Konfiguration anpassen; kein weiterer Versuch.",
                "Endpoint gone: update the configuration; no further attempt.",
            ),
            413 => (
                "Nutzdaten zu groß: Transkript weglassen oder Vorlage kürzen.",
                "Payload too large: leave out the transcript or shorten the template.",
            ),
            415 => (
                "Falscher Inhaltstyp: das Zielsystem erwartet ein anderes Format.",
                "Unsupported media type: the target expects another format.",
            ),
            422 => (
                "Inhalt nicht verarbeitbar: Feldwerte passen nicht zum Schema des Zielsystems.",
                "Unprocessable: field values do not fit the target's schema.",
            ),
            429 => (
                "Zu viele Anfragen: Ratenlimit des Zielsystems erreicht; es wird später erneut versucht.",
                "Too many requests: the target's rate limit was hit; it is retried later.",
            ),
            500 => (
                "Fehler im Zielsystem: bitte beim Betreiber des Ticketsystems melden.",
                "Error in the target system: report it to the ticket system's operator.",
            ),
            502 => (
                "Verbindungsfehler: Zielsystem oder vorgeschalteter Proxy nicht erreichbar.",
                "Bad gateway: the target or a proxy in front of it cannot be reached.",
            ),
            503 => (
                "Zielsystem nicht verfügbar (Wartung oder Überlast); es wird erneut versucht.",
                "Target unavailable (maintenance or overload); it is retried.",
            ),
            504 => (
                "Zeitüberschreitung hinter dem Gateway des Zielsystems; es wird erneut versucht.",
                "Gateway timeout at the target; it is retried.",
            ),
            s if (200..300).contains(&s) => ("Erfolgreich.", "Success."),
            s if (400..500).contains(&s) => (
                "Die Anfrage wurde abgelehnt: Konfiguration prüfen.",
                "The request was refused: check the configuration.",
            ),
            s if s >= 500 => ("Fehler im Zielsystem.", "Error in the target system."),
            _ => (
                "Kein Statuscode: siehe Fehlermeldung.",
                "No status code: see the error message.",
            ),
        }
    };
    lang.pick(de, en)
}

/// The query string of the exchange-log page.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RawLogFilter {
    pub kind: String,
    pub min: String,
    pub max: String,
    pub from: String,
    pub to: String,
    pub page: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LogFilter {
    pub kind: Option<Kind>,
    pub min: Option<u16>,
    pub max: Option<u16>,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub page: usize,
}

/// Days the exchange log covers when no date is given.
pub const DEFAULT_LOG_DAYS: i64 = 7;

impl LogFilter {
    pub fn parse(raw: &RawLogFilter, today: NaiveDate) -> Self {
        let date = |s: &str| NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok();
        let to = date(&raw.to).unwrap_or(today);
        let from = date(&raw.from).unwrap_or(to - chrono::Duration::days(DEFAULT_LOG_DAYS - 1));
        let (from, to) = if from <= to { (from, to) } else { (to, from) };
        Self {
            kind: Kind::parse(&raw.kind),
            min: raw.min.trim().parse().ok(),
            max: raw.max.trim().parse().ok(),
            from,
            to,
            page: raw.page.parse().unwrap_or(1).max(1),
        }
    }

    pub fn matches(&self, entry: &ExchangeEntry) -> bool {
        self.kind.is_none_or(|k| Kind::of(entry) == k)
            && self.min.is_none_or(|m| entry.status_code >= m)
            && self.max.is_none_or(|m| entry.status_code <= m)
    }

    pub fn query(&self, page: usize) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        if let Some(k) = self.kind {
            q.append_pair("kind", k.code());
        }
        if let Some(m) = self.min {
            q.append_pair("min", &m.to_string());
        }
        if let Some(m) = self.max {
            q.append_pair("max", &m.to_string());
        }
        q.append_pair("from", &self.from.to_string());
        q.append_pair("to", &self.to.to_string());
        if page > 1 {
            q.append_pair("page", &page.to_string());
        }
        q.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn entry(status: u16, class: Option<&str>) -> ExchangeEntry {
        let mut e = ExchangeEntry::internal("deliver", "webhook", status, 1, Utc::now());
        e.direction = Direction::Outbound;
        e.error_class = class.map(str::to_string);
        e
    }

    #[test]
    fn entries_sort_into_the_four_results() {
        assert_eq!(Kind::of(&entry(201, None)), Kind::Success);
        assert_eq!(Kind::of(&entry(200, Some("SemanticError:error"))), Kind::SemanticError);
        assert_eq!(Kind::of(&entry(401, Some("HttpError"))), Kind::HttpError);
        assert_eq!(Kind::of(&entry(408, Some("Timeout"))), Kind::Exception);
        assert_eq!(Kind::of(&entry(403, Some("Blocked"))), Kind::Exception);
    }

    #[test]
    fn hints_are_german_by_default() {
        assert!(hint(&entry(401, Some("HttpError")), Lang::De).contains("API-Schlüssel"));
        assert!(hint(&entry(401, Some("HttpError")), Lang::En).contains("API key"));
        assert!(hint(&entry(403, Some("Blocked")), Lang::De).contains("SSRF"));
        assert!(hint(&entry(429, Some("HttpError")), Lang::De).contains("Ratenlimit"));
    }

    #[test]
    fn the_status_range_filters() {
        let f = LogFilter::parse(
            &RawLogFilter {
                min: "400".into(),
                max: "499".into(),
                ..Default::default()
            },
            NaiveDate::from_ymd_opt(2026, 11, 20).unwrap(),
        );
        assert!(f.matches(&entry(404, Some("HttpError"))));
        assert!(!f.matches(&entry(500, Some("HttpError"))));
        assert!(!f.matches(&entry(200, None)));
    }
}
