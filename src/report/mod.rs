//! The one reporter: explanations are data in the domain (a derivation tree,
//! conflicts of typed constraints, relaxations as kinds), and this module is
//! where they become words, at the edge, for both the service (which fills
//! the response's text fields in the request's `display_time_zone`) and the
//! CLI (which asks for its `--zone`). Times are written in the reader's zone,
//! with each person's own local time beside theirs. Nothing here decides
//! anything: wording changes never change an answer.

mod facts;
mod proof;
mod sentences;
pub mod time;

pub use facts::{bare_conflict, bare_label};

use chrono_tz::Tz;
use quorum_domain::{Explanation, SlotProblem};

/// Words for one problem's explanation in one reader's zone.
pub struct Reporter<'p> {
    problem: &'p SlotProblem,
    zone: Tz,
}

/// Every text field of one explanation, in the order of the data it words.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Words {
    pub headline: String,
    pub proof: String,
    /// One sentence per conflict.
    pub conflicts: Vec<String>,
    /// One sentence per relaxation.
    pub relaxations: Vec<String>,
    /// Per combination: its sentence, and one per change in it.
    pub combinations: Vec<(String, Vec<String>)>,
}

impl<'p> Reporter<'p> {
    pub fn new(problem: &'p SlotProblem, zone: Tz) -> Self {
        Self { problem, zone }
    }

    pub fn zone(&self) -> Tz {
        self.zone
    }

    pub fn problem(&self) -> &'p SlotProblem {
        self.problem
    }

    /// The headline, the proof, and a sentence per conflict and relaxation.
    pub fn words(&self, explanation: &Explanation) -> Words {
        let (headline, proof) = explanation
            .derivation
            .as_ref()
            .map(|d| (self.headline(d), self.proof(d)))
            .unwrap_or_default();
        Words {
            headline,
            proof,
            conflicts: explanation
                .conflicts
                .iter()
                .map(|c| self.conflict(c))
                .collect(),
            relaxations: explanation
                .relaxations
                .iter()
                .map(|r| self.relaxation(r))
                .collect(),
            combinations: explanation
                .combinations
                .iter()
                .map(|c| self.combination(c))
                .collect(),
        }
    }
}
