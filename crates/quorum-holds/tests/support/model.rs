//! The model-based property test, generic over the store: random sequences
//! of place, extend, release, clock advances, approve, confirm, sweep and
//! restart against a store and against a deliberately simple in-memory model
//! must agree on every outcome and on every hold afterwards. Callers vary
//! too: pipelines, a stranger, release owners (one of them also a pipeline,
//! to try separation of duties) and an admin, so the model checks who may do
//! what. `tests/model.rs` runs it on SQLite; the PostgreSQL crate's tests
//! include this file and run it on PostgreSQL.
#![allow(dead_code, reason = "each store's test uses the parts it needs")]

use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;
use quorum_domain::{
    Clock, HoldAttendee, HoldId, HoldState, ManualClock, PersonId, RoleId, TimeRange,
};
use quorum_holds::{
    Broker, HoldError, HoldFilter, HoldPolicy, HoldStore, PageRequest, PlaceHold, Principal, Scope,
    Storage,
};
use std::sync::Arc;

#[derive(Debug, Clone)]
pub enum Op {
    Place {
        ticket: u8,
        people: Vec<u8>,
        start_hour: u8,
        hours: u8,
        ttl_minutes: u16,
        key: u8,
        wrong_owner: bool,
        requester: u8,
    },
    Register {
        ticket: u8,
        by_admin: bool,
        other_owner: bool,
    },
    Extend {
        hold: u8,
        minutes: u16,
        actor: u8,
    },
    Release {
        hold: u8,
        actor: u8,
    },
    List {
        viewer: u8,
    },
    Advance {
        minutes: u16,
    },
    Approve {
        hold: u8,
        as_owner: bool,
    },
    Confirm {
        hold: u8,
        token: u8,
        tamper: bool,
        stranger: bool,
    },
    Sweep,
    Restart,
}

pub fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u8..3, prop::collection::vec(0u8..4, 1..3), 0u8..6, 1u8..3, 1u16..120, 0u8..6, prop::bool::weighted(0.1), 0u8..3)
            .prop_map(|(ticket, people, start_hour, hours, ttl_minutes, key, wrong_owner, requester)| Op::Place { ticket, people, start_hour, hours, ttl_minutes, key, wrong_owner, requester }),
        1 => (0u8..3, prop::bool::weighted(0.7), prop::bool::weighted(0.2))
            .prop_map(|(ticket, by_admin, other_owner)| Op::Register { ticket, by_admin, other_owner }),
        1 => (0u8..8, 0u16..200, 0u8..4).prop_map(|(hold, minutes, actor)| Op::Extend { hold, minutes, actor }),
        1 => (0u8..8, 0u8..4).prop_map(|(hold, actor)| Op::Release { hold, actor }),
        1 => (0u8..4).prop_map(|viewer| Op::List { viewer }),
        2 => (0u16..90).prop_map(|minutes| Op::Advance { minutes }),
        2 => (0u8..8, prop::bool::weighted(0.8)).prop_map(|(hold, as_owner)| Op::Approve { hold, as_owner }),
        2 => (0u8..8, 0u8..8, prop::bool::weighted(0.15), prop::bool::weighted(0.1)).prop_map(|(hold, token, tamper, stranger)| Op::Confirm { hold, token, tamper, stranger }),
        1 => Just(Op::Sweep),
        1 => Just(Op::Restart),
    ]
}

#[derive(Debug, Clone)]
struct ModelHold {
    ticket: String,
    slot: TimeRange,
    people: Vec<String>,
    state: HoldState,
    expires_at: DateTime<Utc>,
    version: u64,
    key: String,
    print: String,
    requester: String,
}

impl ModelHold {
    fn seen(&self, now: DateTime<Utc>) -> HoldState {
        if self.state == HoldState::Tentative && now >= self.expires_at {
            HoldState::Expired
        } else {
            self.state
        }
    }
}

#[derive(Default)]
struct Model {
    holds: Vec<ModelHold>,
    owners: Vec<(String, String)>,
    /// (token, hold index, expires, spent)
    tokens: Vec<(String, usize, DateTime<Utc>, bool)>,
}

const MAX_TTL_HOURS: i64 = 4;

