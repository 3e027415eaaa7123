//! Tickets' release owners, remembered by the service. Every hold the broker
//! returns carries its ticket's owner, and asking the store costs a second
//! transaction per call — on PostgreSQL three more round trips for every
//! placement, which is where the replicas' tail latency comes from. A ticket's
//! owner never changes once named (registration refuses a different one, on
//! every replica alike, because the store's row is the one truth), so a
//! remembered owner can never be stale; a ticket with no owner yet is never
//! remembered, so a later registration shows at once.

use quorum_holds::{HoldError, HoldStore};
use std::collections::HashMap;
use std::ops::Deref;
use std::sync::Mutex;

/// How many tickets' owners are remembered before the memory starts over:
/// bounds it at about a megabyte however many tickets pass through.
const REMEMBERED_TICKETS: usize = 10_000;

#[derive(Debug, Default)]
pub struct KnownOwners {
    owners: Mutex<HashMap<String, String>>,
}

impl KnownOwners {
    /// The ticket's owner, from memory when it was seen before.
    pub fn release_owner(
        &self,
        store: &dyn HoldStore,
        ticket: &str,
    ) -> Result<Option<String>, HoldError> {
        if let Some(owner) = self.remembered().get(ticket) {
            return Ok(Some(owner.clone()));
        }
        let owner = store.release_owner(ticket)?;
        if let Some(owner) = &owner {
            let mut owners = self.remembered();
            if owners.len() >= REMEMBERED_TICKETS {
                owners.clear();
            }
            owners.insert(ticket.to_owned(), owner.clone());
        }
        Ok(owner)
    }

    fn remembered(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        // A map of immutable facts stays right even if a holder panicked.
        self.owners
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The store as a handler's blocking work sees it: every store call, with
/// `release_owner` answered from [`KnownOwners`] where it can be.
pub struct StoreView<'a> {
    store: &'a dyn HoldStore,
    owners: &'a KnownOwners,
}

impl<'a> StoreView<'a> {
    pub fn new(store: &'a dyn HoldStore, owners: &'a KnownOwners) -> Self {
        Self { store, owners }
    }

    pub fn release_owner(&self, ticket: &str) -> Result<Option<String>, HoldError> {
        self.owners.release_owner(self.store, ticket)
    }
}

impl<'a> Deref for StoreView<'a> {
    type Target = dyn HoldStore + 'a;

    fn deref(&self) -> &Self::Target {
        self.store
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quorum_domain::SystemClock;
    use quorum_holds::{HoldPolicy, Principal, Scope, SqliteHoldStore};
    use std::sync::Arc;

    #[test]
    fn an_owner_is_remembered_once_named_and_absence_never_is() {
        let dir = tempfile::tempdir().expect("dir");
        let store = SqliteHoldStore::open(
            &dir.path().join("holds.db"),
            Arc::new(SystemClock),
            None,
            HoldPolicy::default(),
        )
        .expect("store");
        let owners = KnownOwners::default();
        let view = StoreView::new(&store, &owners);
        // Not yet named: asked of the store, and not remembered.
        assert_eq!(view.release_owner("CHG-1").expect("read"), None);
        assert!(owners.remembered().is_empty());
        let admin = Principal::new("root", [Scope::Admin]);
        view.register_ticket("CHG-1", "olga", &admin)
            .expect("named");
        // Named since: the store's answer shows at once, then is remembered.
        assert_eq!(
            view.release_owner("CHG-1").expect("read"),
            Some("olga".to_owned())
        );
        assert_eq!(
            owners.remembered().get("CHG-1").map(String::as_str),
            Some("olga")
        );
        // Remembered, so answered without the store: a store that never
        // heard of the ticket still gets olga back through the same memory.
        let other = SqliteHoldStore::open(
            &dir.path().join("other.db"),
            Arc::new(SystemClock),
            None,
            HoldPolicy::default(),
        )
        .expect("store");
        assert_eq!(
            StoreView::new(&other, &owners)
                .release_owner("CHG-1")
                .expect("read"),
            Some("olga".to_owned())
        );
    }
}
