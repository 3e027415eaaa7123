//! Roles a production change needs, each filled by one person of its pool or by
//! a delegate whose authority has been confirmed.

use crate::PersonId;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RoleId(pub String);

impl fmt::Display for RoleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Delegate {
    pub person: PersonId,
    /// Only a confirmed delegate may fill the role in a returned slot; an
    /// unconfirmed one can only ever be suggested for a human to approve.
    pub authority_confirmed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RequiredRole {
    pub id: RoleId,
    pub name: String,
    pub pool: Vec<PersonId>,
    pub delegates: Vec<Delegate>,
}

impl RequiredRole {
    /// Everyone who may fill the role as given, in preference order: the pool in
    /// request order, then confirmed delegates in request order. The flag says
    /// whether the candidate is a delegate.
    pub fn candidates(&self) -> impl Iterator<Item = (&PersonId, bool)> {
        let pool = self.pool.iter().map(|p| (p, false));
        let delegates = self
            .delegates
            .iter()
            .filter(|d| d.authority_confirmed && !self.pool.contains(&d.person))
            .map(|d| (&d.person, true));
        pool.chain(delegates)
    }

    /// "security reviewer" when named, else the id.
    pub fn label(&self) -> &str {
        if self.name.is_empty() {
            &self.id.0
        } else {
            &self.name
        }
    }
}