fn kind(result: &Result<(), HoldError>) -> &'static str {
    match result {
        Ok(()) => "ok",
        Err(HoldError::Conflict { .. }) => "conflict",
        Err(HoldError::IdempotencyKeyReused { .. }) => "key reused",
        Err(HoldError::WrongState { .. }) => "wrong state",
        Err(HoldError::TooLong { .. }) => "too long",
        Err(HoldError::ReleaseOwnerFixed { .. }) => "owner fixed",
        Err(HoldError::NotPermitted { .. }) => "not permitted",
        Err(HoldError::TicketNotRegistered { .. }) => "not registered",
        Err(HoldError::TokenInvalid { .. }) => "token invalid",
        Err(HoldError::TokenRefused { .. }) => "token refused",
        Err(HoldError::NotFound { .. } | HoldError::PlanNotFound { .. }) => "not found",
        Err(HoldError::InPlan { .. }) => "in a plan",
        Err(HoldError::InvalidRequest { .. }) => "invalid",
        Err(HoldError::MovedOn { .. }) => "moved on",
        Err(HoldError::Storage { .. }) => "storage",
        Err(HoldError::Contended { .. }) => "contended",
        Err(HoldError::Unavailable { .. }) => "unavailable",
    }
}

/// The rules the model assumes, for every store under test.
pub fn policy() -> HoldPolicy {
    HoldPolicy {
        max_ttl: Duration::hours(MAX_TTL_HOURS),
        max_token_ttl: Duration::hours(1),
        owner_from_first_hold: true,
        audited_refusals_per_minute: 10_000,
    }
}

/// Opens the store under test on the clock: the first time on an empty
/// store, later again on the same data (a restart).
pub type Opener<S> = Box<dyn Fn(&Arc<ManualClock>) -> Broker<S>>;

pub struct Harness<S: Storage> {
    open: Opener<S>,
    clock: Arc<ManualClock>,
    store: Broker<S>,
    model: Model,
    ids: Vec<HoldId>,
    base: DateTime<Utc>,
}

/// Runs `ops` against a fresh store and the model; they must agree after
/// every step.
pub fn check_against_model<S: Storage>(open: Opener<S>, ops: &[Op]) -> Result<(), TestCaseError> {
    let mut harness = Harness::new(open);
    for op in ops {
        let (got, expected) = harness.apply(op);
        prop_assert_eq!(got, expected, "after {:?}", op);
        harness.agree()?;
    }
    Ok(())
}

impl<S: Storage> Harness<S> {
    fn new(open: Opener<S>) -> Self {
        let base = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        let clock = Arc::new(ManualClock::new(base - Duration::hours(2)));
        let store = open(&clock);
        Self {
            open,
            clock,
            store,
            model: Model::default(),
            ids: Vec::new(),
            base,
        }
    }

    fn apply(&mut self, op: &Op) -> (&'static str, &'static str) {
        match op {
            Op::Place {
                ticket,
                people,
                start_hour,
                hours,
                ttl_minutes,
                key,
                wrong_owner,
                requester,
            } => self.place(
                *ticket,
                people,
                (*start_hour, *hours, *ttl_minutes, *key),
                *wrong_owner,
                *requester,
            ),
            Op::Register {
                ticket,
                by_admin,
                other_owner,
            } => self.register(*ticket, *by_admin, *other_owner),
            Op::Extend {
                hold,
                minutes,
                actor,
            } => self.extend(*hold, *minutes, *actor),
            Op::Release { hold, actor } => self.release(*hold, *actor),
            Op::List { viewer } => self.list(*viewer),
            Op::Advance { minutes } => {
                self.clock.advance(Duration::minutes((*minutes).into()));
                ("ok", "ok")
            }
            Op::Approve { hold, as_owner } => self.approve(*hold, *as_owner),
            Op::Confirm {
                hold,
                token,
                tamper,
                stranger,
            } => self.confirm(*hold, *token, *tamper, *stranger),
            Op::Sweep => {
                let now = self.clock.now();
                let got = self.store.sweep_expired().map(|_| ());
                for h in &mut self.model.holds {
                    if h.state == HoldState::Tentative && now >= h.expires_at {
                        h.state = HoldState::Expired;
                        h.version += 1;
                    }
                }
                (kind(&got), "ok")
            }
            Op::Restart => {
                self.store = (self.open)(&self.clock);
                ("ok", "ok")
            }
        }
    }

    fn owner_of(&self, ticket: &str) -> Option<String> {
        self.model
            .owners
            .iter()
            .find(|(t, _)| t == ticket)
            .map(|(_, o)| o.clone())
    }

