//! The ONE table pinning `cal-api-version` per endpoint group. Cal.com routes by this header: a
//! missing or unknown value silently lands on the legacy 2024-04-15 controllers (other shapes, no
//! reschedule route), and slots answer 404 `Cannot GET /v2/slots?...` under any value but their
//! own (`shared/reference/appointments.md` §1.1). Versions move without notice (`calcom/cal.diy#28762`),
//! so they live here and nowhere else, and `tests/calcom.rs` checks every request against the
//! recorded fixtures.

/// The groups of Cal.com API v2 endpoints the adapter calls (plus the list it does not call yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EndpointGroup {
    /// `GET /v2/slots`
    Slots,
    /// `POST /v2/slots/reservations`, `DELETE /v2/slots/reservations/{uid}`
    Reservations,
    /// `POST /v2/bookings`
    CreateBooking,
    /// `GET /v2/bookings/{uid}`
    GetBooking,
    /// `POST /v2/bookings/{uid}/cancel`
    CancelBooking,
    /// `POST /v2/bookings/{uid}/reschedule`
    RescheduleBooking,
    /// `GET /v2/bookings` (not called by the adapter; pinned for whoever adds it)
    ListBookings,
}

/// One row: the group, the value sent, and why that value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VersionPin {
    pub group: EndpointGroup,
    pub version: &'static str,
    pub why: &'static str,
}

/// Slots and reservations exist only under this value (`slots-2024-09-04` controllers).
pub const SLOTS_VERSION: &str = "2024-09-04";
/// The bookings controllers with `BookingOutput_2024_08_13` (and the reschedule route).
pub const BOOKINGS_VERSION: &str = "2024-08-13";

/// Every pin. Bookings: `2024-08-13` and `2026-02-25` take the same body and output classes; the
/// 2026 values only add owner flags (`allowConflicts`, `allowBookingOutOfBounds`,
/// `skipBookingLimits`) that we never want (booking past the company's own rules, or into a
/// conflict, is exactly what the adapter must not do). So the oldest documented value with the
/// reschedule route is pinned for all booking calls, and the fixtures are recorded with it.
pub const VERSIONS: &[VersionPin] = &[
    VersionPin {
        group: EndpointGroup::Slots,
        version: SLOTS_VERSION,
        why: "only value that routes GET /v2/slots (any other: 404 'Cannot GET /v2/slots?...'); format=range, explicit instants",
    },
    VersionPin {
        group: EndpointGroup::Reservations,
        version: SLOTS_VERSION,
        why: "reservations live in the slots 2024-09-04 module (reserve-slot.output.ts)",
    },
    VersionPin {
        group: EndpointGroup::CreateBooking,
        version: BOOKINGS_VERSION,
        why: "create-booking.input.ts 2024-08-13; 2026-02-25 is the same classes plus owner flags we never send",
    },
    VersionPin {
        group: EndpointGroup::GetBooking,
        version: BOOKINGS_VERSION,
        why: "same controller as create; BookingOutput_2024_08_13",
    },
    VersionPin {
        group: EndpointGroup::CancelBooking,
        version: BOOKINGS_VERSION,
        why: "same controller as create; body {cancellationReason}",
    },
    VersionPin {
        group: EndpointGroup::RescheduleBooking,
        version: BOOKINGS_VERSION,
        why: "the legacy 2024-04-15 controllers have no reschedule route at all; body {start, reschedulingReason}",
    },
    VersionPin {
        group: EndpointGroup::ListBookings,
        version: BOOKINGS_VERSION,
        why: "offset pages; 2026-05-01 (cursor pages) was reported timing out (Cloudflare 524) by a third-party client",
    },
];

/// The pinned `cal-api-version` of a group.
pub fn version(group: EndpointGroup) -> &'static str {
    VERSIONS
        .iter()
        .find(|pin| pin.group == group)
        .map_or(BOOKINGS_VERSION, |pin| pin.version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_group_is_pinned_exactly_once() {
        let groups = [
            EndpointGroup::Slots,
            EndpointGroup::Reservations,
            EndpointGroup::CreateBooking,
            EndpointGroup::GetBooking,
            EndpointGroup::CancelBooking,
            EndpointGroup::RescheduleBooking,
            EndpointGroup::ListBookings,
        ];
        for group in groups {
            assert_eq!(VERSIONS.iter().filter(|p| p.group == group).count(), 1, "{group:?}");
        }
        assert_eq!(version(EndpointGroup::Slots), "2024-09-04");
        assert_eq!(version(EndpointGroup::Reservations), "2024-09-04");
        assert_eq!(version(EndpointGroup::RescheduleBooking), "2024-08-13");
    }
}
