//! The console's words: German first, English as the fallback (a `lang` cookie, else the
//! browser's Accept-Language). Every text is a field, so a template cannot name one that does
//! not exist in both languages.

use axum::http::HeaderMap;
use axum::http::header::{ACCEPT_LANGUAGE, COOKIE};
use gateway_domain::case::{CaseStatus, CaseType, Channel, EnrichmentStatus, OutputStatus, Priority};

/// The language cookie (a preference, not a secret).
pub const LANG_COOKIE: &str = "gw_lang";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    De,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::De => "de",
            Lang::En => "en",
        }
    }

    pub fn parse(code: &str) -> Option<Lang> {
        match code.trim().get(..2).map(str::to_ascii_lowercase).as_deref() {
            Some("de") => Some(Lang::De),
            Some("en") => Some(Lang::En),
            _ => None,
        }
    }

    /// The `gw_lang` cookie, else the first of German or English the browser names (by its
    /// weights), else German.
    pub fn from_headers(headers: &HeaderMap) -> Lang {
        let cookie = headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|h| crate::auth::session::cookie_value(h, LANG_COOKIE))
            .and_then(Lang::parse);
        if let Some(lang) = cookie {
            return lang;
        }
        let Some(accept) = headers.get(ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()) else {
            return Lang::De;
        };
        let mut wanted: Vec<(f32, Lang)> = accept
            .split(',')
            .filter_map(|part| {
                let mut pieces = part.split(';');
                let lang = Lang::parse(pieces.next()?)?;
                let q = pieces
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .and_then(|q| q.parse().ok())
                    .unwrap_or(1.0);
                Some((q, lang))
            })
            .collect();
        wanted.sort_by(|a, b| b.0.total_cmp(&a.0));
        wanted.first().map_or(Lang::De, |(_, lang)| *lang)
    }

    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::De => &DE,
            Lang::En => &EN,
        }
    }

    pub fn status(self, s: CaseStatus) -> &'static str {
        let (de, en) = match s {
            CaseStatus::New => ("Neu", "New"),
            CaseStatus::Open => ("Offen", "Open"),
            CaseStatus::Pending => ("Wartend", "Pending"),
            CaseStatus::Resolved => ("Gelöst", "Resolved"),
            CaseStatus::Closed => ("Geschlossen", "Closed"),
        };
        self.pick(de, en)
    }

    pub fn priority(self, p: Priority) -> &'static str {
        let (de, en) = match p {
            Priority::Critical => ("Kritisch", "Critical"),
            Priority::High => ("Hoch", "High"),
            Priority::Normal => ("Normal", "Normal"),
            Priority::Low => ("Niedrig", "Low"),
        };
        self.pick(de, en)
    }

    pub fn output(self, o: OutputStatus) -> &'static str {
        let (de, en) = match o {
            OutputStatus::Pending => ("Ausstehend", "Pending"),
            OutputStatus::Sent => ("Zugestellt", "Sent"),
            OutputStatus::Failed => ("Fehlgeschlagen", "Failed"),
        };
        self.pick(de, en)
    }

    pub fn enrichment(self, e: EnrichmentStatus) -> &'static str {
        let (de, en) = match e {
            EnrichmentStatus::Pending => ("Ausstehend", "Pending"),
            EnrichmentStatus::Enriching => ("Läuft", "Running"),
            EnrichmentStatus::Enriched => ("Angereichert", "Enriched"),
            EnrichmentStatus::Timeout => ("Zeitüberschreitung", "Timed out"),
            EnrichmentStatus::Failed => ("Fehlgeschlagen", "Failed"),
            EnrichmentStatus::Skipped => ("Übersprungen", "Skipped"),
        };
        self.pick(de, en)
    }

    pub fn case_type(self, t: CaseType) -> &'static str {
        let (de, en) = match t {
            CaseType::Incident => ("Störung", "Incident"),
            CaseType::Request => ("Anfrage", "Request"),
            CaseType::Inquiry => ("Auskunft", "Inquiry"),
            CaseType::Callback => ("Rückruf", "Callback"),
        };
        self.pick(de, en)
    }

    pub fn channel(self, c: Channel) -> &'static str {
        match c {
            Channel::Email => self.pick("E-Mail", "E-mail"),
            Channel::Webhook => "Webhook",
        }
    }

    pub fn yes_no(self, v: bool) -> &'static str {
        match v {
            true => self.pick("Ja", "Yes"),
            false => self.pick("Nein", "No"),
        }
    }

    pub fn pick(self, de: &'static str, en: &'static str) -> &'static str {
        match self {
            Lang::De => de,
            Lang::En => en,
        }
    }
}