    fn place(
        &mut self,
        ticket: u8,
        people: &[u8],
        (start_hour, hours, ttl_minutes, key): (u8, u8, u16, u8),
        wrong_owner: bool,
        requester: u8,
    ) -> (&'static str, &'static str) {
        let ticket = format!("CHG-{ticket}");
        let mut people: Vec<String> = people.iter().map(|p| format!("p{p}")).collect();
        people.sort();
        people.dedup();
        let start = self.base + Duration::hours(start_hour.into());
        let slot = TimeRange::new(start, start + Duration::hours(hours.into()));
        // The pipeline that also owns CHG-2 names no owner: it may place on
        // a known ticket, and then must not approve its own hold.
        let requester = ["bot", "bot2", "owner-CHG-2"][usize::from(requester) % 3];
        let owner = if requester == "owner-CHG-2" {
            None
        } else if wrong_owner {
            Some("mallory".to_owned())
        } else {
            Some(format!("owner-{ticket}"))
        };
        let ttl = Duration::minutes(ttl_minutes.into());
        let key = format!("k{key}");
        let request = PlaceHold {
            change_ticket: ticket.clone(),
            slot,
            attendees: people
                .iter()
                .map(|p| HoldAttendee {
                    person: PersonId(p.clone()),
                    role: RoleId(format!("role-{p}")),
                })
                .collect(),
            ttl,
            idempotency_key: key.clone(),
            release_owner: owner.clone(),
        };
        let got = self.store.place(request, &principal(requester));
        let print = format!("{ticket}|{slot}|{people:?}|{ttl}|{owner:?}");
        let placed = PlacedHold {
            ticket,
            slot,
            people,
            ttl,
            key,
            owner,
            print,
            requester: requester.to_owned(),
        };
        let expected = self.model_place(placed);
        if let (Ok(hold), Some(index)) = (&got, expected.1)
            && index == self.ids.len()
        {
            self.ids.push(hold.id.clone());
        }
        (kind(&got.map(|_| ())), expected.0)
    }

    fn register(
        &mut self,
        ticket: u8,
        by_admin: bool,
        other_owner: bool,
    ) -> (&'static str, &'static str) {
        let ticket = format!("CHG-{ticket}");
        let owner = if other_owner {
            "mallory".to_owned()
        } else {
            format!("owner-{ticket}")
        };
        let by = principal(if by_admin { "admin" } else { "bot" });
        let got = self.store.register_ticket(&ticket, &owner, &by);
        let expected = match self.owner_of(&ticket) {
            _ if !by_admin => "not permitted",
            Some(known) if known != owner => "owner fixed",
            Some(_) => "ok",
            None => {
                self.model.owners.push((ticket, owner));
                "ok"
            }
        };
        (kind(&got), expected)
    }

    /// The caller for an extend or release: the hold's requester, a
    /// stranger, the ticket's release owner or an admin.
    fn actor(&self, i: usize, actor: u8) -> String {
        let hold = &self.model.holds[i];
        match actor % 4 {
            0 => hold.requester.clone(),
            1 => "eve".to_owned(),
            2 => self.owner_of(&hold.ticket).unwrap_or_default(),
            _ => "admin".to_owned(),
        }
    }

    /// Who may extend or release hold `i`, as the README's table says.
    fn may_change(&self, i: usize, who: &str, now: DateTime<Utc>) -> bool {
        let hold = &self.model.holds[i];
        let owner_or_admin =
            who == "admin" || (self.owner_of(&hold.ticket).as_deref() == Some(who) && who != "eve");
        if hold.seen(now) == HoldState::Confirmed {
            owner_or_admin
        } else {
            owner_or_admin || who == hold.requester
        }
    }

    fn extend(&mut self, hold: u8, minutes: u16, actor: u8) -> (&'static str, &'static str) {
        let now = self.clock.now();
        let Some(i) = self.pick(hold) else {
            return ("skip", "skip");
        };
        let who = self.actor(i, actor);
        let by = Duration::minutes(minutes.into());
        let got = self.store.extend(&self.ids[i], by, &principal(&who));
        let permitted = self.may_change(i, &who, now);
        let h = &mut self.model.holds[i];
        let expected = if !permitted {
            "not permitted"
        } else if h.seen(now) != HoldState::Tentative {
            "wrong state"
        } else if by <= Duration::zero() || h.expires_at + by > now + Duration::hours(MAX_TTL_HOURS)
        {
            "too long"
        } else {
            h.expires_at += by;
            h.version += 1;
            "ok"
        };
        (kind(&got.map(|_| ())), expected)
    }

