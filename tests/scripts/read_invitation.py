"""Reads an e-mail (raw MIME on stdin) the way a recipient's software would, with libraries the
gateway does not use: Python's `email` package for the MIME structure and `icalendar` for the
calendar entry. Prints what was found as JSON for the Rust end-to-end test to assert on.

Every DTSTART/DTEND is turned into a UTC instant twice: as `icalendar` resolves it (a TZID it
knows by name comes from the system's zone database), and from the message's own VTIMEZONE
alone (`to_tz(lookup_tzid=False)`), which checks the transitions the gateway computed.
"""

import json
import sys
from datetime import timezone
from email import message_from_bytes, policy

import icalendar


def main() -> None:
    message = message_from_bytes(sys.stdin.buffer.read(), policy=policy.default)
    out = {
        "subject": str(message["subject"]),
        "from": str(message["from"]),
        "to": str(message["to"]),
        "content_type": message.get_content_type(),
        "parts": [],
    }
    calendar_bytes = None
    for part in message.walk():
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        out["parts"].append(
            {
                "content_type": ctype,
                "disposition": part.get_content_disposition(),
                "filename": part.get_filename(),
                "method": part.get_param("method"),
                "charset": part.get_content_charset(),
            }
        )
        if ctype == "text/calendar":
            calendar_bytes = part.get_payload(decode=True)
        elif ctype == "text/plain":
            out["text"] = part.get_content()
        elif ctype == "text/html":
            out["html"] = part.get_content()
    if calendar_bytes is not None:
        out["calendar"] = read_calendar(calendar_bytes)
    json.dump(out, sys.stdout)


def read_calendar(data: bytes) -> dict:
    calendar = icalendar.Calendar.from_ical(data)
    zones = {str(z["TZID"]): z.to_tz(lookup_tzid=False) for z in calendar.walk("VTIMEZONE")}
    (event,) = calendar.walk("VEVENT")

    def instant(name: str) -> dict:
        prop = event[name]
        value = prop.dt
        tzid = prop.params.get("TZID")
        by_vtimezone = None
        if tzid is not None:
            # RFC 5545: a local time that occurs twice means the first (fold=0).
            local = value.replace(tzinfo=None).replace(tzinfo=zones[str(tzid)], fold=0)
            by_vtimezone = local.astimezone(timezone.utc).isoformat()
        return {
            "tzid": None if tzid is None else str(tzid),
            "utc": value.astimezone(timezone.utc).isoformat(),
            "utc_by_vtimezone": by_vtimezone,
        }

    organizer = event.get("ORGANIZER")
    attendee = event.get("ATTENDEE")
    return {
        "method": str(calendar.get("METHOD")),
        "uid": str(event["UID"]),
        "sequence": int(event["SEQUENCE"]),
        "status": str(event.get("STATUS")),
        "summary": str(event.get("SUMMARY")),
        "location": str(event.get("LOCATION")),
        "organizer": None if organizer is None else str(organizer),
        "attendee": None if attendee is None else str(attendee),
        "dtstart": instant("DTSTART"),
        "dtend": instant("DTEND"),
        "vtimezones": sorted(zones),
    }


if __name__ == "__main__":
    main()
