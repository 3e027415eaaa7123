//! Conflicts and relaxations as sentences, times in the reader's zone and,
//! for a person's own change, in theirs.

use super::{Reporter, time};
use quorum_domain::{BusyStatus, Conflict, Relaxation, RelaxationCombination, RelaxationKind};

impl Reporter<'_> {
    /// "Because of the A, and because of the B, no 60-minute slot exists in
    /// the horizon …".
    pub fn conflict(&self, conflict: &Conflict) -> String {
        let reasons = self.conflict_reasons(conflict);
        format!(
            "Because of the {}, no {}-minute slot exists in the horizon {}.",
            reasons.join(", and because of the "),
            self.problem.meeting_minutes,
            time::span(&self.problem.horizon, self.zone)
        )
    }

    /// Each member's label, a group's members folded into their role's:
    /// "security reviewer pool {sec-1, sec-2}, whose calendars all fail
    /// together (busy time of sec-1, busy time of sec-2)".
    fn conflict_reasons(&self, conflict: &Conflict) -> Vec<String> {
        let mut grouped = vec![None; conflict.constraints.len()];
        for (g, group) in conflict.groups.iter().enumerate() {
            for &m in &group.members {
                if let Some(slot) = grouped.get_mut(m as usize) {
                    slot.get_or_insert(g);
                }
            }
        }
        let mut reasons = Vec::new();
        for (i, c) in conflict.constraints.iter().enumerate() {
            match grouped[i] {
                None => reasons.push(self.label(c)),
                Some(g) if conflict.groups[g].members.first() == Some(&(i as u32)) => {
                    let calendars: Vec<String> = conflict.groups[g].members[1..]
                        .iter()
                        .filter_map(|&m| conflict.constraints.get(m as usize))
                        .map(|m| self.label(m))
                        .collect();
                    reasons.push(format!(
                        "{}, whose calendars all fail together ({})",
                        self.label(c),
                        calendars.join(", ")
                    ));
                }
                Some(_) => {}
            }
        }
        reasons
    }

    /// What the relaxation asks and the slot it opens.
    pub fn relaxation(&self, relaxation: &Relaxation) -> String {
        let slot = &relaxation.best_slot.range;
        format!(
            "{}: opens {}.",
            capitalise(&self.change(&relaxation.kind, slot)),
            time::span(slot, self.zone)
        )
    }

    /// A combination: its changes joined, and the slot they open together;
    /// and each change on its own.
    pub fn combination(&self, combination: &RelaxationCombination) -> (String, Vec<String>) {
        let slot = &combination.best_slot.range;
        let changes: Vec<String> = combination
            .changes
            .iter()
            .map(|c| self.change(c, slot))
            .collect();
        let sentence = format!(
            "{}: together they open {}.",
            capitalise(&changes.join("; and ")),
            time::span(slot, self.zone)
        );
        (sentence, changes.iter().map(|c| capitalise(c)).collect())
    }

    /// What one change asks, for a meeting at `slot`.
    fn change(&self, kind: &RelaxationKind, slot: &quorum_domain::TimeRange) -> String {
        match kind {
            RelaxationKind::ConfirmDelegate { role, person } => format!(
                "confirm {person}'s authority to stand in as {}",
                self.role_name(role)
            ),
            RelaxationKind::AfterHours { person, minutes } => {
                let local = self.problem.person(person).map_or_else(String::new, |who| {
                    format!(
                        " ({} {}, their time)",
                        time::local_range(slot, who.time_zone),
                        who.time_zone.name()
                    )
                });
                format!(
                    "ask {person} to attend {minutes} minutes outside their working hours{local}"
                )
            }
            RelaxationKind::MoveEvidenceDeadline { minutes } => {
                format!("move the evidence deadline {minutes} minutes later")
            }
            RelaxationKind::ExceedReviewCapacity { extra_reviews } => format!(
                "run {extra_reviews} more production review(s) at once than the capacity allows"
            ),
            RelaxationKind::OverrideFreezeWindow { id } => format!("override freeze window {id}"),
            RelaxationKind::MoveCommitments {
                person, intervals, ..
            } => {
                let theirs = self.problem.person(person).map(|p| p.time_zone);
                let moved: Vec<String> = intervals
                    .iter()
                    .map(|b| {
                        let mine = time::short_range(&b.range, self.zone);
                        let local = match theirs {
                            Some(tz) if tz != self.zone => {
                                format!(", {} their time", time::local_range(&b.range, tz))
                            }
                            _ => String::new(),
                        };
                        format!("{mine} ({}{local})", status_word(b.status))
                    })
                    .collect();
                let what = if moved.len() == 1 {
                    "their commitment"
                } else {
                    "their commitments"
                };
                format!(
                    "ask {person} to move {what} {} ({})",
                    moved.join(", "),
                    self.zone.name()
                )
            }
        }
    }
}

fn status_word(status: BusyStatus) -> &'static str {
    match status {
        BusyStatus::Busy => "busy",
        BusyStatus::Tentative => "tentative",
        BusyStatus::OutOfOffice => "out of office",
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}
