//! The derivation tree in words: the headline (the primary reason and the
//! lemma that decides it, one sentence) and the proof, indented, in the
//! shape of pubgrub's reporter: each lemma is written once, and a lemma used
//! again (the team's meeting windows under every blocker) is numbered where
//! it is first written and named by number afterwards. The secondary
//! reasons follow the root, each "Also (CODE): …" with what it rests on.

use super::{Reporter, time};
use quorum_domain::{Claim, Derivation, ProofStep, TimeRange};
use std::fmt::Write;

impl Reporter<'_> {
    /// A claim as a clause: "the roles can all meet only in …".
    fn claim(&self, claim: &Claim) -> String {
        let zone = self.zone;
        let minutes = self.problem.meeting_minutes;
        match claim {
            Claim::NoSlot { reason } => format!(
                "no {minutes}-minute slot exists ({})",
                crate::cli::find_slots::screaming(&format!("{reason:?}"))
            ),
            Claim::WindowEmpty {
                not_before,
                deadline,
            } => format!(
                "no {minutes}-minute meeting fits between the not-before time {} and the evidence deadline {}",
                time::instant(*not_before, zone),
                time::instant(*deadline, zone)
            ),
            Claim::RoleStaffedOnlyIn {
                role,
                window,
                meetings,
            } if meetings.is_empty() => format!(
                "nobody in the {} pool is available for {minutes} minutes at any time from {} to {}",
                self.role_name(role),
                time::instant(window.start, zone),
                time::instant(window.end, zone)
            ),
            Claim::RoleStaffedOnlyIn { role, meetings, .. } => format!(
                "the {} role can be staffed only in {}",
                self.role_name(role),
                time::ranges(meetings, zone)
            ),
            Claim::RolesNeverTogether { roles, window } => {
                let names: Vec<&str> = roles.iter().map(|r| self.role_name(r)).collect();
                format!(
                    "the {} roles can each be staffed at some time from {} to {}, but never all at once",
                    names.join(" and "),
                    time::instant(window.start, zone),
                    time::instant(window.end, zone)
                )
            }
            Claim::SamePersonNeeded { meetings } => format!(
                "every role has someone only in {}, and there only if one person held two roles",
                time::ranges(meetings, zone)
            ),
            Claim::TeamMeetsOnlyIn { meetings } => format!(
                "the roles can all meet only in {}",
                time::ranges(meetings, zone)
            ),
            Claim::FrozenIn {
                freeze_window,
                meetings,
            } => format!(
                "freeze window {freeze_window} covers {}",
                time::ranges(meetings, zone)
            ),
            Claim::CapacityFullIn { meetings, booked } => format!(
                "the review capacity of {} is full in {} (booked: {})",
                self.capacity_limit(),
                time::ranges(meetings, zone),
                booked.join(", ")
            ),
            Claim::SlotWithoutWindow { meeting } => format!(
                "ignoring the not-before time and the evidence deadline, the roles could meet {}",
                time::ranges(std::slice::from_ref(meeting), zone)
            ),
            Claim::AfterHoursOpens {
                person,
                minutes,
                meeting,
                outside,
            } => format!(
                "{person} attending {minutes} minutes {}{} opens {}",
                self.day_edge(person, outside),
                self.their_time(person, outside),
                time::ranges(std::slice::from_ref(meeting), zone)
            ),
        }
    }

    /// Where the after-hours part of a meeting falls in the person's day:
    /// one part that ends where a working window of theirs begins is before
    /// their day starts, one that begins where a window ends is after it
    /// ends; anything else is just outside their working hours.
    fn day_edge(&self, person: &quorum_domain::PersonId, outside: &[TimeRange]) -> &'static str {
        let (Some(who), [part]) = (self.problem.person(person), outside) else {
            return "outside their working hours";
        };
        let day = chrono::Duration::days(1);
        let windows = who.working_intervals(TimeRange::new(part.start - day, part.end + day));
        if windows.iter().any(|w| w.start == part.end) {
            "before their day starts"
        } else if windows.iter().any(|w| w.end == part.start) {
            "after their day ends"
        } else {
            "outside their working hours"
        }
    }

    /// " (Tue 08:00–09:00 America/New_York, their time)": when a person
    /// would attend, on their own clock.
    fn their_time(&self, person: &quorum_domain::PersonId, ranges: &[TimeRange]) -> String {
        match self.problem.person(person) {
            Some(who) if !ranges.is_empty() => {
                let local: Vec<String> = ranges
                    .iter()
                    .map(|r| time::local_range(r, who.time_zone))
                    .collect();
                format!(
                    " ({} {}, their time)",
                    local.join(", "),
                    who.time_zone.name()
                )
            }
            _ => String::new(),
        }
    }

    fn capacity_limit(&self) -> u32 {
        self.problem
            .review_capacity
            .as_ref()
            .map_or(0, |c| c.max_concurrent)
    }

    /// The lemmas the root rests on directly.
    fn decisive<'d>(&self, proof: &'d Derivation) -> Vec<&'d Claim> {
        let Some(ProofStep::Lemma { because, .. }) = proof.root().and_then(|r| proof.step(r))
        else {
            return Vec::new();
        };
        because
            .iter()
            .filter_map(|&i| match proof.step(i) {
                Some(ProofStep::Lemma { claim, .. }) => Some(claim),
                _ => None,
            })
            .collect()
    }

    /// One sentence: the primary reason and the lemma that decides it.
    pub fn headline(&self, proof: &Derivation) -> String {
        let decisive = self.decisive(proof);
        let blockers: Vec<String> = decisive
            .iter()
            .filter_map(|c| match c {
                Claim::FrozenIn { freeze_window, .. } => {
                    Some(format!("freeze window {freeze_window}"))
                }
                Claim::CapacityFullIn { .. } => Some(format!(
                    "the review capacity of {}, already full",
                    self.capacity_limit()
                )),
                _ => None,
            })
            .collect();
        let sentence = match decisive.first() {
            Some(team @ Claim::TeamMeetsOnlyIn { .. }) if !blockers.is_empty() => format!(
                "{}, and every one of them is blocked by {}",
                self.claim(team),
                blockers.join(" and ")
            ),
            _ => {
                let clauses: Vec<String> = decisive.iter().map(|c| self.claim(c)).collect();
                clauses.join("; ")
            }
        };
        format!("No slot: {sentence}.")
    }

    /// The whole tree, root first, each level indented two spaces.
    pub fn proof(&self, proof: &Derivation) -> String {
        let mut writer = ProofWriter {
            reporter: self,
            proof,
            references: proof.references(),
            numbers: vec![None; proof.steps.len()],
            next_number: 1,
            out: String::new(),
        };
        if let Some(root) = proof.root() {
            writer.step(root, 0, "");
        }
        for (index, claim) in proof.secondary_claims() {
            let code = claim.secondary_reason().map_or_else(String::new, |code| {
                crate::cli::find_slots::screaming(&format!("{code:?}"))
            });
            writer.step(index, 0, &format!("Also ({code}): "));
        }
        writer.out
    }
}