macro_rules! texts {
    ($($key:ident: $de:literal, $en:literal;)*) => {
        /// Every text of the console, in one language.
        pub struct Texts { $(pub $key: &'static str,)* }
        pub static DE: Texts = Texts { $($key: $de,)* };
        pub static EN: Texts = Texts { $($key: $en,)* };
    };
}

texts! {
    app_name: "Service-Gateway Konsole", "Service Gateway Console";
    nav_dashboard: "Übersicht", "Dashboard";
    nav_cases: "Fälle", "Cases";
    nav_log: "Austauschprotokoll", "Exchange log";
    nav_outputs: "Ausgänge", "Outputs";
    sign_out: "Abmelden", "Sign out";
    company: "Firma", "Company";
    switch_company: "Firma wechseln", "Switch company";
    switch: "Wechseln", "Switch";
    role_admin: "Administrator", "Administrator";
    role_operator: "Bearbeiter", "Operator";
    role_viewer: "Leser", "Viewer";
    role_platform: "Plattform-Admin", "Platform admin";
    language: "Sprache", "Language";

    login_title: "Anmelden", "Sign in";
    login_intro: "Melden Sie sich mit Ihrem Konsolen-Zugang an.", "Sign in with your console account.";
    username: "Benutzername", "Username";
    password: "Passwort", "Password";
    login_button: "Anmelden", "Sign in";
    login_failed: "Benutzername oder Passwort ist falsch.", "Incorrect username or password.";
    login_challenge: "Ihr Zugang muss erst eingerichtet werden (z. B. ein neues Passwort). Bitte wenden Sie sich an Ihre Administration.", "Your account needs to be set up first (for example a new password). Please contact your administrator.";
    login_unavailable: "Die Anmeldung ist gerade nicht erreichbar. Bitte versuchen Sie es gleich noch einmal.", "Sign-in is unavailable right now. Please try again in a moment.";
    login_hint: "Zugänge vergibt Ihre Administration.", "Your administrator gives out accounts.";

    period: "Zeitraum", "Period";
    range_today: "Heute", "Today";
    range_7d: "7 Tage", "7 days";
    range_30d: "30 Tage", "30 days";
    range_90d: "90 Tage", "90 days";
    show: "Anzeigen", "Show";
    open_cases: "Offene Fälle", "Open cases";
    overdue: "überfällig", "overdue";
    due_2h: "in 2 h fällig", "due within 2 h";
    success_rate: "Zustellquote (24 h)", "Delivery rate (24 h)";
    of_deliveries: "der abgeschlossenen Zustellungen", "of finished deliveries";
    failed_outputs: "Fehlgeschlagene Zustellungen", "Failed deliveries";
    pending_outputs: "ausstehend", "pending";
    avg_delivery: "Ø Erfassung → Zustellung", "Avg. capture → delivery";
    delivered_cases: "zugestellte Fälle", "delivered cases";
    costs_title: "Kosten", "Costs";
    costs_so_far: "bisher", "so far";
    costs_calls: "Anrufe", "Calls";
    costs_cases: "davon zu Fällen geworden", "of which became cases";
    costs_minutes: "Gesprächsminuten", "Call minutes";
    costs_price: "Ihr Preis (netto)", "Your price (net)";
    costs_base_fee: "davon Grundgebühr", "of which base fee";
    costs_unpriced: "Anrufe ohne Preis (kein Wechselkurs)", "Calls without a price (no exchange rate)";
    costs_no_billing: "Für diese Firma ist keine Abrechnung eingerichtet.", "No billing is set up for this company.";
    costs_platform: "Plattform (nur für Plattform-Admins)", "Platform (platform admins only)";
    costs_external: "Externe Kosten (Retell, Telefonie)", "External costs (Retell, telephony)";
    costs_base: "Basiskosten", "Base cost";
    costs_platform_profit: "Plattform-Gewinn", "Platform profit";
    costs_reseller_profit: "Reseller-Gewinn", "Reseller profit";
    costs_per_call: "Kosten pro Anruf", "Cost per call";
    by_status: "Fälle nach Status", "Cases by status";
    by_priority: "Offene Fälle nach Priorität", "Open cases by priority";
    by_category: "Fälle nach Kategorie", "Cases by category";
    ageing: "Alter offener Fälle", "Age of open cases";
    age_4h: "unter 4 h", "under 4 h";
    age_24h: "4 bis 24 h", "4 to 24 h";
    age_3d: "1 bis 3 Tage", "1 to 3 days";
    age_older: "über 3 Tage", "over 3 days";
    recent_cases: "Neueste Fälle", "Recent cases";
    appointments_today: "Termine heute", "Today's appointments";
    appointments_upcoming: "Kommende Termine (7 Tage)", "Upcoming appointments (7 days)";
    no_appointments: "Keine Termine.", "No appointments.";
    in_period: "im Zeitraum", "in the period";
    none: "–", "–";

    status: "Status", "Status";
    priority: "Priorität", "Priority";
    category: "Kategorie", "Category";
    output_status: "Zustellung", "Delivery";
    enrichment: "Anreicherung", "Enrichment";
    sla_overdue_only: "nur SLA überfällig", "SLA overdue only";
    date_from: "von", "from";
    date_to: "bis", "to";
    search: "Suche", "Search";
    search_placeholder: "Ticket, Name oder Rufnummer", "Ticket, name or number";
    filter: "Filtern", "Filter";
    reset: "Zurücksetzen", "Reset";
    export_csv: "CSV exportieren", "Export CSV";
    all: "Alle", "All";
    col_ticket: "Ticket", "Ticket";
    col_created: "Erfasst", "Captured";
    col_subject: "Betreff", "Subject";
    col_caller: "Anrufer", "Caller";
    col_sla: "Lösung fällig", "Resolution due";
    no_cases: "Keine Fälle gefunden.", "No cases found.";
    page: "Seite", "Page";
    of: "von", "of";
    prev: "Zurück", "Previous";
    next: "Weiter", "Next";
    results: "Fälle", "cases";
    newest_first: "neueste zuerst", "newest first";
    first_page: "Neueste", "Newest";
    pending_ticket: "(in Vergabe)", "(pending)";

    details: "Details", "Details";
    case_type: "Art", "Type";
    source: "Quelle", "Source";
    sla_response: "Reaktion fällig", "Response due";
    sla_resolution: "Lösung fällig", "Resolution due";
    external_ref: "Externe Referenz", "External reference";
    output_error: "Letzter Zustellfehler", "Last delivery error";
    caller: "Anrufer", "Caller";
    name: "Name", "Name";
    company_name: "Firma", "Company";
    phone: "Rückrufnummer", "Callback number";
    caller_id: "Anrufer-ID", "Caller ID";
    email: "E-Mail", "E-mail";
    location: "Standort", "Location";
    others_affected: "Weitere betroffen", "Others affected";
    problem_since: "Problem seit", "Problem since";
    customer_match: "Kunde erkannt", "Customer recognised";
    recording: "Aufnahme", "Recording";
    no_recording: "Keine Aufnahme gespeichert.", "No recording stored.";
    recording_note: "Hinweis zur Aufnahme", "Recording note";
    error: "Fehler", "Error";
    finished_at: "Abgeschlossen", "Finished";
    call: "Anruf", "Call";
    duration: "Dauer", "Duration";
    summary: "Zusammenfassung", "Summary";
    transcript: "Gesprächsverlauf", "Transcript";
    no_transcript: "Kein Gesprächsverlauf.", "No transcript.";
    agent_role: "Agent", "Agent";
    caller_role: "Anrufer", "Caller";
    timeline: "Verlauf", "Timeline";
    call_event: "Retell-Ereignis", "Retell event";
    request: "Anfrage", "Request";
    response: "Antwort", "Response";
    headers: "Header", "Headers";
    copy_curl: "Als cURL kopieren", "Copy as cURL";
    copied: "Kopiert", "Copied";
    actions: "Aktionen", "Actions";
    redeliver: "Erneut zustellen", "Redeliver";
    channels: "Kanäle", "Channels";
    only_missing: "nur noch nicht zugestellte", "only those not yet delivered";
    both_channels: "E-Mail und Webhook erneut", "e-mail and webhook again";
    again: "erneut", "again";
    change_workflow: "Status oder Priorität ändern", "Change status or priority";
    note: "Notiz", "Note";
    note_optional: "Notiz (optional)", "Note (optional)";
    save: "Speichern", "Save";
    internal_note: "Interne Notiz", "Internal note";
    add_note: "Notiz hinzufügen", "Add note";
    viewer_notice: "Als Leser können Sie Fälle ansehen, aber nichts ändern.", "As a viewer you can look at cases but not change them.";
    done_redeliver: "Der Fall wurde zur Zustellung eingereiht.", "The case was queued for delivery.";
    done_workflow: "Status und Priorität gespeichert.", "Status and priority saved.";
    done_note: "Notiz gespeichert.", "Note saved.";
    back_to_list: "Zur Fallliste", "Back to cases";
    by_operator: "durch", "by";

    kind: "Ergebnis", "Result";
    kind_success: "Erfolg", "Success";
    kind_http: "HTTP-Fehler", "HTTP error";
    kind_semantic: "Semantischer Fehler", "Semantic error";
    kind_exception: "Ausnahme", "Exception";
    status_range: "Statuscode", "Status code";
    col_time: "Zeit", "Time";
    col_operation: "Vorgang", "Operation";
    col_endpoint: "Ziel", "Endpoint";
    col_duration: "Dauer", "Duration";
    col_hint: "Hinweis", "Hint";
    col_case: "Fall", "Case";
    attempt: "Versuch", "Attempt";
    method: "Methode", "Method";
    error_class: "Fehlerklasse", "Error class";
    no_entries: "Keine Einträge im Zeitraum.", "No entries in the period.";
    test_marker: "Test", "Test";
    open_case: "Fall öffnen", "Open case";
    log_note: "Neueste zuerst, höchstens 2000 Einträge je Zeitraum.", "Newest first, at most 2000 entries per period.";

    outputs_intro: "Die Konfiguration wird als Code gepflegt und mit gatewayctl apply eingespielt; hier ist sie nur lesbar.", "The configuration is kept as code and applied with gatewayctl apply; here it is read-only.";
    output_type: "Typ", "Type";
    recipients: "Empfänger", "Recipients";
    muted: "pausiert", "muted";
    fallback: "Ersatzempfänger", "Fallback";
    template: "Vorlage", "Template";
    audio: "Audio", "Audio";
    url: "URL", "URL";
    preset: "Preset", "Preset";
    secret: "Signatur", "Signature";
    secret_set: "signiert (Secret hinterlegt)", "signed (secret set)";
    secret_none: "unsigniert", "unsigned";
    custom_headers: "Eigene Header", "Custom headers";
    enabled: "aktiv", "enabled";
    disabled: "deaktiviert", "disabled";
    used_by: "Kategorien", "Categories";
    send_test: "Test-Webhook senden", "Send test webhook";
    test_explainer: "Sendet einen als Test markierten Beispielfall über dieselbe Signatur und denselben SSRF-Schutz wie echte Zustellungen; protokolliert.", "Sends a sample case marked as a test, with the same signing and SSRF guard as real deliveries; logged.";
    email_preview: "E-Mail-Vorschau", "E-mail preview";
    test_result: "Ergebnis des Test-Webhooks", "Test webhook result";
    no_outputs: "Keine Ausgänge konfiguriert.", "No outputs configured.";

    err_not_found: "Nicht gefunden", "Not found";
    err_not_found_text: "Diese Seite oder dieser Fall existiert nicht in Ihrer Firma.", "This page or case does not exist in your company.";
    err_forbidden: "Keine Berechtigung", "Not allowed";
    err_forbidden_text: "Ihre Rolle erlaubt diese Aktion nicht.", "Your role does not allow this.";
    err_csrf_text: "Die Sicherheitsprüfung des Formulars ist fehlgeschlagen. Bitte laden Sie die Seite neu und versuchen Sie es noch einmal.", "The form's security check failed. Please reload the page and try again.";
    err_bad_request: "Ungültige Anfrage", "Bad request";
    err_bad_request_text: "Die Eingaben konnten nicht gelesen werden.", "The input could not be read.";
    err_unavailable: "Vorübergehend nicht verfügbar", "Temporarily unavailable";
    err_unavailable_text: "Bitte versuchen Sie es gleich noch einmal.", "Please try again in a moment.";
    err_internal: "Interner Fehler", "Internal error";
    err_internal_text: "Der Fehler wurde protokolliert.", "The error has been logged.";
    to_dashboard: "Zur Übersicht", "To the dashboard";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_language_follows_cookie_then_browser_then_german() {
        let mut h = HeaderMap::new();
        assert_eq!(Lang::from_headers(&h), Lang::De);
        h.insert(ACCEPT_LANGUAGE, "fr-FR, en-GB;q=0.8, de;q=0.5".parse().unwrap());
        assert_eq!(Lang::from_headers(&h), Lang::En);
        h.insert(ACCEPT_LANGUAGE, "en;q=0.4, de-DE".parse().unwrap());
        assert_eq!(Lang::from_headers(&h), Lang::De);
        h.insert(COOKIE, "gw_lang=en".parse().unwrap());
        assert_eq!(Lang::from_headers(&h), Lang::En);
    }
}
