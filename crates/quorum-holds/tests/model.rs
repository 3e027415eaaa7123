//! A model-based property test: random sequences of place, extend, release,
//! clock advances, approve, confirm, sweep and restart against the SQLite
//! store and against a deliberately simple in-memory model must agree on
//! every outcome and on every hold afterwards.

use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;
use quorum_domain::{
    Clock, HoldAttendee, HoldId, HoldState, ManualClock, PersonId, RoleId, TimeRange,
};
use quorum_holds::{HoldError, HoldFilter, HoldPolicy, HoldStore, PlaceHold, SqliteHoldStore};
use std::sync::Arc;

#[derive(Debug, Clone)]
enum Op {
    Place {
        ticket: u8,
        people: Vec<u8>,
        start_hour: u8,
        hours: u8,
        ttl_minutes: u16,
        key: u8,
        wrong_owner: bool,
    },
    Extend {
        hold: u8,
        minutes: u16,
    },
    Release {
        hold: u8,
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
    },
    Sweep,
    Restart,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u8..3, prop::collection::vec(0u8..4, 1..3), 0u8..6, 1u8..3, 1u16..120, 0u8..6, prop::bool::weighted(0.1))
            .prop_map(|(ticket, people, start_hour, hours, ttl_minutes, key, wrong_owner)| Op::Place { ticket, people, start_hour, hours, ttl_minutes, key, wrong_owner }),
        1 => (0u8..8, 0u16..200).prop_map(|(hold, minutes)| Op::Extend { hold, minutes }),
        1 => (0u8..8).prop_map(|hold| Op::Release { hold }),
        2 => (0u16..90).prop_map(|minutes| Op::Advance { minutes }),
        2 => (0u8..8, prop::bool::weighted(0.8)).prop_map(|(hold, as_owner)| Op::Approve { hold, as_owner }),
        2 => (0u8..8, 0u8..8, prop::bool::weighted(0.15)).prop_map(|(hold, token, tamper)| Op::Confirm { hold, token, tamper }),
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
        Err(HoldError::NotReleaseOwner { .. }) => "not owner",
        Err(HoldError::TokenInvalid { .. }) => "token invalid",
        Err(HoldError::TokenRefused { .. }) => "token refused",
        Err(HoldError::NotFound { .. }) => "not found",
        Err(HoldError::InvalidRequest { .. }) => "invalid",
        Err(HoldError::Changed { .. }) => "changed",
        Err(HoldError::Storage { .. }) => "storage",
    }
}

fn open(path: &std::path::Path, clock: &Arc<ManualClock>) -> SqliteHoldStore {
    let policy = HoldPolicy {
        max_ttl: Duration::hours(MAX_TTL_HOURS),
        max_token_ttl: Duration::hours(1),
    };
    SqliteHoldStore::open(path, clock.clone(), None, policy).expect("store opens")
}

struct Harness {
    path: tempfile::TempDir,
    clock: Arc<ManualClock>,
    store: SqliteHoldStore,
    model: Model,
    ids: Vec<HoldId>,
    base: DateTime<Utc>,
}

impl Harness {
    fn new() -> Self {
        let path = tempfile::tempdir().expect("temp dir");
        let base = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        let clock = Arc::new(ManualClock::new(base - Duration::hours(2)));
        let store = open(&path.path().join("holds.db"), &clock);
        Self {
            path,
            clock,
            store,
            model: Model::default(),
            ids: Vec::new(),
            base,
        }
    }