struct ProofWriter<'r, 'p, 'd> {
    reporter: &'r Reporter<'p>,
    proof: &'d Derivation,
    references: Vec<u32>,
    /// The number a shared lemma was given where it was first written.
    numbers: Vec<Option<u32>>,
    next_number: u32,
    out: String,
}

impl ProofWriter<'_, '_, '_> {
    /// Writes step `index` at `depth`, its first line after `lead` (the
    /// "Also (CODE): " of a secondary reason).
    fn step(&mut self, index: u32, depth: usize, lead: &str) {
        let indent = "  ".repeat(depth);
        let i = index as usize;
        match self.proof.step(index) {
            None => {}
            Some(ProofStep::Fact(fact)) => {
                let _ = writeln!(self.out, "{indent}- {}", self.reporter.fact(fact));
            }
            Some(ProofStep::Lemma { claim, because }) => {
                if let Some(n) = self.numbers[i] {
                    let bullet = if lead.is_empty() { "- " } else { lead };
                    let _ = writeln!(self.out, "{indent}{bullet}({n}) above");
                    return;
                }
                let mut label = String::new();
                if self.references[i] > 1 {
                    let n = self.next_number;
                    self.next_number += 1;
                    self.numbers[i] = Some(n);
                    label = format!("({n}) ");
                }
                let mut text = self.reporter.claim(claim);
                if lead.is_empty() {
                    text = capitalise(&text);
                }
                let end = if because.is_empty() {
                    "."
                } else {
                    ", because:"
                };
                let _ = writeln!(self.out, "{indent}{lead}{label}{text}{end}");
                for &cause in because {
                    self.step(cause, depth + 1, "");
                }
            }
        }
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}
