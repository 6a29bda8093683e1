//! The WebDAV/CalDAV XML we speak: the `calendar-query` REPORT body (RFC 4791 §7.8) and the
//! `multistatus` answer (RFC 4918 §13), read namespace-aware so any prefix a server picks works.

use chrono::{DateTime, Utc};
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

const DAV: &[u8] = b"DAV:";
const CALDAV: &[u8] = b"urn:ietf:params:xml:ns:caldav";

fn caldav_time(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// A `calendar-query` for every VEVENT overlapping `[start, end)`, asking for the ETag and the
/// calendar data with recurring events expanded into their instances inside the same range
/// (RFC 4791 §9.6.5), so a weekly meeting counts on every week it happens.
pub fn calendar_query(start: DateTime<Utc>, end: DateTime<Utc>) -> String {
    let (s, e) = (caldav_time(start), caldav_time(end));
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop>
    <D:getetag/>
    <C:calendar-data>
      <C:expand start="{s}" end="{e}"/>
    </C:calendar-data>
  </D:prop>
  <C:filter>
    <C:comp-filter name="VCALENDAR">
      <C:comp-filter name="VEVENT">
        <C:time-range start="{s}" end="{e}"/>
      </C:comp-filter>
    </C:comp-filter>
  </C:filter>
</C:calendar-query>
"#
    )
}

/// One `response` of a multistatus with the properties that came back with status 200.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Item {
    pub href: String,
    pub etag: Option<String>,
    pub calendar_data: Option<String>,
}

#[derive(Default)]
struct Propstat {
    ok: bool,
    etag: Option<String>,
    calendar_data: Option<String>,
}

/// Where the reader is, by the elements that matter (others are skipped over).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Node {
    Multistatus,
    Response,
    Href,
    Propstat,
    Prop,
    Status,
    GetEtag,
    CalendarData,
    Other,
}

fn node(ns: &ResolveResult<'_>, local: &[u8]) -> Node {
    let ns = match ns {
        ResolveResult::Bound(n) => n.as_ref(),
        _ => b"",
    };
    match (ns, local) {
        (DAV, b"multistatus") => Node::Multistatus,
        (DAV, b"response") => Node::Response,
        (DAV, b"href") => Node::Href,
        (DAV, b"propstat") => Node::Propstat,
        (DAV, b"prop") => Node::Prop,
        (DAV, b"status") => Node::Status,
        (DAV, b"getetag") => Node::GetEtag,
        (CALDAV, b"calendar-data") => Node::CalendarData,
        _ => Node::Other,
    }
}

/// Whether an HTTP status line (`HTTP/1.1 200 OK`) says 2xx.
fn status_ok(line: &str) -> bool {
    line.split_whitespace().nth(1).is_some_and(|code| code.starts_with('2'))
}

