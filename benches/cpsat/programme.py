"""An OR-Tools CP-SAT model of the release-programme bench workloads
(fixtures/programmes/bench/{small,medium,large}.json, the files
benches/programme.rs reads), for the comparison in BENCHMARKS.md.

The same semantics as Quorum's planner (README, "Release programmes"):
every milestone takes one grid start inside the horizon, its not-before and
its deadline; each role is filled by a distinct person of its pool (working
hours and busy time for BASIS_WORKING_HOURS, one person's joined on-call
shifts over the window plus soak for BASIS_ON_CALL); freezes apply within
their scope; dependencies hold with their min/max gaps; where two milestones
overlap nobody fills a working-hours role in both (optional intervals and
NoOverlap per person: half-open, so touching is not overlapping); each
resource's capacity holds at every instant, counting its bookings and the
plan's own milestones (Cumulative); cost = minutes from the horizon start to
the start, summed over milestones. The top k plans are found by solving to
optimality, forbidding that start vector, and solving again.

The workloads use no preferences, optional attendees or delegates; the
script refuses a request that has them rather than model them silently
wrong. With --quorum FILE (the `quorum plan --json` answer for the same
request) it checks that each milestone's candidate starts are exactly
Quorum's presolved starts (so both solve the same problem) and that
CP-SAT's top-k costs equal Quorum's.

Run it with benches/cpsat/run.sh, which makes a venv with ortools. The
project's tests never need it."""

import argparse
import json
import sys
import time
from bisect import bisect_right
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from ortools.sat.python import cp_model

WEEKDAYS = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"]


