//! Who may do what to holds, decided in plain Rust from a [`Principal`] (an
//! identity and the scopes the operator's configuration gives it) and the
//! facts of the hold and its ticket. The gRPC layer only maps a caller to a
//! principal; every decision is here, so the store applies the same rules
//! inside the transaction that acts on them, and tests need no server.
//!
//! | action | who |
//! |---|---|
//! | register a ticket's release owner | `admin` |
//! | place a hold | `pipeline` (never naming itself release owner) |
//! | extend or release a tentative hold | its requester, the ticket's release owner, `admin` |
//! | release a confirmed booking (reason required) | the ticket's release owner, `admin` |
//! | approve | the ticket's release owner, never the hold's requester |
//! | confirm (with a token) | the hold's requester, the ticket's release owner, `admin` |
//! | read a ticket's holds and audit log | `read`, `admin`, its release owner, anyone who placed a hold on it |
//!
//! A held plan (every milestone of a release plan, held together) follows
//! the same table, acting on all its holds at once: the plan's requester,
//! its ticket's release owner and the scopes above decide exactly as for one
//! hold, and a hold inside a plan is extended, released, approved and
//! confirmed only through its plan.
//!
//! "The ticket's release owner" is the identity the ticket names *and* holds
//! the `release-owner` scope: naming alone grants nothing.

use crate::HoldError;
use quorum_domain::{Hold, PlanHold};
use std::fmt;

/// What a permission is decided about: one hold, or a held plan. Both have
/// one ticket and one requester; the label names it in refusals.
pub trait Subject {
    fn label(&self) -> String;
    fn ticket(&self) -> &str;
    fn requester(&self) -> &str;
}

impl Subject for Hold {
    fn label(&self) -> String {
        format!("hold {}", self.id)
    }
    fn ticket(&self) -> &str {
        &self.change_ticket
    }
    fn requester(&self) -> &str {
        &self.requester
    }
}

impl Subject for PlanHold {
    fn label(&self) -> String {
        format!("plan {}", self.id)
    }
    fn ticket(&self) -> &str {
        &self.change_ticket
    }
    fn requester(&self) -> &str {
        &self.requester
    }
}

/// A permission an operator grants an identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Release pipelines: place holds, extend, release and confirm their own.
    Pipeline,
    /// Acts as release owner of the tickets that name this identity.
    ReleaseOwner,
    /// Reads every ticket's holds and audit log.
    Read,
    /// Registers tickets' release owners; extends and releases any hold;
    /// reads everything. Never approves: that is the owner's signature.
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 4] = [
        Scope::Pipeline,
        Scope::ReleaseOwner,
        Scope::Read,
        Scope::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pipeline => "pipeline",
            Self::ReleaseOwner => "release-owner",
            Self::Read => "read",
            Self::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// An authenticated caller: who, and what the configuration lets it do.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Principal {
    pub identity: String,
    scopes: u8,
}

impl Principal {
    pub fn new(identity: impl Into<String>, scopes: impl IntoIterator<Item = Scope>) -> Self {
        Self {
            identity: identity.into(),
            scopes: scopes.into_iter().fold(0, |bits, s| bits | s.bit()),
        }
    }

    /// Every scope: development mode, where the header names the caller.
    pub fn with_every_scope(identity: impl Into<String>) -> Self {
        Self::new(identity, Scope::ALL)
    }

    pub fn has(&self, scope: Scope) -> bool {
        self.scopes & scope.bit() != 0
    }

    pub fn scopes(&self) -> impl Iterator<Item = Scope> + '_ {
        Scope::ALL.into_iter().filter(|s| self.has(*s))
    }

    /// Acts as the release owner of a ticket that names `owner`.
    pub fn owns(&self, owner: Option<&str>) -> bool {
        owner == Some(self.identity.as_str()) && self.has(Scope::ReleaseOwner)
    }
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.identity)
    }
}

fn denied(who: &Principal, action: &'static str, rule: impl Into<String>) -> HoldError {
    HoldError::NotPermitted {
        caller: who.identity.clone(),
        action,
        rule: rule.into(),
    }
}

pub fn may_register(who: &Principal) -> Result<(), HoldError> {
    if who.has(Scope::Admin) {
        return Ok(());
    }
    Err(denied(
        who,
        "register a ticket",
        "only an identity with the admin scope registers tickets",
    ))
}

/// Placing needs the pipeline scope; a requester never names itself release
/// owner, or it could approve its own hold.
pub fn may_place(who: &Principal, named_owner: Option<&str>) -> Result<(), HoldError> {
    if !who.has(Scope::Pipeline) {
        return Err(denied(
            who,
            "place a hold",
            "placing holds needs the pipeline scope",
        ));
    }
    if named_owner == Some(who.identity.as_str()) {
        return Err(denied(
            who,
            "place a hold",
            "a requester cannot name itself release owner (separation of duties)",
        ));
    }
    Ok(())
}

fn is_requester(who: &Principal, hold: &impl Subject) -> bool {
    who.identity == hold.requester() && who.has(Scope::Pipeline)
}

