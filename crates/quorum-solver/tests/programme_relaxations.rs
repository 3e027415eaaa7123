//! Programme relaxations against the brute-force reference: on generated
//! small programmes with no plan, every relaxation offered — a deadline
//! moved, a gap shortened or lengthened, one of FindSlots' changes applied to
//! one milestone, a milestone let beyond a resource's capacity — yields, once applied, exactly the plan it carries as the
//! best plan (so none is offered that opens nothing), and names the right
//! approvers. A meta-test checks the generator really produces
//! single-milestone changes of several kinds.

mod reference;

use quorum_domain::{
    Approver, ProgrammeLimits, ProgrammeRelaxation, ProgrammeRelaxationKind, RelaxationKind,
    ReleaseProgramme,
};
use quorum_solver::{NeverStop, ProgrammeEngine, plan_release};
use reference::{Reference, add_busy, as_reference, programme};
use std::collections::BTreeMap;

const CASES: u64 = 3_000;

/// The generator's programmes, with busy time for two in three, and working
/// hours that leave some milestones impossible on their own.
fn generated(seed: u64) -> ReleaseProgramme {
    let mut p = programme(seed);
    if !seed.is_multiple_of(3) {
        add_busy(&mut p, seed);
    }
    p
}

fn explained(p: &ReleaseProgramme) -> Vec<ProgrammeRelaxation> {
    let validated = p
        .clone()
        .validate(&ProgrammeLimits::default())
        .unwrap_or_else(|v| panic!("generated programme is invalid: {v:?}"));
    let found = plan_release(&validated, ProgrammeEngine::Auto, &NeverStop).expect("solves");
    if found.plans.is_empty() {
        found.explanation.relaxations
    } else {
        Vec::new()
    }
}

/// The programme with the relaxation applied, asking for the best plan.
fn applied(p: &ReleaseProgramme, kind: &ProgrammeRelaxationKind) -> ReleaseProgramme {
    let mut out = p.clone();
    out.top_k = 1;
    match kind {
        ProgrammeRelaxationKind::MoveDeadline { milestone, to } => {
            let m = out.milestone_index(milestone).expect("milestone");
            out.milestones[m].deadline = Some(*to);
        }
        ProgrammeRelaxationKind::ShortenGap { index, to_minutes } => {
            out.dependencies[*index].min_gap_minutes = *to_minutes;
        }
        ProgrammeRelaxationKind::LengthenGap { index, to_minutes } => {
            out.dependencies[*index].max_gap_minutes = Some(*to_minutes);
        }
        ProgrammeRelaxationKind::Milestone { milestone, change } => {
            let m = out.milestone_index(milestone).expect("milestone");
            out.milestones[m].exceptions.push(change.clone());
        }
        ProgrammeRelaxationKind::ExceedResource {
            milestone,
            resource,
        } => {
            let m = out.milestone_index(milestone).expect("milestone");
            out.milestones[m].resources.retain(|r| r != resource);
        }
    }
    out
}

/// Who must approve, by kind: the release owner for the programme's own
/// schedule; as FindSlots for a milestone's change.
fn expected_approvers(p: &ReleaseProgramme, kind: &ProgrammeRelaxationKind) -> Vec<Approver> {
    match kind {
        ProgrammeRelaxationKind::MoveDeadline { .. }
        | ProgrammeRelaxationKind::ShortenGap { .. }
        | ProgrammeRelaxationKind::LengthenGap { .. } => vec![Approver::ReleaseOwner],
        ProgrammeRelaxationKind::ExceedResource { resource, .. } => {
            vec![Approver::ResourceOwner {
                resource: resource.clone(),
                owner: "board-chair".into(),
            }]
        }
        ProgrammeRelaxationKind::Milestone { change, .. } => match change {
            RelaxationKind::AfterHours { person, .. }
            | RelaxationKind::MoveCommitments { person, .. } => {
                vec![Approver::Person(person.clone())]
            }
            RelaxationKind::ConfirmDelegate { .. } => vec![Approver::ReleaseOwner],
            RelaxationKind::OverrideFreezeWindow { id } => vec![Approver::FreezeWindowOwner {
                freeze_window: id.clone(),
                owner: p
                    .freeze_windows
                    .iter()
                    .find(|f| &f.window.id == id)
                    .map(|f| f.window.owner.clone())
                    .expect("a named freeze"),
            }],
            other => panic!("not a single-milestone change: {other:?}"),
        },
    }
}

fn kind_name(kind: &ProgrammeRelaxationKind) -> &'static str {
    match kind {
        ProgrammeRelaxationKind::MoveDeadline { .. } => "move deadline",
        ProgrammeRelaxationKind::ShortenGap { .. } => "shorten gap",
        ProgrammeRelaxationKind::LengthenGap { .. } => "lengthen gap",
        ProgrammeRelaxationKind::ExceedResource { .. } => "exceed resource",
        ProgrammeRelaxationKind::Milestone { change, .. } => match change {
            RelaxationKind::AfterHours { .. } => "after hours",
            RelaxationKind::MoveCommitments { .. } => "move commitments",
            RelaxationKind::ConfirmDelegate { .. } => "confirm delegate",
            RelaxationKind::OverrideFreezeWindow { .. } => "override freeze",
            RelaxationKind::MoveEvidenceDeadline { .. } => "evidence deadline",
            RelaxationKind::ExceedReviewCapacity { .. } => "review capacity",
        },
    }
}

/// Checks every relaxation of every generated programme with no plan, and
/// counts them by kind.
fn check_all() -> BTreeMap<&'static str, usize> {
    let mut seen = BTreeMap::new();
    for seed in 0..CASES {
        let p = generated(seed);
        for relaxation in explained(&p) {
            let changed = applied(&p, &relaxation.kind);
            let best = Reference::new(&changed).plans();
            assert_eq!(
                best,
                vec![as_reference(&relaxation.plan)],
                "seed {seed}: {:?} applied does not open exactly its plan",
                relaxation.kind
            );
            assert_eq!(
                relaxation.approvers,
                expected_approvers(&p, &relaxation.kind),
                "seed {seed}: {:?}",
                relaxation.kind
            );
            *seen.entry(kind_name(&relaxation.kind)).or_default() += 1;
        }
    }
    seen
}

#[test]
fn prop_every_relaxation_applied_opens_exactly_its_plan_with_its_approvers() {
    let seen = check_all();
    // The property is not vacuous: single-milestone changes are offered,
    // of more than one kind, beside the programme's own kinds.
    let single: usize = [
        "after hours",
        "move commitments",
        "confirm delegate",
        "override freeze",
    ]
    .iter()
    .map(|k| seen.get(k).copied().unwrap_or(0))
    .sum();
    assert!(single >= 20, "{seen:?}");
    assert!(
        seen.get("after hours").copied().unwrap_or(0) >= 5,
        "{seen:?}"
    );
    assert!(
        seen.get("move deadline").copied().unwrap_or(0) >= 10,
        "{seen:?}"
    );
    assert!(
        seen.get("exceed resource").copied().unwrap_or(0) >= 5,
        "{seen:?}"
    );
}
