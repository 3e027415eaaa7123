"""Writes the release-programme bench workloads (fixtures/programmes/bench/)
as PlanReleaseRequest proto3 JSON. Deterministic: the same seed always gives
the same files; the Rust test `programme_fixtures_are_canonical_proto3_json`
rewrites them in canonical form (QUORUM_BLESS=1) and then checks them."""
import json, random, sys
from datetime import datetime, timedelta, timezone

WD = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"]
ZONES = ["Europe/Berlin", "America/New_York", "Asia/Kolkata", "Europe/London"]
ORIGIN = datetime(2026, 10, 5, tzinfo=timezone.utc)  # spans the EU and US DST ends

def ts(minutes):
    return (ORIGIN + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")

def people(rng, count, days):
    out = []
    for i in range(count):
        zone = ZONES[i % len(ZONES)]
        busy = []
        for _ in range(days * 2):
            a = rng.randrange(0, days * 24 * 4) * 15
            busy.append({"start": ts(a), "end": ts(a + rng.choice([30, 60, 90])), "status": "BUSY"})
        out.append({"id": f"p{i}", "timeZone": zone,
                    "workingHours": [{"weekday": d, "start": "09:00", "end": "17:00"} for d in WD],
                    "busy": busy})
    return out

def rota(days, sres):
    shifts, t, i = [], -24 * 60, 0
    while t < days * 24 * 60 + 24 * 60:
        shifts.append({"personId": sres[i % len(sres)], "start": ts(t), "end": ts(t + 7 * 24 * 60)})
        t += 7 * 24 * 60
        i += 1
    return shifts

def milestone(rng, mid, pools, duration, kind="MEETING", oncall=None, board=False, soak=0):
    roles = [{"role": {"id": f"r{j}", "pool": pool}, "basis": "BASIS_WORKING_HOURS"} for j, pool in enumerate(pools)]
    if oncall:
        roles.append({"role": {"id": "sre", "pool": oncall}, "basis": "BASIS_ON_CALL"})
    m = {"id": mid, "kind": kind, "durationMinutes": duration, "roles": roles, "soakMinutes": soak,
         "optionalAttendeeWeightMinutes": "30"}
    if board:
        m["resourceIds"] = ["review-board"]
    return m

def programme(name, days, bucket, npeople, shape, seed=7):
    rng = random.Random(seed)
    ps = people(rng, npeople, days)
    ids = [p["id"] for p in ps]
    pool = lambda k: rng.sample(ids[2:], k)
    sres = ids[:2]
    ms, deps = [], []
    if shape == "chain":
        count = {"small": 3, "medium": 6}[name]
        for i in range(count):
            kind = "CHANGE_WINDOW" if i == count - 2 else "MEETING"
            ms.append(milestone(rng, f"m{i}", [pool(2), pool(2)], 60 if kind == "CHANGE_WINDOW" else 30, kind,
                                oncall=sres if kind == "CHANGE_WINDOW" else None, board=(i % 2 == 1 and name != "small"),
                                soak=60 if kind == "CHANGE_WINDOW" else 0))
            if i:
                deps.append({"before": f"m{i-1}", "after": f"m{i}", "minGapMinutes": 240 if i % 2 else 1440,
                             **({"maxGapMinutes": 4320} if i == count - 1 else {})})
    else:
        shared = ids[2:4]
        ms.append(milestone(rng, "kickoff", [pool(2), pool(2)], 30))
        for branch in "ab":
            for i in range(4):
                pools = [shared if i % 2 == 0 else pool(2), pool(2)]
                ms.append(milestone(rng, f"{branch}{i}", pools, 60 if i == 3 else 30,
                                    "CHANGE_WINDOW" if i == 3 else "MEETING",
                                    oncall=sres if i == 3 else None, board=(i == 1), soak=60 if i == 3 else 0))
                before = "kickoff" if i == 0 else f"{branch}{i-1}"
                deps.append({"before": before, "after": f"{branch}{i}", "minGapMinutes": 120 * (i + 1)})
        ms.append(milestone(rng, "retro", [pool(2), pool(2)], 30))
        deps += [{"before": "a3", "after": "retro", "minGapMinutes": 1440, "maxGapMinutes": 4320},
                 {"before": "b3", "after": "retro", "minGapMinutes": 1440, "maxGapMinutes": 4320}]
    booked = []
    for _ in range(days):
        a = rng.randrange(0, days * 24 * 4) * 15
        booked.append({"start": ts(a), "end": ts(a + 120)})
    return {
        "changeTicket": f"CHG-BENCH-{name.upper()}",
        "horizon": {"start": ts(0), "end": ts(days * 24 * 60)},
        "bucketMinutes": bucket,
        "people": ps,
        "onCall": rota(days, sres),
        "freezeWindows": [{"window": {"id": "change-freeze", "start": ts(2 * 24 * 60), "end": ts(3 * 24 * 60),
                                       "kind": "CHANGE_FREEZE"}, "scope": "SCOPE_CHANGE_WINDOWS"}],
        "resources": [{"id": "review-board", "capacity": 1, "booked": booked}],
        "milestones": ms,
        "dependencies": deps,
        "topK": 10,
    }

if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else "fixtures/programmes/bench"
    for name, days, bucket, npeople, shape in [("small", 7, 30, 8, "chain"), ("medium", 21, 15, 16, "chain"),
                                               ("large", 28, 15, 24, "branches")]:
        with open(f"{out}/{name}.json", "w") as f:
            json.dump(programme(name, days, bucket, npeople, shape), f, indent=2)
