//! Who fills which role at one start: a bipartite matching of roles to the
//! distinct people available then.
//!
//! Written by hand rather than taken from a crate because the graphs are tiny
//! (tens of roles) and rebuilt for every candidate start: the general-purpose
//! assignment solvers on crates.io are weighted O(n³) algorithms over dense
//! matrices, far more than the augmenting-path check a start needs.

use crate::presolve::{Presolve, RoleCandidate};

/// Roles' candidates available at one start, in preference order.
pub struct StartRoles {
    options: Vec<Vec<RoleCandidate>>,
}

impl StartRoles {
    /// Roles' options as given: the explainer builds them under relaxed rules.
    pub fn new(options: Vec<Vec<RoleCandidate>>) -> Self {
        Self { options }
    }

    pub fn at(presolve: &Presolve<'_>, start: usize) -> Self {
        let options = presolve
            .roles
            .iter()
            .map(|candidates| {
                candidates
                    .iter()
                    .copied()
                    .filter(|c| presolve.is_available(c.person, start))
                    .collect()
            })
            .collect();
        Self { options }
    }

    /// Whether every role can be filled, by distinct people unless `shared`.
    pub fn fillable(&self, shared: bool) -> bool {
        fillable(&self.options, shared)
    }

    /// The canonical assignment: each role, in request order, takes the first of
    /// its candidates that still leaves the later roles fillable. `None` when the
    /// roles cannot all be filled.
    pub fn assignment(&self, shared: bool) -> Option<Vec<RoleCandidate>> {
        if shared {
            return self.options.iter().map(|o| o.first().copied()).collect();
        }
        let mut fixed: Vec<RoleCandidate> = Vec::with_capacity(self.options.len());
        for r in 0..self.options.len() {
            let choice = self.options[r].iter().copied().find(|c| {
                if fixed.iter().any(|f| f.person == c.person) {
                    return false;
                }
                fixed.push(*c);
                let rest = Matcher::new(&self.options, &fixed).fill_from(r + 1);
                fixed.pop();
                rest
            })?;
            fixed.push(choice);
        }
        Some(fixed)
    }
}

/// Whether every role can be filled (by distinct people unless `shared`),
/// over options the caller holds, so a loop over thousands of starts can
/// refill one buffer instead of allocating a list per role per start (which
/// was a fifth of a release programme's time, most of it in malloc/free).
pub fn fillable(options: &[Vec<RoleCandidate>], shared: bool) -> bool {
    if shared {
        return options.iter().all(|o| !o.is_empty());
    }
    greedy(options) || Matcher::new(options, &[]).fill_from(0)
}

/// Most starts are settled without the matching: each role, in order, takes
/// its first candidate nobody took yet. Success proves a matching exists;
/// failure proves nothing, and the caller runs the full matching. Up to 16
/// roles on the stack; more go straight to the matching.
fn greedy(options: &[Vec<RoleCandidate>]) -> bool {
    let mut taken = [usize::MAX; 16];
    if options.len() > taken.len() {
        return false;
    }
    for (role, candidates) in options.iter().enumerate() {
        match candidates
            .iter()
            .find(|c| !taken[..role].contains(&c.person))
        {
            Some(c) => taken[role] = c.person,
            None => return false,
        }
    }
    true
}

/// Kuhn's augmenting-path matching over the roles from some index on, with
/// some people already taken.
struct Matcher<'a> {
    options: &'a [Vec<RoleCandidate>],
    taken: &'a [RoleCandidate],
    /// (person, role) pairs matched so far.
    owner: Vec<(usize, usize)>,
    visited: Vec<usize>,
}

impl<'a> Matcher<'a> {
    fn new(options: &'a [Vec<RoleCandidate>], taken: &'a [RoleCandidate]) -> Self {
        Self {
            options,
            taken,
            owner: Vec::with_capacity(options.len()),
            visited: Vec::new(),
        }
    }

    fn fill_from(&mut self, first_role: usize) -> bool {
        (first_role..self.options.len()).all(|role| {
            self.visited.clear();
            self.augment(role)
        })
    }

    fn augment(&mut self, role: usize) -> bool {
        for candidate in &self.options[role] {
            let person = candidate.person;
            if self.taken.iter().any(|t| t.person == person) || self.visited.contains(&person) {
                continue;
            }
            self.visited.push(person);
            match self.owner.iter().position(|(p, _)| *p == person) {
                None => {
                    self.owner.push((person, role));
                    return true;
                }
                Some(slot) => {
                    let holder = self.owner[slot].1;
                    if self.augment(holder) {
                        // `augment` may have pushed; find this person's entry again.
                        if let Some(entry) = self.owner.iter_mut().find(|(p, _)| *p == person) {
                            entry.1 = role;
                        }
                        return true;
                    }
                }
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(person: usize) -> RoleCandidate {
        RoleCandidate {
            person,
            via_delegate: false,
        }
    }

    fn roles(options: &[&[usize]]) -> StartRoles {
        StartRoles {
            options: options
                .iter()
                .map(|o| o.iter().map(|p| c(*p)).collect())
                .collect(),
        }
    }

    #[test]
    fn distinct_people_are_required_unless_shared() {
        let start = roles(&[&[1], &[1]]);
        assert!(!start.fillable(false));
        assert!(start.fillable(true));
        assert_eq!(start.assignment(true), Some(vec![c(1), c(1)]));
    }

    #[test]
    fn augmenting_path_reassigns_an_earlier_role() {
        let start = roles(&[&[1, 2], &[1]]);
        assert!(start.fillable(false));
        // Role 0 prefers 1, but that would leave role 1 empty.
        assert_eq!(start.assignment(false), Some(vec![c(2), c(1)]));
    }

    #[test]
    fn long_augmenting_chain_is_found() {
        let start = roles(&[&[1, 2], &[2, 3], &[3, 4], &[1]]);
        assert!(start.fillable(false));
        assert_eq!(start.assignment(false), Some(vec![c(2), c(3), c(4), c(1)]));
    }

    #[test]
    fn more_roles_than_the_greedy_pass_holds_still_match() {
        let many: Vec<Vec<usize>> = (0..20).map(|p| vec![p, p + 1]).collect();
        let options: Vec<&[usize]> = many.iter().map(Vec::as_slice).collect();
        assert!(roles(&options).fillable(false));
        let mut crowded = options.clone();
        crowded.push(&[0]);
        crowded.push(&[0]);
        assert!(!roles(&crowded).fillable(false));
    }

    #[test]
    fn hall_violation_is_unfillable() {
        let start = roles(&[&[1, 2], &[1, 2], &[2, 1], &[3]]);
        assert!(!start.fillable(false));
        assert_eq!(start.assignment(false), None);
    }
}
