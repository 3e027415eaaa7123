//! The hold rules, once, above any store: state checks, the release-owner
//! rule, the TTL policy, approval and claim checks, and which refusals are
//! audited. A store provides only transaction primitives ([`Storage`], [`Tx`]):
//! rows in, rows out, and the one rule a store must enforce atomically in its
//! own way — no two active holds of different tickets share a person in
//! overlapping time ([`Tx::insert_hold`], [`Tx::replace_attendees`]). SQLite
//! does it with its write lock, PostgreSQL with an exclusion constraint; the
//! model-based test runs the same rules against both.

mod approvals;
mod holds;
mod plan_approvals;
mod plan_tx;
mod plans;
mod reads;
mod refusals;

pub use plan_tx::{PlanRow, PlanTx};

use crate::{
    ApprovalGrant, HoldError, HoldFilter, HoldPolicy, HoldStore, Page, PageRequest, PlaceHold,
    PlacePlan, Principal, TokenSigner,
};
use chrono::{DateTime, Duration, Utc};
use quorum_domain::{
    AuditAction, AuditRecord, FieldViolation, Hold, HoldId, PersonId, PlanHold, PlanId,
    Substitution, TimeRange,
};

/// One audit record to append.
#[derive(Debug, Clone, Copy)]
pub struct AuditEntry<'a> {
    pub at: DateTime<Utc>,
    pub actor: &'a str,
    pub ticket: &'a str,
    pub hold: Option<&'a HoldId>,
    pub action: AuditAction,
    /// Cut to [`MAX_AUDIT_REASON_BYTES`] by the broker before it gets here.
    pub reason: &'a str,
}

/// A caller's refusals in the current minute (see `refusals`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefusalWindow {
    pub start: DateTime<Utc>,
    pub logged: i64,
    pub suppressed: i64,
}

/// Which holds a listing page wants, already checked and decoded.
#[derive(Debug, Clone)]
pub struct ListQuery<'a> {
    pub ticket: Option<&'a str>,
    pub person: Option<&'a str>,
    /// Overlapping this range, as Unix nanoseconds (`i64::MIN..i64::MAX` for all).
    pub from_ns: i64,
    pub to_ns: i64,
    pub include_inactive: bool,
    /// Only tickets this identity owns or placed holds on; `None` for all.
    pub viewer: Option<&'a str>,
    /// After this (start in Unix nanoseconds, hold id), in that order.
    pub after: (i64, String),
    pub limit: i64,
    pub now: DateTime<Utc>,
}