    fn release(&mut self, hold: u8, actor: u8) -> (&'static str, &'static str) {
        let now = self.clock.now();
        let Some(i) = self.pick(hold) else {
            return ("skip", "skip");
        };
        let who = self.actor(i, actor);
        let got = self.store.release(&self.ids[i], "done", &principal(&who));
        let permitted = self.may_change(i, &who, now);
        let h = &mut self.model.holds[i];
        let expected = if !permitted {
            "not permitted"
        } else if matches!(h.seen(now), HoldState::Tentative | HoldState::Confirmed) {
            h.state = HoldState::Released;
            h.version += 1;
            "ok"
        } else {
            "wrong state"
        };
        (kind(&got.map(|_| ())), expected)
    }

    /// Without the read scope a caller sees the tickets it owns or placed
    /// holds on, and nothing else.
    fn list(&mut self, viewer: u8) -> (&'static str, &'static str) {
        let who = ["bot", "eve", "owner-CHG-1", "auditor"][usize::from(viewer) % 4];
        let filter = HoldFilter {
            include_inactive: true,
            ..HoldFilter::default()
        };
        let got = self
            .store
            .list(&filter, &PageRequest::first(500), &principal(who))
            .map(|page| page.items.len());
        let visible = |ticket: &str| {
            who == "auditor"
                || self.owner_of(ticket).as_deref() == Some(who)
                || self
                    .model
                    .holds
                    .iter()
                    .any(|h| h.ticket == ticket && h.requester == who)
        };
        let expected = self
            .model
            .holds
            .iter()
            .filter(|h| visible(&h.ticket))
            .count();
        match got {
            Ok(n) if n == expected => ("ok", "ok"),
            Ok(_) => ("wrong count", "ok"),
            Err(error) => (kind(&Err(error)), "ok"),
        }
    }

    fn approve(&mut self, hold: u8, as_owner: bool) -> (&'static str, &'static str) {
        let now = self.clock.now();
        let Some(i) = self.pick(hold) else {
            return ("skip", "skip");
        };
        let ticket = self.model.holds[i].ticket.clone();
        let owner = self.owner_of(&ticket).unwrap_or_default();
        let approver = if as_owner {
            owner.clone()
        } else {
            "eve".to_owned()
        };
        let got = self.store.approve(
            &self.ids[i],
            &principal(&approver),
            &[],
            Duration::minutes(30),
        );
        let expected = if approver != owner || approver == self.model.holds[i].requester {
            "not permitted"
        } else if self.model.holds[i].seen(now) != HoldState::Tentative {
            "wrong state"
        } else {
            "ok"
        };
        if let Ok(grant) = &got {
            self.model
                .tokens
                .push((grant.token.clone(), i, grant.expires_at, false));
        }
        (kind(&got.map(|_| ())), expected)
    }

    fn confirm(
        &mut self,
        hold: u8,
        token: u8,
        tamper: bool,
        stranger: bool,
    ) -> (&'static str, &'static str) {
        let now = self.clock.now();
        let Some(i) = self.pick(hold) else {
            return ("skip", "skip");
        };
        if self.model.tokens.is_empty() {
            return ("skip", "skip");
        }
        let t = usize::from(token) % self.model.tokens.len();
        let (mut text, issued_for, expires, spent) = self.model.tokens[t].clone();
        if tamper {
            text.insert(text.len() / 2, 'x');
        }
        let who = if stranger {
            "eve".to_owned()
        } else {
            self.model.holds[i].requester.clone()
        };
        let got = self
            .store
            .confirm(&self.ids[i], &text, &principal(&who))
            .map(|_| ());
        let h = &self.model.holds[i];
        // A genuine token for this hold whose hold moved on (another state,
        // or changed since approval) gets one answer.
        let expected = if tamper {
            "token invalid"
        } else if stranger {
            "not permitted"
        } else if issued_for != i || now >= expires || spent {
            "token refused"
        } else if h.seen(now) != HoldState::Tentative || self.stale(t) {
            "moved on"
        } else {
            "ok"
        };
        if expected == "ok" {
            let h = &mut self.model.holds[i];
            h.state = HoldState::Confirmed;
            h.version += 1;
            self.model.tokens[t].3 = true;
        }
        (kind(&got), expected)
    }

