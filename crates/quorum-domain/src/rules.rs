//! The rules around a meeting that are not about people: freeze windows and
//! launch blackouts, production review capacity, and preference windows.

use crate::TimeRange;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum FreezeKind {
    #[default]
    ChangeFreeze,
    LaunchBlackout,
    EvidenceFreeze,
}

impl FreezeKind {
    pub fn label(self) -> &'static str {
        match self {
            Self::ChangeFreeze => "change freeze",
            Self::LaunchBlackout => "launch blackout",
            Self::EvidenceFreeze => "evidence freeze",
        }
    }
}

/// No meeting may overlap a freeze window.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FreezeWindow {
    pub id: String,
    pub range: TimeRange,
    pub kind: FreezeKind,
    pub reason: String,
    /// Who may approve holding a meeting inside it; empty when not given.
    pub owner: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BookedReview {
    pub change_ticket: String,
    pub range: TimeRange,
}

/// At every instant at most `max_concurrent` production reviews run, the booked
/// ones plus the one being placed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReviewCapacity {
    pub max_concurrent: u32,
    pub booked: Vec<BookedReview>,
}

/// A start inside `range` earns `weight_minutes` off its cost.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PreferenceWindow {
    pub id: String,
    pub range: TimeRange,
    pub weight_minutes: i64,
}
