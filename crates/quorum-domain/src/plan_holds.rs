//! A held plan: the tentative holds of every milestone of one release plan,
//! placed, extended, released, approved and confirmed together. Each member
//! is an ordinary hold (so it blocks its attendees, shows in listings and
//! reaches FindSlots as busy time); the plan only binds them, so a plan is
//! never half held, half extended or half confirmed.

use crate::{Hold, HoldState};
use chrono::{DateTime, Utc};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PlanId(pub String);

impl fmt::Display for PlanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One milestone of a held plan and the hold that keeps its time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanMember {
    pub milestone_id: String,
    pub hold: Hold,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanHold {
    pub id: PlanId,
    pub change_ticket: String,
    pub requester: String,
    pub created_at: DateTime<Utc>,
    /// In the order the plan was placed (the request's milestone order).
    pub members: Vec<PlanMember>,
}

impl PlanHold {
    /// The plan's state as a reader at `now` sees it. Members change only
    /// together, so they agree; should they not, the least advanced state
    /// (tentative before confirmed, anything inactive before both) wins, so
    /// a plan never looks more held than its weakest milestone.
    pub fn state_at(&self, now: DateTime<Utc>) -> HoldState {
        let rank = |s: HoldState| match s {
            HoldState::Released => 0,
            HoldState::Expired => 1,
            HoldState::Tentative => 2,
            HoldState::Confirmed => 3,
        };
        self.members
            .iter()
            .map(|m| m.hold.state_at(now))
            .min_by_key(|s| rank(*s))
            .unwrap_or(HoldState::Released)
    }

    /// When the plan's tentative holds expire (they share one expiry).
    pub fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.members.iter().map(|m| m.hold.expires_at).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{HoldId, TimeRange};
    use chrono::{Duration, TimeZone};

    fn member(state: HoldState, expires_in: i64) -> PlanMember {
        let t = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
        PlanMember {
            milestone_id: "m".into(),
            hold: Hold {
                id: HoldId("H-1".into()),
                change_ticket: "CHG-1".into(),
                slot: TimeRange::new(t, t + Duration::hours(1)),
                attendees: Vec::new(),
                state,
                expires_at: t + Duration::hours(expires_in),
                created_at: t,
                requester: "bot".into(),
                version: 1,
                release_reason: String::new(),
            },
        }
    }

    #[test]
    fn a_plan_is_as_held_as_its_weakest_milestone() {
        let t = Utc.with_ymd_and_hms(2026, 12, 1, 9, 30, 0).unwrap();
        let plan = |members| PlanHold {
            id: PlanId("P-1".into()),
            change_ticket: "CHG-1".into(),
            requester: "bot".into(),
            created_at: t,
            members,
        };
        let both = plan(vec![
            member(HoldState::Confirmed, 0),
            member(HoldState::Tentative, 1),
        ]);
        assert_eq!(both.state_at(t), HoldState::Tentative);
        // The tentative member expires at 10:00; the plan with it.
        assert_eq!(both.state_at(t + Duration::hours(1)), HoldState::Expired);
        assert_eq!(plan(Vec::new()).state_at(t), HoldState::Released);
    }
}
