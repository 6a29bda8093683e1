//! The booking functions by name, with the names the original's agents use, so an existing agent
//! can be pointed at the gateway unchanged.

/// A booking function the agent may call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BookingFunction {
    CheckAvailability,
    GetAlternatives,
    FindNextAvailable,
    BookAppointment,
    QueryAppointments,
    CancelAppointment,
    RescheduleAppointment,
    ListServices,
    GetOpeningHours,
}

impl BookingFunction {
    pub const ALL: [BookingFunction; 9] = [
        BookingFunction::CheckAvailability,
        BookingFunction::GetAlternatives,
        BookingFunction::FindNextAvailable,
        BookingFunction::BookAppointment,
        BookingFunction::QueryAppointments,
        BookingFunction::CancelAppointment,
        BookingFunction::RescheduleAppointment,
        BookingFunction::ListServices,
        BookingFunction::GetOpeningHours,
    ];

    /// The name in our function definitions (README, "Set up the agent").
    pub fn name(self) -> &'static str {
        match self {
            BookingFunction::CheckAvailability => "check_availability",
            BookingFunction::GetAlternatives => "get_alternatives",
            BookingFunction::FindNextAvailable => "find_next_available",
            BookingFunction::BookAppointment => "book_appointment",
            BookingFunction::QueryAppointments => "query_appointments",
            BookingFunction::CancelAppointment => "cancel_appointment",
            BookingFunction::RescheduleAppointment => "reschedule_appointment",
            BookingFunction::ListServices => "list_services",
            BookingFunction::GetOpeningHours => "get_opening_hours",
        }
    }

    /// Whether the function changes a calendar (a retry must never change it twice).
    pub fn changes_calendar(self) -> bool {
        matches!(
            self,
            BookingFunction::BookAppointment
                | BookingFunction::CancelAppointment
                | BookingFunction::RescheduleAppointment
        )
    }

    /// Our names and the original's (a version suffix such as `_v17` is stripped before).
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "check_availability" | "check_appointment_availability" => BookingFunction::CheckAvailability,
            "get_alternatives" | "find_alternatives" => BookingFunction::GetAlternatives,
            "find_next_available" | "next_available" | "get_next_available" => BookingFunction::FindNextAvailable,
            "book_appointment" | "start_booking" | "create_appointment" => BookingFunction::BookAppointment,
            "query_appointments"
            | "query_appointment"
            | "query_appointment_by_name"
            | "list_appointments"
            | "get_appointments" => BookingFunction::QueryAppointments,
            "cancel_appointment" => BookingFunction::CancelAppointment,
            "reschedule_appointment" | "move_appointment" => BookingFunction::RescheduleAppointment,
            "list_services" | "get_services" | "get_service_info" => BookingFunction::ListServices,
            "get_opening_hours" | "opening_hours" | "get_business_hours" => BookingFunction::GetOpeningHours,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_names_round_trip_and_the_originals_are_understood() {
        for f in BookingFunction::ALL {
            assert_eq!(BookingFunction::from_name(f.name()), Some(f));
        }
        assert_eq!(
            BookingFunction::from_name("start_booking"),
            Some(BookingFunction::BookAppointment)
        );
        assert_eq!(
            BookingFunction::from_name("query_appointment_by_name"),
            Some(BookingFunction::QueryAppointments)
        );
        assert_eq!(BookingFunction::from_name("finalize_ticket"), None);
    }
}