/// The rows one transaction reads and writes. Every method acts inside the
/// transaction it was handed in; none commits. Where a store has row locks,
/// [`Tx::load`] takes the hold's, so the rules see it unchanged until commit.
/// A held plan's rows are [`PlanTx`]'s.
pub trait Tx: PlanTx {
    /// The hold as stored (expiry not applied), or `NotFound`.
    fn load(&mut self, id: &HoldId) -> Result<Hold, HoldError>;
    fn ticket_of(&mut self, id: &HoldId) -> Result<Option<String>, HoldError>;
    fn release_owner(&mut self, ticket: &str) -> Result<Option<String>, HoldError>;
    fn name_owner(&mut self, ticket: &str, owner: &str, at: DateTime<Utc>)
    -> Result<(), HoldError>;
    /// Whether `identity` placed any hold on `ticket`.
    fn placed_on(&mut self, ticket: &str, identity: &str) -> Result<bool, HoldError>;
    /// The hold this requester placed with this idempotency key, and the
    /// fingerprint of the request that placed it.
    fn find_by_key(
        &mut self,
        requester: &str,
        key: &str,
    ) -> Result<Option<(HoldId, String)>, HoldError>;
    /// Inserts a new tentative hold and its attendees. Refuses with
    /// `Conflict` (naming the holds) when another ticket's hold, active at
    /// `now`, shares an attendee and overlaps the slot.
    fn insert_hold(
        &mut self,
        hold: &Hold,
        key: &str,
        fingerprint: &str,
        now: DateTime<Utc>,
    ) -> Result<(), HoldError>;
    /// Replaces a confirmed hold's attendees (approved substitutions), with
    /// the same `Conflict` rule as [`Tx::insert_hold`].
    fn replace_attendees(&mut self, hold: &Hold, now: DateTime<Utc>) -> Result<(), HoldError>;
    /// New expiry, next version.
    fn set_expiry(&mut self, id: &HoldId, expires_at: DateTime<Utc>) -> Result<(), HoldError>;
    /// Released with a reason, next version.
    fn set_released(&mut self, id: &HoldId, reason: &str) -> Result<(), HoldError>;
    /// Compare-and-set: tentative, at `version` and unexpired at `now` →
    /// confirmed, next version. `false` when the hold was not so.
    fn set_confirmed(
        &mut self,
        id: &HoldId,
        version: u64,
        now: DateTime<Utc>,
    ) -> Result<bool, HoldError>;
    /// Marks tentative holds at or past their expiry expired (next version)
    /// and returns (hold, ticket, expiry) of each.
    fn expire_due(
        &mut self,
        now: DateTime<Utc>,
    ) -> Result<Vec<(HoldId, String, DateTime<Utc>)>, HoldError>;
    fn record_approval(
        &mut self,
        token_id: &str,
        hold: &HoldId,
        approver: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), HoldError>;
    /// The hold a token was issued for, if this store issued it.
    fn approval_hold(&mut self, token_id: &str) -> Result<Option<String>, HoldError>;
    fn token_spent_at(&mut self, token_id: &str) -> Result<Option<DateTime<Utc>>, HoldError>;
    fn spend_token(
        &mut self,
        token_id: &str,
        hold: &HoldId,
        at: DateTime<Utc>,
    ) -> Result<(), HoldError>;
    fn audit(&mut self, entry: &AuditEntry<'_>) -> Result<(), HoldError>;
    fn refusal_window(&mut self, actor: &str) -> Result<Option<RefusalWindow>, HoldError>;
    fn set_refusal_window(&mut self, actor: &str, window: &RefusalWindow) -> Result<(), HoldError>;
    /// Ids and starts (Unix nanoseconds) of holds matching `query`, in order.
    fn list_holds(&mut self, query: &ListQuery<'_>) -> Result<Vec<(HoldId, i64)>, HoldError>;
    /// At most `limit` records of `ticket` after sequence `after`, in order.
    fn audit_page(
        &mut self,
        ticket: &str,
        after: i64,
        limit: i64,
    ) -> Result<Vec<AuditRecord>, HoldError>;
    /// Active holds of other tickets on these people within `within`.
    fn busy(
        &mut self,
        people: &[PersonId],
        within: TimeRange,
        except_ticket: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<crate::HeldTime>, HoldError>;
    /// Pairs of active holds of different tickets sharing a person in
    /// overlapping time; a correct store always returns none.
    fn overlapping_active_holds(
        &mut self,
        now: DateTime<Utc>,
    ) -> Result<Vec<(String, String)>, HoldError>;
}

/// A unit of work in one transaction, handed the store's "now".
pub type Work<'w, T> = dyn FnMut(&mut dyn Tx, DateTime<Utc>) -> Result<T, HoldError> + 'w;

/// What a store provides: transactions, and its clock.
pub trait Storage: Send + Sync {
    /// Runs `work` in one write transaction, committed only if it returns
    /// `Ok`, with "now" read once inside it. A store may run `work` again
    /// when a concurrent transaction got in its way (a serialization failure,
    /// a lost race on a unique key); `work` must not act outside the store.
    fn write<T>(&self, work: &mut Work<'_, T>) -> Result<T, HoldError>;
    /// Runs `work` over a consistent view; changes are not kept.
    fn read<T>(&self, work: &mut Work<'_, T>) -> Result<T, HoldError>;
    /// The approval-signing key kept in the store, created on first use.
    fn signing_key(&self) -> Result<Vec<u8>, HoldError>;
    /// The clock that decides expiry.
    fn now(&self) -> Result<DateTime<Utc>, HoldError>;
}

/// The hold broker: the rules of this module over one store.
pub struct Broker<S> {
    storage: S,
    signer: TokenSigner,
    policy: HoldPolicy,
}

impl<S: Storage> Broker<S> {
    /// Without a signer, the store's own key signs approvals.
    pub fn new(
        storage: S,
        signer: Option<TokenSigner>,
        policy: HoldPolicy,
    ) -> Result<Self, HoldError> {
        let signer = match signer {
            Some(signer) => signer,
            None => TokenSigner::new(storage.signing_key()?)?,
        };
        Ok(Self {
            storage,
            signer,
            policy,
        })
    }

    /// The store underneath, for its own checks.
    pub fn storage(&self) -> &S {
        &self.storage
    }

    /// Pairs of active holds that share an attendee and overlap in time; a
    /// correct store always returns none.
    pub fn overlapping_active_holds(&self) -> Result<Vec<(String, String)>, HoldError> {
        self.storage
            .read(&mut |tx, now| tx.overlapping_active_holds(now))
    }

    /// Records a refusal in its own transaction, after the refused change was
    /// rolled back, so the log keeps it while nothing else changes; within
    /// the caller's per-minute budget. The ticket is the hold's, or empty
    /// when the hold is unknown.
    fn record_refusal(
        &self,
        hold: Option<&HoldId>,
        ticket: Option<&str>,
        who: &Principal,
        action: AuditAction,
        error: &HoldError,
    ) -> Result<(), HoldError> {
        let budget = self.policy.audited_refusals_per_minute;
        let reason = error.to_string();
        self.storage.write(&mut |tx, now| {
            let ticket = match (ticket, hold) {
                (Some(ticket), _) => ticket.to_owned(),
                (None, Some(id)) => tx.ticket_of(id)?.unwrap_or_default(),
                (None, None) => String::new(),
            };
            let refusal = refusals::Refusal {
                actor: &who.identity,
                ticket: &ticket,
                hold,
                action,
                reason: &reason,
            };
            refusals::record(tx, now, budget, &refusal)
        })
    }

    /// Audits `outcome` if it is a refusal (anything but a malformed request
    /// or a store that failed, was contended or cannot be reached), then
    /// returns it.
    fn audited<T>(
        &self,
        outcome: Result<T, HoldError>,
        hold: Option<&HoldId>,
        ticket: Option<&str>,
        who: &Principal,
        action: AuditAction,
    ) -> Result<T, HoldError> {
        match &outcome {
            Ok(_)
            | Err(
                HoldError::InvalidRequest { .. }
                | HoldError::Storage { .. }
                | HoldError::Contended { .. }
                | HoldError::Unavailable { .. },
            ) => outcome,
            Err(error) => {
                self.record_refusal(hold, ticket, who, action, error)?;
                outcome
            }
        }
    }
}

/// Audit reasons are cut here, so no record outgrows what a page can carry.
pub const MAX_AUDIT_REASON_BYTES: usize = 2048;

fn clipped(reason: &str) -> &str {
    if reason.len() <= MAX_AUDIT_REASON_BYTES {
        return reason;
    }
    let mut end = MAX_AUDIT_REASON_BYTES;
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    &reason[..end]
}

/// Appends one audit record inside the caller's transaction.
fn audit(
    tx: &mut dyn Tx,
    at: DateTime<Utc>,
    actor: &str,
    ticket: &str,
    hold: Option<&HoldId>,
    action: AuditAction,
    reason: &str,
) -> Result<(), HoldError> {
    tx.audit(&AuditEntry {
        at,
        actor,
        ticket,
        hold,
        action,
        reason: clipped(reason),
    })
}

fn new_id(prefix: &str) -> String {
    format!(
        "{prefix}-{:016x}{:016x}",
        rand::random::<u64>(),
        rand::random::<u64>()
    )
}

/// An instant as Unix nanoseconds: exact and ordered, within 1677–2262.
pub fn ns(t: DateTime<Utc>) -> Result<i64, HoldError> {
    t.timestamp_nanos_opt()
        .ok_or_else(|| HoldError::InvalidRequest {
            violations: vec![FieldViolation::new(
                "",
                format!(
                    "{} is outside the years 1677–2262 the store keeps",
                    t.to_rfc3339()
                ),
            )],
        })
}

pub fn from_ns(n: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_nanos(n)
}

/// The hold as a reader at `now` must see it.
fn as_seen(mut hold: Hold, now: DateTime<Utc>) -> Hold {
    hold.state = hold.state_at(now);
    hold
}

impl<S: Storage> HoldStore for Broker<S> {
    fn register_ticket(
        &self,
        change_ticket: &str,
        release_owner: &str,
        by: &Principal,
    ) -> Result<(), HoldError> {
        holds::register_ticket(self, change_ticket, release_owner, by)
    }

    fn place(&self, request: PlaceHold, by: &Principal) -> Result<Hold, HoldError> {
        holds::place(self, request, by)
    }

    fn extend(&self, id: &HoldId, by: Duration, who: &Principal) -> Result<Hold, HoldError> {
        holds::extend(self, id, by, who)
    }

    fn release(&self, id: &HoldId, reason: &str, who: &Principal) -> Result<Hold, HoldError> {
        holds::release(self, id, reason, who)
    }

    fn get(&self, id: &HoldId, who: &Principal) -> Result<Hold, HoldError> {
        reads::get(self, id, who)
    }

    fn release_owner(&self, change_ticket: &str) -> Result<Option<String>, HoldError> {
        self.storage
            .read(&mut |tx, _| tx.release_owner(change_ticket))
    }

    fn list(
        &self,
        filter: &HoldFilter,
        page: &PageRequest,
        who: &Principal,
    ) -> Result<Page<Hold>, HoldError> {
        reads::list(self, filter, page, who)
    }

    fn approve(
        &self,
        id: &HoldId,
        who: &Principal,
        substitutions: &[Substitution],
        token_ttl: Duration,
    ) -> Result<ApprovalGrant, HoldError> {
        approvals::approve(self, id, who, substitutions, token_ttl)
    }

    fn confirm(&self, id: &HoldId, token: &str, who: &Principal) -> Result<Hold, HoldError> {
        approvals::confirm(self, id, token, who)
    }

    fn audit_log(
        &self,
        change_ticket: &str,
        page: &PageRequest,
        who: &Principal,
    ) -> Result<Page<AuditRecord>, HoldError> {
        reads::audit_log(self, change_ticket, page, who)
    }

    fn busy_from_holds(
        &self,
        people: &[PersonId],
        within: TimeRange,
        except_ticket: &str,
    ) -> Result<Vec<crate::HeldTime>, HoldError> {
        let mut busy = self
            .storage
            .read(&mut |tx, now| tx.busy(people, within, except_ticket, now))?;
        // Stable order, so the same request gives the same answer byte for byte.
        busy.sort_by(|a, b| (&a.person, a.range, &a.hold).cmp(&(&b.person, b.range, &b.hold)));
        Ok(busy)
    }

    fn place_plan(&self, request: PlacePlan, by: &Principal) -> Result<PlanHold, HoldError> {
        plans::place(self, request, by)
    }

    fn get_plan(&self, id: &PlanId, who: &Principal) -> Result<PlanHold, HoldError> {
        plans::get(self, id, who)
    }

    fn extend_plan(
        &self,
        id: &PlanId,
        by: Duration,
        who: &Principal,
    ) -> Result<PlanHold, HoldError> {
        plans::extend(self, id, by, who)
    }

    fn release_plan(
        &self,
        id: &PlanId,
        reason: &str,
        who: &Principal,
    ) -> Result<PlanHold, HoldError> {
        plans::release(self, id, reason, who)
    }

    fn approve_plan(
        &self,
        id: &PlanId,
        who: &Principal,
        token_ttl: Duration,
    ) -> Result<ApprovalGrant, HoldError> {
        plan_approvals::approve(self, id, who, token_ttl)
    }

    fn confirm_plan(
        &self,
        id: &PlanId,
        token: &str,
        who: &Principal,
    ) -> Result<PlanHold, HoldError> {
        plan_approvals::confirm(self, id, token, who)
    }

    fn sweep_expired(&self) -> Result<usize, HoldError> {
        holds::sweep_expired(self)
    }

    fn now(&self) -> DateTime<Utc> {
        // A store that cannot tell the time right now (a database away) falls
        // back to this machine's clock for this informational answer only.
        self.storage.now().unwrap_or_else(|_| Utc::now())
    }
}