/// The responses of a multistatus body. Properties count only from a `propstat` whose status is
/// 2xx; a `response` without any (a 404 entry) comes back with neither ETag nor data.
pub fn parse_multistatus(body: &str) -> Result<Vec<Item>, String> {
    let mut reader = NsReader::from_str(body);
    let mut stack: Vec<Node> = Vec::new();
    let mut text = String::new();
    let mut items = Vec::new();
    let mut item: Option<Item> = None;
    let mut propstat: Option<Propstat> = None;
    let mut seen_root = false;

    loop {
        let position = reader.buffer_position();
        let (ns, event) = reader
            .read_resolved_event()
            .map_err(|e| format!("malformed XML after byte {position}: {e}"))?;
        match event {
            Event::Start(start) => {
                let n = node(&ns, start.local_name().as_ref());
                if stack.is_empty() {
                    if n != Node::Multistatus {
                        return Err("the answer is not a DAV:multistatus".into());
                    }
                    seen_root = true;
                }
                match n {
                    Node::Response if stack.last() == Some(&Node::Multistatus) => item = Some(Item::default()),
                    Node::Propstat if stack.last() == Some(&Node::Response) => propstat = Some(Propstat::default()),
                    _ => {}
                }
                text.clear();
                stack.push(n);
            }
            // An empty root: a multistatus without responses, or not one at all.
            Event::Empty(start) if stack.is_empty() => {
                if node(&ns, start.local_name().as_ref()) != Node::Multistatus {
                    return Err("the answer is not a DAV:multistatus".into());
                }
                seen_root = true;
            }
            Event::Text(t) => {
                let s = t.decode().map_err(|e| format!("undecodable text: {e}"))?;
                text.push_str(&s);
            }
            Event::CData(t) => {
                let s = t.decode().map_err(|e| format!("undecodable CDATA: {e}"))?;
                text.push_str(&s);
            }
            Event::GeneralRef(r) => {
                if let Some(c) = r
                    .resolve_char_ref()
                    .map_err(|e| format!("bad character reference: {e}"))?
                {
                    text.push(c);
                } else {
                    let name = r.decode().map_err(|e| format!("undecodable reference: {e}"))?;
                    let resolved = quick_xml::escape::resolve_predefined_entity(&name)
                        .ok_or_else(|| format!("unknown entity &{name};"))?;
                    text.push_str(resolved);
                }
            }
            Event::End(_) => {
                let n = stack.pop().unwrap_or(Node::Other);
                let parent = stack.last().copied();
                match (n, parent) {
                    (Node::Href, Some(Node::Response)) => {
                        if let Some(i) = item.as_mut() {
                            i.href = text.trim().to_string();
                        }
                    }
                    (Node::Status, Some(Node::Propstat)) => {
                        if let Some(p) = propstat.as_mut() {
                            p.ok = status_ok(&text);
                        }
                    }
                    (Node::GetEtag, Some(Node::Prop)) => {
                        if let Some(p) = propstat.as_mut() {
                            p.etag = Some(text.trim().to_string());
                        }
                    }
                    (Node::CalendarData, Some(Node::Prop)) => {
                        if let Some(p) = propstat.as_mut() {
                            p.calendar_data = Some(std::mem::take(&mut text));
                        }
                    }
                    (Node::Propstat, Some(Node::Response)) => {
                        if let (Some(p), Some(i)) = (propstat.take(), item.as_mut())
                            && p.ok
                        {
                            i.etag = i.etag.take().or(p.etag);
                            i.calendar_data = i.calendar_data.take().or(p.calendar_data);
                        }
                    }
                    (Node::Response, Some(Node::Multistatus)) => {
                        if let Some(i) = item.take() {
                            items.push(i);
                        }
                    }
                    _ => {}
                }
                text.clear();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !seen_root {
        return Err("the answer is not a DAV:multistatus".into());
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_names_the_range_in_utc_for_the_filter_and_the_expansion() {
        let q = calendar_query(
            "2026-03-26T09:00:00Z".parse().unwrap(),
            "2026-03-26T17:30:00Z".parse().unwrap(),
        );
        assert_eq!(
            q.matches(r#"start="20260326T090000Z" end="20260326T173000Z""#).count(),
            2
        );
        assert!(q.contains(r#"<C:comp-filter name="VEVENT">"#));
    }

    #[test]
    fn any_prefix_entities_and_failed_propstats_are_handled() {
        let body = r#"<?xml version='1.0' encoding='utf-8'?>
<d:multistatus xmlns:d="DAV:" xmlns:cal="urn:ietf:params:xml:ns:caldav">
 <d:response><d:href>/u/c/a.ics</d:href>
  <d:propstat><d:prop><d:getetag>"e1"</d:getetag><cal:calendar-data>BEGIN:VCALENDAR&#13;
SUMMARY:A &amp; B
END:VCALENDAR</cal:calendar-data></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat>
  <d:propstat><d:prop><d:displayname/></d:prop><d:status>HTTP/1.1 404 Not Found</d:status></d:propstat>
 </d:response>
 <response xmlns="DAV:"><href>/u/c/b.ics</href><propstat><prop><getetag>"e2"</getetag>
  <C:calendar-data xmlns:C="urn:ietf:params:xml:ns:caldav"><![CDATA[BEGIN:VCALENDAR]]></C:calendar-data></prop>
  <status>HTTP/1.1 200 OK</status></propstat></response>
 <d:response><d:href>/u/c/gone.ics</d:href><d:status>HTTP/1.1 404 Not Found</d:status></d:response>
</d:multistatus>"#;
        let items = parse_multistatus(body).unwrap();
        assert_eq!(items.len(), 3);
        assert_eq!(items[0].href, "/u/c/a.ics");
        assert_eq!(items[0].etag.as_deref(), Some("\"e1\""));
        assert_eq!(
            items[0].calendar_data.as_deref(),
            Some("BEGIN:VCALENDAR\r\nSUMMARY:A & B\nEND:VCALENDAR")
        );
        assert_eq!(items[1].calendar_data.as_deref(), Some("BEGIN:VCALENDAR"));
        assert_eq!(items[2].etag, None);
        assert_eq!(items[2].calendar_data, None);
    }

    #[test]
    fn something_else_than_a_multistatus_is_refused() {
        assert!(parse_multistatus("<html><body>login</body></html>").is_err());
        assert!(parse_multistatus("not xml <<<").is_err());
        assert!(parse_multistatus("").is_err());
        assert_eq!(
            parse_multistatus(r#"<multistatus xmlns="DAV:"/>"#).unwrap(),
            Vec::<Item>::new()
        );
    }
}