    fn apply(&mut self, op: &Op) -> (&'static str, &'static str) {
        let now = self.clock.now();
        match op {
            Op::Place {
                ticket,
                people,
                start_hour,
                hours,
                ttl_minutes,
                key,
                wrong_owner,
            } => {
                let ticket = format!("CHG-{ticket}");
                let mut people: Vec<String> = people.iter().map(|p| format!("p{p}")).collect();
                people.sort();
                people.dedup();
                let start = self.base + Duration::hours((*start_hour).into());
                let slot = TimeRange::new(start, start + Duration::hours((*hours).into()));
                let owner = if *wrong_owner {
                    "mallory".to_owned()
                } else {
                    format!("owner-{ticket}")
                };
                let ttl = Duration::minutes((*ttl_minutes).into());
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
                    requester: "bot".into(),
                    release_owner: Some(owner.clone()),
                };
                let got = self.store.place(request);
                let print = format!("{ticket}|{slot}|{people:?}|{ttl}|{owner}");
                let expected = self.model_place(now, ticket, slot, people, ttl, key, owner, print);
                if let (Ok(hold), Some(index)) = (&got, expected.1)
                    && index == self.ids.len()
                {
                    self.ids.push(hold.id.clone());
                }
                (kind(&got.map(|_| ())), expected.0)
            }
            Op::Extend { hold, minutes } => {
                let Some(i) = self.pick(*hold) else {
                    return ("skip", "skip");
                };
                let by = Duration::minutes((*minutes).into());
                let got = self.store.extend(&self.ids[i], by, "bot").map(|_| ());
                let h = &mut self.model.holds[i];
                let expected = if h.seen(now) != HoldState::Tentative {
                    "wrong state"
                } else if by <= Duration::zero()
                    || h.expires_at + by > now + Duration::hours(MAX_TTL_HOURS)
                {
                    "too long"
                } else {
                    h.expires_at += by;
                    h.version += 1;
                    "ok"
                };
                (kind(&got), expected)
            }
            Op::Release { hold } => {
                let Some(i) = self.pick(*hold) else {
                    return ("skip", "skip");
                };
                let got = self.store.release(&self.ids[i], "done", "bot").map(|_| ());
                let h = &mut self.model.holds[i];
                let expected = if matches!(h.seen(now), HoldState::Tentative | HoldState::Confirmed)
                {
                    h.state = HoldState::Released;
                    h.version += 1;
                    "ok"
                } else {
                    "wrong state"
                };
                (kind(&got), expected)
            }
            Op::Advance { minutes } => {
                self.clock.advance(Duration::minutes((*minutes).into()));
                ("ok", "ok")
            }
            Op::Approve { hold, as_owner } => {
                let Some(i) = self.pick(*hold) else {
                    return ("skip", "skip");
                };
                let ticket = self.model.holds[i].ticket.clone();
                let owner = self
                    .model
                    .owners
                    .iter()
                    .find(|(t, _)| *t == ticket)
                    .map(|(_, o)| o.clone())
                    .unwrap_or_default();
                let approver = if *as_owner {
                    owner.clone()
                } else {
                    "eve".to_owned()
                };
                let got = self
                    .store
                    .approve(&self.ids[i], &approver, &[], Duration::minutes(30));
                let expected = if approver != owner {
                    "not owner"
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
            Op::Confirm {
                hold,
                token,
                tamper,
            } => {
                let Some(i) = self.pick(*hold) else {
                    return ("skip", "skip");
                };
                if self.model.tokens.is_empty() {
                    return ("skip", "skip");
                }
                let t = usize::from(*token) % self.model.tokens.len();
                let (mut text, issued_for, expires, spent) = self.model.tokens[t].clone();
                if *tamper {
                    text.insert(text.len() / 2, 'x');
                }
                let got = self.store.confirm(&self.ids[i], &text, "bot").map(|_| ());
                let h = &self.model.holds[i];
                let expected = if *tamper {
                    "token invalid"
                } else if issued_for != i || now >= expires || spent {
                    "token refused"
                } else if h.seen(now) != HoldState::Tentative {
                    "wrong state"
                } else {
                    "ok"
                };
                // A token approved before a later change of the hold is stale.
                let expected = if expected == "ok" && self.stale(t) {
                    "token refused"
                } else {
                    expected
                };
                if expected == "ok" {
                    let h = &mut self.model.holds[i];
                    h.state = HoldState::Confirmed;
                    h.version += 1;
                    self.model.tokens[t].3 = true;
                }
                (kind(&got), expected)
            }
            Op::Sweep => {
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
                self.store = open(&self.path.path().join("holds.db"), &self.clock);
                ("ok", "ok")
            }
        }
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

    #[allow(
        clippy::too_many_arguments,
        reason = "mirrors the fields of one place request"
    )]
    fn model_place(
        &mut self,
        now: DateTime<Utc>,
        ticket: String,
        slot: TimeRange,
        people: Vec<String>,
        ttl: Duration,
        key: String,
        owner: String,
        print: String,
    ) -> (&'static str, Option<usize>) {
        if let Some(i) = self.model.holds.iter().position(|h| h.key == key) {
            return if self.model.holds[i].print == print {
                ("ok", Some(i))
            } else {
                ("key reused", None)
            };
        }
        // Only a hold that is placed names the owner; a refused one names nobody.
        let known = self
            .model
            .owners
            .iter()
            .find(|(t, _)| *t == ticket)
            .map(|(_, o)| o.clone());
        if known.as_ref().is_some_and(|existing| *existing != owner) {
            return ("owner fixed", None);
        }
        let clash = self.model.holds.iter().any(|h| {
            h.ticket != ticket
                && matches!(h.seen(now), HoldState::Tentative | HoldState::Confirmed)
                && h.slot.overlaps(&slot)
                && h.people.iter().any(|p| people.contains(p))
        });
        if clash {
            return ("conflict", None);
        }
        if known.is_none() {
            self.model.owners.push((ticket.clone(), owner));
        }
        self.model.holds.push(ModelHold {
            ticket,
            slot,
            people,
            state: HoldState::Tentative,
            expires_at: now + ttl,
            version: 1,
            key,
            print,
        });
        ("ok", Some(self.model.holds.len() - 1))
    }

    fn agree(&self) -> Result<(), TestCaseError> {
        let now = self.clock.now();
        let stored = self
            .store
            .list(&HoldFilter {
                include_inactive: true,
                ..HoldFilter::default()
            })
            .expect("lists");
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

fn base64_decode(text: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .ok()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn prop_store_agrees_with_the_model(ops in prop::collection::vec(op(), 1..40)) {
        let mut harness = Harness::new();
        for op in &ops {
            let (got, expected) = harness.apply(op);
            prop_assert_eq!(got, expected, "after {:?}", op);
            harness.agree()?;
        }
    }
}
