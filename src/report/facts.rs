//! External facts in words: each constraint of the request by its label
//! ("working hours of sec-2 (security reviewer pool, Europe/Berlin)") and,
//! in a proof, with its time ranges in the reader's zone and the person's.

use super::{Reporter, time};
use quorum_domain::{ConstraintKind, ConstraintRef, Person, PersonId, RequiredRole, RoleId};

impl Reporter<'_> {
    fn person(&self, id: &str) -> Option<&Person> {
        self.problem.person(&PersonId(id.to_owned()))
    }

    pub(super) fn role(&self, id: &str) -> Option<&RequiredRole> {
        self.problem.roles.iter().find(|r| r.id.0 == id)
    }

    /// "release manager", or the id when the request names no role so.
    pub(super) fn role_name<'a>(&'a self, id: &'a RoleId) -> &'a str {
        self.role(&id.0).map_or(id.0.as_str(), |r| r.label())
    }

    /// "security reviewer pool, " for the roles a person may fill.
    fn pools_of(&self, person: &str) -> String {
        let roles: Vec<&str> = self
            .problem
            .roles
            .iter()
            .filter(|r| {
                r.pool.iter().any(|p| p.0 == person)
                    || r.delegates.iter().any(|d| d.person.0 == person)
            })
            .map(RequiredRole::label)
            .collect();
        if roles.is_empty() {
            String::new()
        } else {
            format!("{} pool, ", roles.join(" / "))
        }
    }

    fn person_label(&self, what: &str, id: &str) -> String {
        let zone = self.person(id).map_or("?", |p| p.time_zone.name());
        format!("{what} of {id} ({}{zone})", self.pools_of(id))
    }

    fn role_label(&self, id: &str) -> String {
        let Some(role) = self.role(id) else {
            return format!("role {id}");
        };
        let pool: Vec<&str> = role.pool.iter().map(|p| p.0.as_str()).collect();
        let confirmed: Vec<&str> = role
            .delegates
            .iter()
            .filter(|d| d.authority_confirmed)
            .map(|d| d.person.0.as_str())
            .collect();
        let mut label = format!("{} pool {{{}}}", role.label(), pool.join(", "));
        if !confirmed.is_empty() {
            label.push_str(&format!(
                " with confirmed delegates {{{}}}",
                confirmed.join(", ")
            ));
        }
        label
    }

    /// The constraint as the user knows it, times in the reader's zone.
    pub fn label(&self, c: &ConstraintRef) -> String {
        let zone = self.zone;
        let problem = self.problem;
        match c.kind {
            ConstraintKind::RoleRequirement => self.role_label(&c.id),
            ConstraintKind::WorkingHours => self.person_label("working hours", &c.id),
            ConstraintKind::BusyTime => self.person_label("busy time", &c.id),
            ConstraintKind::OnePersonOneRole => "one-person-one-role rule".to_owned(),
            ConstraintKind::FreezeWindow => problem
                .freeze_windows
                .iter()
                .find(|f| f.id == c.id)
                .map_or_else(
                    || format!("freeze window {}", c.id),
                    |f| {
                        format!(
                            "{} {} ({})",
                            f.kind.label(),
                            f.id,
                            time::span(&f.range, zone)
                        )
                    },
                ),
            ConstraintKind::ReviewCapacity => {
                let capacity = problem.review_capacity.as_ref();
                let booked: Vec<&str> = capacity.map_or(Vec::new(), |c| {
                    c.booked.iter().map(|b| b.change_ticket.as_str()).collect()
                });
                let limit = capacity.map_or(0, |c| c.max_concurrent);
                format!("review capacity {limit} (booked: {})", booked.join(", "))
            }
            ConstraintKind::NotBefore => {
                let at = problem.not_before.unwrap_or(problem.horizon.start);
                format!("not-before time {}", time::instant(at, zone))
            }
            ConstraintKind::EvidenceDeadline => {
                let at = problem.evidence_deadline.unwrap_or(problem.horizon.end);
                format!("evidence deadline {}", time::instant(at, zone))
            }
        }
    }

    /// A fact of a proof: its label and, where the label does not already
    /// say it, its time ranges (a person's with their own time beside).
    pub(super) fn fact(&self, c: &ConstraintRef) -> String {
        let label = self.label(c);
        let theirs = self.person(&c.id).map(|p| p.time_zone);
        match (c.kind, theirs) {
            (ConstraintKind::WorkingHours, Some(_)) if c.ranges.is_empty() => {
                format!("{label}: none in the horizon")
            }
            (ConstraintKind::WorkingHours | ConstraintKind::BusyTime, Some(theirs)) => format!(
                "{label}: {}",
                time::personal_ranges(&c.ranges, self.zone, theirs)
            ),
            (ConstraintKind::ReviewCapacity, _) if !c.ranges.is_empty() => {
                format!("{label}, full in {}", time::ranges(&c.ranges, self.zone))
            }
            _ => label,
        }
    }
}

/// A constraint's label when only the constraint is at hand (a programme's
/// milestone conflict, whose slot problem the response no longer holds):
/// its kind and id, no times.
pub fn bare_label(c: &ConstraintRef) -> String {
    match c.kind {
        ConstraintKind::RoleRequirement => format!("{} pool", c.id),
        ConstraintKind::WorkingHours => format!("working hours of {}", c.id),
        ConstraintKind::BusyTime => format!("busy time of {}", c.id),
        ConstraintKind::OnePersonOneRole => "one-person-one-role rule".to_owned(),
        ConstraintKind::FreezeWindow => format!("freeze window {}", c.id),
        ConstraintKind::ReviewCapacity => "review capacity".to_owned(),
        ConstraintKind::NotBefore => "not-before time".to_owned(),
        ConstraintKind::EvidenceDeadline => "evidence deadline".to_owned(),
    }
}

/// "Because of the A, and because of the B, no slot exists." from bare labels.
pub fn bare_conflict(constraints: &[ConstraintRef]) -> String {
    let reasons: Vec<String> = constraints.iter().map(bare_label).collect();
    format!(
        "Because of the {}, no slot exists.",
        reasons.join(", and because of the ")
    )
}