/// Extending or releasing: the requester, the release owner or an admin; a
/// confirmed booking only the release owner or an admin.
pub fn may_change(
    who: &Principal,
    hold: &impl Subject,
    owner: Option<&str>,
    action: &'static str,
    confirmed: bool,
) -> Result<(), HoldError> {
    let owner_or_admin = who.owns(owner) || who.has(Scope::Admin);
    if confirmed {
        if owner_or_admin {
            return Ok(());
        }
        return Err(denied(
            who,
            action,
            format!(
                "{} is a confirmed booking: only the release owner of {} or an admin may",
                hold.label(),
                hold.ticket()
            ),
        ));
    }
    if owner_or_admin || is_requester(who, hold) {
        return Ok(());
    }
    Err(denied(
        who,
        action,
        format!(
            "only the requester of {}, the release owner of {} or an admin may",
            hold.label(),
            hold.ticket()
        ),
    ))
}

/// Approval is the release owner's, and never by whoever placed the hold.
pub fn may_approve(
    who: &Principal,
    hold: &impl Subject,
    owner: Option<&str>,
) -> Result<(), HoldError> {
    if !who.owns(owner) {
        return Err(denied(
            who,
            "approve",
            format!(
                "only the release owner of {} ({}) may approve its holds",
                hold.ticket(),
                owner.unwrap_or("none registered")
            ),
        ));
    }
    if who.identity == hold.requester() {
        return Err(denied(
            who,
            "approve",
            format!(
                "{} placed {}, so it cannot approve it (separation of duties)",
                who.identity,
                hold.label()
            ),
        ));
    }
    Ok(())
}

pub fn may_confirm(
    who: &Principal,
    hold: &impl Subject,
    owner: Option<&str>,
) -> Result<(), HoldError> {
    if is_requester(who, hold) || who.owns(owner) || who.has(Scope::Admin) {
        return Ok(());
    }
    Err(denied(
        who,
        "confirm",
        format!(
            "only the requester of {}, the release owner of {} or an admin may",
            hold.label(),
            hold.ticket()
        ),
    ))
}

/// Whether reads are unrestricted for this caller.
pub fn reads_everything(who: &Principal) -> bool {
    who.has(Scope::Read) || who.has(Scope::Admin)
}

/// Reading a ticket: a read or admin scope, its release owner, or anyone who
/// placed a hold on it.
pub fn may_read(
    who: &Principal,
    ticket: &str,
    owner: Option<&str>,
    placed_on_it: bool,
) -> Result<(), HoldError> {
    if reads_everything(who) || owner == Some(who.identity.as_str()) || placed_on_it {
        return Ok(());
    }
    Err(denied(
        who,
        "read",
        format!(
            "ticket {ticket:?} is readable by its release owner, those who placed holds on it, and the read or admin scopes"
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use quorum_domain::{HoldId, HoldState, TimeRange};

    fn hold() -> Hold {
        let t = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
        Hold {
            id: HoldId("H-1".into()),
            change_ticket: "CHG-1".into(),
            slot: TimeRange::new(t, t + chrono::Duration::hours(1)),
            attendees: Vec::new(),
            state: HoldState::Tentative,
            expires_at: t,
            created_at: t,
            requester: "bot".into(),
            version: 1,
            release_reason: String::new(),
        }
    }

    #[test]
    fn a_stranger_may_not_extend_or_release_and_a_confirmed_booking_needs_the_owner() {
        let h = hold();
        let bot = Principal::new("bot", [Scope::Pipeline]);
        let eve = Principal::new("eve", [Scope::Pipeline]);
        let olga = Principal::new("olga", [Scope::ReleaseOwner]);
        let admin = Principal::new("root", [Scope::Admin]);
        let owner = Some("olga");
        assert!(may_change(&bot, &h, owner, "release", false).is_ok());
        assert!(may_change(&eve, &h, owner, "release", false).is_err());
        assert!(may_change(&bot, &h, owner, "release", true).is_err());
        assert!(may_change(&olga, &h, owner, "release", true).is_ok());
        assert!(may_change(&admin, &h, owner, "release", true).is_ok());
        // Named but without the scope: naming alone grants nothing.
        let named_only = Principal::new("olga", [Scope::Pipeline]);
        assert!(may_change(&named_only, &h, owner, "release", true).is_err());
    }

    #[test]
    fn the_requester_never_approves_nor_names_itself_owner() {
        let h = hold();
        let bot_owner = Principal::new("bot", [Scope::Pipeline, Scope::ReleaseOwner]);
        assert!(may_approve(&bot_owner, &h, Some("bot")).is_err());
        assert!(may_place(&bot_owner, Some("bot")).is_err());
        let olga = Principal::new("olga", [Scope::ReleaseOwner]);
        assert!(may_approve(&olga, &h, Some("olga")).is_ok());
        assert!(may_approve(&Principal::with_every_scope("root"), &h, Some("olga")).is_err());
    }

    #[test]
    fn reads_need_a_relation_to_the_ticket_or_a_read_scope() {
        let eve = Principal::new("eve", [Scope::Pipeline]);
        assert!(may_read(&eve, "CHG-1", Some("olga"), false).is_err());
        assert!(may_read(&eve, "CHG-1", Some("olga"), true).is_ok());
        assert!(may_read(&Principal::new("olga", []), "CHG-1", Some("olga"), false).is_ok());
        assert!(
            may_read(
                &Principal::new("auditor", [Scope::Read]),
                "CHG-1",
                None,
                false
            )
            .is_ok()
        );
    }

    #[test]
    fn scopes_parse_by_their_configured_names() {
        for scope in Scope::ALL {
            assert_eq!(Scope::parse(scope.as_str()), Some(scope));
        }
        assert_eq!(Scope::parse("root"), None);
        let p = Principal::new("x", [Scope::Read, Scope::Admin]);
        assert_eq!(p.scopes().collect::<Vec<_>>(), [Scope::Read, Scope::Admin]);
    }
}
