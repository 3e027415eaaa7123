//! Size limits on everything a caller sends the hold broker, checked before
//! the store is touched: unbounded ids once let a refused call write a 3 MB
//! hold id into the permanent audit log, and an unbounded attendee list made
//! PlaceHold's duplicate check quadratic. Control characters are refused too,
//! so no CR, NUL or ESC ever reaches the audit log or an iCalendar export.

use quorum_domain::FieldViolation;

/// Ids and keys: hold ids, tickets, people, roles, idempotency keys, release
/// owners, caller identities.
pub const MAX_ID_BYTES: usize = 128;
/// A release reason.
pub const MAX_REASON_BYTES: usize = 1024;
/// Attendees of one hold, like the 64 roles of one FindSlots request.
pub const MAX_ATTENDEES: usize = 64;
/// Substitutions named in one approval.
pub const MAX_SUBSTITUTIONS: usize = MAX_ATTENDEES;
/// An approval token; the largest genuine one (64 attendees and 64
/// substitutions of the longest ids) is under 80 KiB.
pub const MAX_TOKEN_BYTES: usize = 128 * 1024;
/// A page token.
pub const MAX_PAGE_TOKEN_BYTES: usize = 256;
/// Records or holds per page when the caller asks for none.
pub const DEFAULT_PAGE_SIZE: usize = 100;
/// The most per page; larger asks are clamped to it. 500 of the largest holds
/// stay under 10 MiB, well inside the 16 MiB message limit.
pub const MAX_PAGE_SIZE: usize = 500;

/// Checks one text field: at most `max` bytes, no control characters, and
/// present when `required`. Appends a violation naming `field` otherwise.
pub fn text(field: &str, value: &str, max: usize, required: bool, out: &mut Vec<FieldViolation>) {
    if required && value.trim().is_empty() {
        out.push(FieldViolation::new(field, "a value is required"));
    } else if value.len() > max {
        out.push(FieldViolation::new(
            field,
            format!("at most {max} bytes (got {})", value.len()),
        ));
    } else if value.chars().any(char::is_control) {
        out.push(FieldViolation::new(
            field,
            "control characters (CR, LF, NUL, ESC, …) are not allowed",
        ));
    }
}

/// An id or key field.
pub fn id(field: &str, value: &str, required: bool, out: &mut Vec<FieldViolation>) {
    text(field, value, MAX_ID_BYTES, required, out);
}

/// `Err` with the violations, if there are any.
pub fn verdict(violations: Vec<FieldViolation>) -> Result<(), crate::HoldError> {
    if violations.is_empty() {
        Ok(())
    } else {
        Err(crate::HoldError::InvalidRequest { violations })
    }
}

/// A requested page size: 0 means the default, more than the most is clamped.
pub fn page_size(asked: u32) -> usize {
    match usize::try_from(asked) {
        Ok(0) => DEFAULT_PAGE_SIZE,
        Ok(n) => n.min(MAX_PAGE_SIZE),
        Err(_) => MAX_PAGE_SIZE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_ids_and_control_characters_are_violations_naming_the_field() {
        let mut out = Vec::new();
        id("hold_id", &"H".repeat(MAX_ID_BYTES), true, &mut out);
        assert!(out.is_empty());
        id("hold_id", &"H".repeat(MAX_ID_BYTES + 1), true, &mut out);
        id("reason", "a\r\nb", false, &mut out);
        id("change_ticket", "", true, &mut out);
        id("release_owner", "", false, &mut out);
        let fields: Vec<&str> = out.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["hold_id", "reason", "change_ticket"]);
    }

    #[test]
    fn page_sizes_default_and_clamp() {
        assert_eq!(page_size(0), DEFAULT_PAGE_SIZE);
        assert_eq!(page_size(7), 7);
        assert_eq!(page_size(u32::MAX), MAX_PAGE_SIZE);
    }
}
