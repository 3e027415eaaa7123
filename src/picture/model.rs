//! The picture's own view model: what is drawn, in plain Rust, with nothing
//! of the wire format in it. The adapter in `adapt.rs` builds it from a
//! request and its response; the renderers only read it. Keeping the two
//! apart means a change to the response (say, the explanation's shape) is
//! one function to change, not every drawing routine.

use chrono_tz::Tz;
use quorum_domain::{BusyStatus, FreezeKind, TimeRange};

/// Everything one slot-finding answer draws.
#[derive(Debug, Clone)]
pub struct SlotsView {
    /// The change ticket, the page's title.
    pub change_ticket: String,
    /// The zone the axis and every time label are read in (`--zone`).
    pub zone: Tz,
    /// The request's whole horizon.
    pub horizon: TimeRange,
    /// The part of the horizon drawn on the axis; the rest is collapsed
    /// into a note on either side.
    pub window: TimeRange,
    /// Why the drawn window starts and ends where it does, for the notes.
    pub collapsed: Collapsed,
    /// Where a meeting may lie: not-before to the evidence deadline.
    pub allowed: TimeRange,
    pub meeting_minutes: u32,
    pub bucket_minutes: u32,
    /// "FEASIBLE", "NEEDS_EXCEPTION" or "INFEASIBLE".
    pub outcome: String,
    /// For an answer without a slot: the one sentence a reader needs first.
    pub headline: Option<String>,
    /// Escalation codes, for the header.
    pub escalation_reasons: Vec<String>,
    /// One group of rows per role, in the request's order; people in no
    /// role's pool (optional attendees) come last in their own group.
    pub groups: Vec<RoleGroup>,
    pub freezes: Vec<Freeze>,
    pub review: Option<ReviewLoad>,
    /// Ranked slots, best first.
    pub slots: Vec<SlotMark>,
    /// The best relaxation's slot when there is no slot as given; drawn dashed.
    pub proposal: Option<Proposal>,
    /// Runs of rejected grid starts, each coloured by its reason.
    pub rejected: Vec<RejectedRun>,
}

/// What the drawn window leaves out on each side, if anything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Collapsed {
    /// Horizon before the window (before not-before, nothing to show there).
    pub before: Option<TimeRange>,
    /// Horizon after the window (after the deadline and the last slot).
    pub after: Option<TimeRange>,
}

/// A role and the people who may fill it.
#[derive(Debug, Clone)]
pub struct RoleGroup {
    /// The role's name as the request gives it ("security reviewer").
    pub label: String,
    pub rows: Vec<PersonRow>,
}

/// One person's row: who, in which zone, and their time.
#[derive(Debug, Clone)]
pub struct PersonRow {
    pub id: String,
    pub display_name: String,
    pub zone: Tz,
    /// A confirmed (or unconfirmed) delegate rather than a pool member.
    pub delegate: Option<bool>,
    /// Working intervals inside the horizon, read in the person's own zone.
    pub working: Vec<TimeRange>,
    pub busy: Vec<BusyBlock>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BusyBlock {
    pub range: TimeRange,
    /// Tentative time is drawn lighter: it may still move.
    pub status: BusyStatus,
}

/// A freeze window or blackout, drawn across every row.
#[derive(Debug, Clone)]
pub struct Freeze {
    pub id: String,
    pub kind: FreezeKind,
    pub reason: String,
    pub range: TimeRange,
}

/// Production reviews already booked, against the capacity.
#[derive(Debug, Clone)]
pub struct ReviewLoad {
    pub max_concurrent: u32,
    /// Maximal ranges of constant, non-zero load, in time order.
    pub steps: Vec<(TimeRange, u32)>,
}

/// One ranked slot and who fills which role in it.
#[derive(Debug, Clone)]
pub struct SlotMark {
    pub rank: u32,
    pub range: TimeRange,
    /// (role label, person id, via a confirmed delegate).
    pub assignments: Vec<(String, String, bool)>,
    pub optional_attendees: Vec<String>,
    pub cost: i64,
}

/// The slot a relaxation would open, and what it asks a human to approve.
#[derive(Debug, Clone)]
pub struct Proposal {
    pub slot: SlotMark,
    pub description: String,
}

/// The reason a run of starts was rejected, as the colour key knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reason {
    RolePool,
    WorkingHours,
    Busy,
    OnePersonOneRole,
    Freeze,
    ReviewCapacity,
    NotBefore,
    Deadline,
    Other,
}

impl Reason {
    /// Every reason, in the legend's order.
    pub const ALL: [Reason; 9] = [
        Reason::Busy,
        Reason::WorkingHours,
        Reason::RolePool,
        Reason::OnePersonOneRole,
        Reason::Freeze,
        Reason::ReviewCapacity,
        Reason::NotBefore,
        Reason::Deadline,
        Reason::Other,
    ];

    /// The legend's words for it.
    pub fn label(self) -> &'static str {
        match self {
            Reason::RolePool => "no one of a role's pool",
            Reason::WorkingHours => "outside working hours",
            Reason::Busy => "busy",
            Reason::OnePersonOneRole => "one person, one role",
            Reason::Freeze => "freeze or blackout",
            Reason::ReviewCapacity => "review capacity full",
            Reason::NotBefore => "before not-before",
            Reason::Deadline => "past the evidence deadline",
            Reason::Other => "other",
        }
    }

    /// The CSS class that colours it.
    pub fn class(self) -> &'static str {
        match self {
            Reason::RolePool => "r-pool",
            Reason::WorkingHours => "r-hours",
            Reason::Busy => "r-busy",
            Reason::OnePersonOneRole => "r-one",
            Reason::Freeze => "r-freeze",
            Reason::ReviewCapacity => "r-review",
            Reason::NotBefore => "r-before",
            Reason::Deadline => "r-deadline",
            Reason::Other => "r-other",
        }
    }
}

/// Consecutive grid starts rejected for the same reasons.
#[derive(Debug, Clone)]
pub struct RejectedRun {
    /// From the first rejected start to one bucket past the last.
    pub starts: TimeRange,
    /// The reason that colours the run.
    pub reason: Reason,
    /// The whole explanation, shown on hover.
    pub text: String,
}