def instant(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class Clock:
    """Minutes since the horizon start (all the workloads' instants are on whole minutes)."""

    def __init__(self, origin):
        self.origin = origin

    def __call__(self, text_or_dt):
        t = instant(text_or_dt) if isinstance(text_or_dt, str) else text_or_dt
        return int((t - self.origin).total_seconds() // 60)


def merge(intervals):
    out = []
    for a, b in sorted(intervals):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return out


def covers(merged, a, b):
    """Whether one merged interval contains [a, b)."""
    i = bisect_right([x[0] for x in merged], a) - 1
    return i >= 0 and merged[i][0] <= a and b <= merged[i][1]


def overlaps_any(intervals, a, b):
    return any(x < b and a < y for x, y in intervals)


def working_intervals(person, clock, h0, h1):
    """The wall-clock rule: local windows on each local date, made absolute."""
    zone = ZoneInfo(person["timeZone"])
    out = []
    day = (h0 - timedelta(days=2)).astimezone(zone).date()
    last = (h1 + timedelta(days=2)).astimezone(zone).date()
    while day <= last:
        for w in person.get("workingHours", []):
            if w["weekday"] != WEEKDAYS[day.weekday()]:
                continue
            sh, sm = map(int, w["start"].split(":"))
            eh, em = map(int, w["end"].split(":"))
            start = datetime(day.year, day.month, day.day, tzinfo=zone) + timedelta(hours=sh, minutes=sm)
            end_day = day if (eh, em) > (sh, sm) else day + timedelta(days=1)
            end = datetime(end_day.year, end_day.month, end_day.day, tzinfo=zone) + timedelta(hours=eh, minutes=em)
            # Aware arithmetic in one zone is wall-clock arithmetic, as the
            # rule wants; windows that straddle a DST change (none in the
            # workloads: they are 09:00-17:00) are not resolved specially.
            out.append((clock(start.astimezone(timezone.utc)), clock(end.astimezone(timezone.utc))))
        day += timedelta(days=1)
    return merge(out)


def load_profile(capacity, booked):
    """Bookings as a step function: (start, end, load) pieces with load > 0.
    Bookings may overlap past the capacity (a full board stays full); such
    instants are simply unavailable, so they are cut from the starts rather
    than handed to Cumulative, which would call the whole model infeasible."""
    events = sorted({t for a, b in booked for t in (a, b)})
    pieces = []
    for a, b in zip(events, events[1:]):
        load = sum(1 for x, y in booked if x <= a and b <= y)
        if load:
            pieces.append((a, b, load))
    return capacity, pieces


def fillable(candidates, multiple):
    """Whether every role gets a person: a matching, by augmenting paths."""
    if multiple:
        return all(candidates)
    holder = {}

    def place(role, seen):
        for p in candidates[role]:
            if p not in seen:
                seen.add(p)
                if p not in holder or place(holder[p], seen):
                    holder[p] = role
                    return True
        return False

    return all(place(role, set()) for role in range(len(candidates)))


def refuse_unmodelled(request):
    for m in request["milestones"]:
        for key in ("preferences", "optionalAttendees"):
            if m.get(key):
                sys.exit(f"{m['id']}: {key} are not modelled by this script")
        for r in m["roles"]:
            if r["role"].get("delegates"):
                sys.exit(f"{m['id']}: delegates are not modelled by this script")


def presolve(request):
    """Per milestone: candidate starts, and per role the people available at each."""
    h0 = instant(request["horizon"]["start"])
    h1 = instant(request["horizon"]["end"])
    clock = Clock(h0)
    horizon = clock(h1)
    bucket = request.get("bucketMinutes") or 15
    tentative_free = request.get("tentativeIsFree", False)
    people = {}
    for p in request["people"]:
        busy = [(clock(b["start"]), clock(b["end"])) for b in p.get("busy", [])
                if not (tentative_free and b.get("status") == "TENTATIVE")]
        people[p["id"]] = (working_intervals(p, clock, h0, h1), merge(busy))
    shifts = {}
    for s in request.get("onCall", []):
        shifts.setdefault(s["personId"], []).append((clock(s["start"]), clock(s["end"])))
    shifts = {k: merge(v) for k, v in shifts.items()}
    freezes = []
    for f in request.get("freezeWindows", []):
        w = f["window"]
        freezes.append((clock(w["start"]), clock(w["end"]), f.get("scope", "SCOPE_ALL_MILESTONES"), f.get("milestoneIds", [])))
    milestones = []
    for m in request["milestones"]:
        d = m["durationMinutes"]
        soak = m.get("soakMinutes", 0)
        change = m.get("kind") == "CHANGE_WINDOW"
        lo = clock(m["notBefore"]) if m.get("notBefore") else 0
        hi = clock(m["deadline"]) if m.get("deadline") else horizon
        hi = min(hi, horizon)
        scoped = [(a, b) for a, b, scope, ids in freezes
                  if scope in ("SCOPE_ALL_MILESTONES", "FREEZE_SCOPE_UNSPECIFIED")
                  or (scope == "SCOPE_CHANGE_WINDOWS" and change)
                  or (scope == "SCOPE_LISTED_MILESTONES" and m["id"] in ids)]
        starts = [s for s in range(0, horizon - d + 1, bucket)
                  if lo <= s and s + d <= hi and not overlaps_any(scoped, s, s + d)]
        roles = []
        for r in m["roles"]:
            on_call = r.get("basis") == "BASIS_ON_CALL"
            avail = {}
            for p in r["role"]["pool"]:
                if on_call:
                    ok = [s for s in starts if covers(shifts.get(p, []), s, s + d + soak)]
                else:
                    work, busy = people[p]
                    ok = [s for s in starts if covers(work, s, s + d) and not overlaps_any(busy, s, s + d)]
                avail[p] = set(ok)
            roles.append((r["role"]["id"], on_call, avail))
        # A start where the roles cannot all be filled (by distinct people,
        # unless the milestone allows several roles per person) is no candidate.
        multiple = m.get("allowMultipleRolesPerPerson", False)
        starts = [s for s in starts if fillable([[p for p, ok in avail.items() if s in ok] for _, _, avail in roles], multiple)]
        kept = set(starts)
        roles = [(rid, on_call, {p: ok & kept for p, ok in avail.items()}) for rid, on_call, avail in roles]
        milestones.append({
            "id": m["id"], "duration": d, "starts": starts, "roles": roles,
            "resources": m.get("resourceIds", []),
            "multiple": m.get("allowMultipleRolesPerPerson", False),
        })
    resources = {r["id"]: load_profile(r["capacity"], [(clock(b["start"]), clock(b["end"])) for b in r.get("booked", [])])
                 for r in request.get("resources", [])}
    # Where bookings alone fill a resource, a milestone using it cannot be.
    for m in milestones:
        full = [(a, b) for rid in m["resources"] for a, b, load in resources[rid][1] if load >= resources[rid][0]]
        m["starts"] = [s for s in m["starts"] if not overlaps_any(full, s, s + m["duration"])]
        kept = set(m["starts"])
        m["roles"] = [(rid, on_call, {p: ok & kept for p, ok in avail.items()}) for rid, on_call, avail in m["roles"]]
    deps = [(d["before"], d["after"], d.get("minGapMinutes", 0), d.get("maxGapMinutes"))
            for d in request.get("dependencies", [])]
    return milestones, resources, deps, horizon


def build(milestones, resources, deps, horizon):
    model = cp_model.CpModel()
    x, start, interval = {}, {}, {}
    for m in milestones:
        mid, d = m["id"], m["duration"]
        xs = {s: model.NewBoolVar(f"x[{mid},{s}]") for s in m["starts"]}
        model.AddExactlyOne(xs.values())
        start[mid] = model.NewIntVarFromDomain(cp_model.Domain.FromValues(m["starts"] or [0]), f"start[{mid}]")
        model.Add(start[mid] == sum(s * v for s, v in xs.items()))
        interval[mid] = model.NewFixedSizeIntervalVar(start[mid], d, f"occupies[{mid}]")
        x[mid] = xs
        m["x"] = xs
    durations = {m["id"]: m["duration"] for m in milestones}
    for before, after, min_gap, max_gap in deps:
        model.Add(start[after] >= start[before] + durations[before] + min_gap)
        if max_gap is not None:
            model.Add(start[after] <= start[before] + durations[before] + max_gap)
    # Roles: one distinct, available person each; working-hours attendance per person.
    attends = {}
    for m in milestones:
        mid = m["id"]
        by_person = {}
        for rid, on_call, avail in m["roles"]:
            ys = []
            for p, ok in avail.items():
                y = model.NewBoolVar(f"y[{mid},{rid},{p}]")
                if ok:
                    model.Add(y <= sum(m["x"][s] for s in ok))
                else:
                    model.Add(y == 0)
                ys.append(y)
                by_person.setdefault(p, []).append((y, on_call))
            model.AddExactlyOne(ys)
        for p, ys in by_person.items():
            if not m["multiple"]:
                model.Add(sum(y for y, _ in ys) <= 1)
            working = [y for y, on_call in ys if not on_call]
            if working:
                w = model.NewBoolVar(f"w[{mid},{p}]")
                model.AddMaxEquality(w, working)
                attends.setdefault(p, []).append((mid, w))
    # Overlapping milestones never share a working-hours attendee.
    for p, entries in attends.items():
        if len(entries) > 1:
            model.AddNoOverlap([
                model.NewOptionalFixedSizeIntervalVar(start[mid], durations[mid], w, f"o[{mid},{p}]")
                for mid, w in entries
            ])
    for rid, (capacity, pieces) in resources.items():
        users = [interval[m["id"]] for m in milestones if rid in m["resources"]]
        partial = [(a, b, load) for a, b, load in pieces if load < capacity]
        fixed = [model.NewFixedSizeIntervalVar(a, b - a, f"booked[{rid},{i}]") for i, (a, b, _) in enumerate(partial)]
        if len(users) > 1 or (users and fixed):
            demands = [1] * len(users) + [load for _, _, load in partial]
            model.AddCumulative(users + fixed, demands, capacity)
    # Without preference or attendee credit (refused above) a milestone's
    # cost is its start's offset, so the objective is the sum of the integer
    # starts; CP-SAT propagates that far better than a sum over start
    # literals (1.3 s against 7.2 s for the medium optimum when tried).
    model.Minimize(sum(start.values()))
    return model


def top_k(milestones, resources, deps, horizon, k, workers):
    """The k best plans: solve, forbid that start vector, solve again."""
    began = time.perf_counter()
    model = build(milestones, resources, deps, horizon)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = workers
    plans, first = [], None
    for _ in range(k):
        status = solver.Solve(model)
        if status != cp_model.OPTIMAL:
            break
        chosen = [next(s for s, v in m["x"].items() if solver.Value(v)) for m in milestones]
        plans.append((round(solver.ObjectiveValue()), chosen))
        if first is None:
            first = time.perf_counter() - began
        model.Add(sum(m["x"][s] for m, s in zip(milestones, chosen)) <= len(milestones) - 1)
    return plans, first, time.perf_counter() - began


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("request")
    ap.add_argument("--top-k", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=5, help="runs; the median is reported")
    ap.add_argument("--workers", type=int, default=2, help="CP-SAT search workers (this machine has 2 cores)")
    ap.add_argument("--quorum", help="`quorum plan --json` answer to check the costs against")
    args = ap.parse_args()
    request = json.load(open(args.request))
    refuse_unmodelled(request)
    began = time.perf_counter()
    milestones, resources, deps, horizon = presolve(request)
    presolve_s = time.perf_counter() - began
    firsts, totals, plans = [], [], None
    for _ in range(args.repeat):
        for m in milestones:
            m.pop("x", None)
        plans, first, total = top_k(milestones, resources, deps, horizon, args.top_k, args.workers)
        firsts.append(first)
        totals.append(total)
    median = lambda xs: sorted(xs)[len(xs) // 2]
    costs = [c for c, _ in plans]
    result = {
        "request": args.request,
        "candidate_starts": [len(m["starts"]) for m in milestones],
        "python_presolve_ms": round(presolve_s * 1000, 1),
        "optimal_ms": round(median(firsts) * 1000, 1),
        f"top{args.top_k}_ms": round(median(totals) * 1000, 1),
        "costs": costs,
    }
    if args.quorum:
        answer = json.load(open(args.quorum))
        quorum_costs = [int(p["cost"]) for p in answer.get("plans", [])]
        result["quorum_costs"] = quorum_costs
        result["costs_agree"] = quorum_costs == costs
        # The same problem: each milestone's candidate starts are Quorum's.
        result["starts_agree"] = answer.get("presolvedStarts") == result["candidate_starts"]
    print(json.dumps(result))
    if args.quorum and not (result["costs_agree"] and result["starts_agree"]):
        sys.exit("CP-SAT and Quorum disagree on the top-k costs or the candidate starts")


if __name__ == "__main__":
    main()