    /// Whether the hold changed (version moved) since token `t` was issued.
    fn stale(&self, t: usize) -> bool {
        let (token, i, _, _) = &self.model.tokens[t];
        let issued_version = self.token_versions().get(token).copied();
        issued_version != Some(self.model.holds[*i].version)
    }

    fn token_versions(&self) -> std::collections::HashMap<String, u64> {
        // The version is inside the claims: read it back the way the store does.
        self.model
            .tokens
            .iter()
            .filter_map(|(token, _, _, _)| {
                let body = token.split('.').nth(1)?;
                let json = base64_decode(body)?;
                let claims: serde_json::Value = serde_json::from_slice(&json).ok()?;
                Some((token.clone(), claims.get("hold_version")?.as_u64()?))
            })
            .collect()
    }

    fn pick(&self, hold: u8) -> Option<usize> {
        (!self.ids.is_empty()).then(|| usize::from(hold) % self.ids.len())
    }

    fn model_place(&mut self, p: PlacedHold) -> (&'static str, Option<usize>) {
        let now = self.clock.now();
        if p.owner.as_deref() == Some(p.requester.as_str()) {
            return ("not permitted", None);
        }
        let earlier = self
            .model
            .holds
            .iter()
            .position(|h| h.key == p.key && h.requester == p.requester);
        if let Some(i) = earlier {
            return if self.model.holds[i].print == p.print {
                ("ok", Some(i))
            } else {
                ("key reused", None)
            };
        }
        // Only a hold that is placed names the owner; a refused one names nobody.
        let known = self.owner_of(&p.ticket);
        match (&known, &p.owner) {
            (Some(existing), Some(named)) if existing != named => return ("owner fixed", None),
            (None, None) => return ("invalid", None),
            _ => {}
        }
        let clash = self.model.holds.iter().any(|h| {
            h.ticket != p.ticket
                && matches!(h.seen(now), HoldState::Tentative | HoldState::Confirmed)
                && h.slot.overlaps(&p.slot)
                && h.people.iter().any(|person| p.people.contains(person))
        });
        if clash {
            return ("conflict", None);
        }
        if let (None, Some(owner)) = (known, &p.owner) {
            self.model.owners.push((p.ticket.clone(), owner.clone()));
        }
        self.model.holds.push(ModelHold {
            ticket: p.ticket,
            slot: p.slot,
            people: p.people,
            state: HoldState::Tentative,
            expires_at: now + p.ttl,
            version: 1,
            key: p.key,
            print: p.print,
            requester: p.requester,
        });
        ("ok", Some(self.model.holds.len() - 1))
    }

    fn agree(&self) -> Result<(), TestCaseError> {
        let now = self.clock.now();
        let filter = HoldFilter {
            include_inactive: true,
            ..HoldFilter::default()
        };
        let stored = self
            .store
            .list(&filter, &PageRequest::first(500), &principal("auditor"))
            .expect("lists")
            .items;
        prop_assert_eq!(stored.len(), self.model.holds.len());
        for (i, id) in self.ids.iter().enumerate() {
            let hold = stored.iter().find(|h| &h.id == id).expect("listed");
            let model = &self.model.holds[i];
            prop_assert_eq!(hold.state, model.seen(now), "hold {}", i);
            prop_assert_eq!(hold.version, model.version, "hold {}", i);
            prop_assert_eq!(hold.expires_at, model.expires_at, "hold {}", i);
        }
        prop_assert!(
            self.store
                .overlapping_active_holds()
                .expect("query")
                .is_empty()
        );
        Ok(())
    }
}

/// A place request as the model keeps it.
struct PlacedHold {
    ticket: String,
    slot: TimeRange,
    people: Vec<String>,
    ttl: Duration,
    key: String,
    owner: Option<String>,
    print: String,
    requester: String,
}

/// Each identity with the scopes an operator would give it.
fn principal(identity: &str) -> Principal {
    let scopes: &[Scope] = match identity {
        "bot" | "bot2" | "eve" => &[Scope::Pipeline],
        "owner-CHG-2" => &[Scope::Pipeline, Scope::ReleaseOwner],
        "admin" => &[Scope::Admin],
        "auditor" => &[Scope::Read],
        _ => &[Scope::ReleaseOwner],
    };
    Principal::new(identity, scopes.iter().copied())
}

fn base64_decode(text: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .ok()
}
