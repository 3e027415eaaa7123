//! Tentative holds on a slot and their life: placed, extended, released,
//! expired, approved, confirmed. The rules here are pure and take `now` from
//! the caller, so the one clock that decides expiry is the store's, and a hold
//! past its expiry blocks nobody whether or not a sweeper has run.

use crate::{PersonId, RoleId, TimeRange};
use chrono::{DateTime, Utc};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HoldId(pub String);

impl fmt::Display for HoldId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The state as stored. What a reader sees also depends on the time: see
/// [`Hold::state_at`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HoldState {
    Tentative,
    Confirmed,
    Released,
    Expired,
}

impl HoldState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tentative => "TENTATIVE",
            Self::Confirmed => "CONFIRMED",
            Self::Released => "RELEASED",
            Self::Expired => "EXPIRED",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "TENTATIVE" => Self::Tentative,
            "CONFIRMED" => Self::Confirmed,
            "RELEASED" => Self::Released,
            "EXPIRED" => Self::Expired,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HoldAttendee {
    pub person: PersonId,
    pub role: RoleId,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    pub id: HoldId,
    pub change_ticket: String,
    pub slot: TimeRange,
    /// Sorted by person, so equal holds compare equal.
    pub attendees: Vec<HoldAttendee>,
    pub state: HoldState,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub requester: String,
    /// Bumped by every change, for compare-and-set.
    pub version: u64,
    pub release_reason: String,
}

impl Hold {
    /// The state a reader at `now` must see: a tentative hold at or past its
    /// expiry is expired even if nothing has written that down yet.
    pub fn state_at(&self, now: DateTime<Utc>) -> HoldState {
        match self.state {
            HoldState::Tentative if now >= self.expires_at => HoldState::Expired,
            state => state,
        }
    }

    /// Whether the hold blocks its attendees' time at `now`.
    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        matches!(
            self.state_at(now),
            HoldState::Tentative | HoldState::Confirmed
        )
    }
}

/// One change of attendee that the release owner approves by name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Substitution {
    pub role: RoleId,
    pub from: PersonId,
    pub to: PersonId,
}

/// Applies substitutions to an attendee list; `None` when one names a person
/// who is not the hold's attendee in that role, or brings in someone already
/// attending.
pub fn substitute(
    attendees: &[HoldAttendee],
    substitutions: &[Substitution],
) -> Option<Vec<HoldAttendee>> {
    let mut result = attendees.to_vec();
    for sub in substitutions {
        if result.iter().any(|a| a.person == sub.to) {
            return None;
        }
        let slot = result
            .iter_mut()
            .find(|a| a.person == sub.from && a.role == sub.role)?;
        slot.person = sub.to.clone();
    }
    result.sort();
    Some(result)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditAction {
    Placed,
    /// A PlaceHold that was refused (conflict, key reuse, permissions).
    Refused,
    Extended,
    ExtendRefused,
    Released,
    ReleaseRefused,
    Expired,
    Approved,
    ApprovalRefused,
    Confirmed,
    /// A ConfirmHold that was refused, whatever the reason.
    TokenRefused,
    SlotRejected,
    TicketRegistered,
    RegistrationRefused,
    /// A read of holds or of the audit log the caller may not see.
    ReadRefused,
    /// How many refusals past a caller's per-minute budget were counted
    /// instead of logged one by one.
    RefusalsSuppressed,
}

impl AuditAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Placed => "HOLD_PLACED",
            Self::Refused => "HOLD_REFUSED",
            Self::Extended => "HOLD_EXTENDED",
            Self::ExtendRefused => "EXTEND_REFUSED",
            Self::Released => "HOLD_RELEASED",
            Self::ReleaseRefused => "RELEASE_REFUSED",
            Self::Expired => "HOLD_EXPIRED",
            Self::Approved => "HOLD_APPROVED",
            Self::ApprovalRefused => "APPROVAL_REFUSED",
            Self::Confirmed => "HOLD_CONFIRMED",
            Self::TokenRefused => "TOKEN_REFUSED",
            Self::SlotRejected => "SLOT_REJECTED",
            Self::TicketRegistered => "TICKET_REGISTERED",
            Self::RegistrationRefused => "REGISTRATION_REFUSED",
            Self::ReadRefused => "READ_REFUSED",
            Self::RefusalsSuppressed => "REFUSALS_SUPPRESSED",
        }
    }
}

/// One line of the append-only audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub sequence: u64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub change_ticket: String,
    pub hold_id: Option<HoldId>,
    pub action: String,
    pub reason: String,
}

/// The source of "now" for everything that decides by time.
pub trait Clock: Send + Sync + fmt::Debug {
    fn now(&self) -> DateTime<Utc>;
}

/// The machine's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that only moves when told to, for tests of expiry.
#[derive(Debug)]
pub struct ManualClock(std::sync::Mutex<DateTime<Utc>>);

impl ManualClock {
    pub fn new(at: DateTime<Utc>) -> Self {
        Self(std::sync::Mutex::new(at))
    }

    pub fn advance(&self, by: chrono::Duration) {
        if let Ok(mut now) = self.0.lock() {
            *now += by;
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        self.0.lock().map_or(DateTime::UNIX_EPOCH, |now| *now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn hold(state: HoldState) -> Hold {
        let t = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
        Hold {
            id: HoldId("H-1".into()),
            change_ticket: "CHG-1".into(),
            slot: TimeRange::new(t, t + Duration::hours(1)),
            attendees: Vec::new(),
            state,
            expires_at: t,
            created_at: t - Duration::minutes(10),
            requester: "bot".into(),
            version: 1,
            release_reason: String::new(),
        }
    }

    #[test]
    fn tentative_hold_expires_at_its_expiry_without_a_sweeper() {
        let h = hold(HoldState::Tentative);
        assert!(h.is_active(h.expires_at - Duration::nanoseconds(1)));
        assert_eq!(h.state_at(h.expires_at), HoldState::Expired);
        assert!(!h.is_active(h.expires_at));
    }

    #[test]
    fn confirmed_hold_never_expires() {
        let h = hold(HoldState::Confirmed);
        assert!(h.is_active(h.expires_at + Duration::days(30)));
    }

    #[test]
    fn substitution_must_name_the_current_attendee() {
        let a = |p: &str, r: &str| HoldAttendee {
            person: PersonId(p.into()),
            role: RoleId(r.into()),
        };
        let attendees = vec![a("ana", "rm"), a("ben", "sec")];
        let sub = |r: &str, f: &str, t: &str| Substitution {
            role: RoleId(r.into()),
            from: PersonId(f.into()),
            to: PersonId(t.into()),
        };
        assert_eq!(
            substitute(&attendees, &[sub("sec", "ben", "cy")]),
            Some(vec![a("ana", "rm"), a("cy", "sec")])
        );
        assert_eq!(substitute(&attendees, &[sub("rm", "ben", "cy")]), None);
        assert_eq!(substitute(&attendees, &[sub("sec", "ben", "ana")]), None);
    }
}
