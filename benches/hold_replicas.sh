#!/usr/bin/env bash
# PlaceHold throughput over the wire: one `quorum serve` on SQLite, then 1
# and 3 replicas on one durable PostgreSQL (fsync and synchronous_commit on),
# each loaded by `quorum load-holds` for DURATION seconds with CONCURRENCY
# streams; then 3 replicas at RATE (half the measured maximum, or as given)
# for the latency at a sustainable load. Release build; all on this machine.
# The paced run is open-loop: latency counts from each call's due time (see
# `quorum load-holds --help` and src/cli/load_holds.rs). The machine's load
# average is printed before each run, since other work shares the cores;
# REPEATS=N runs the paced stage N times, for the spread.
#
#   bash benches/hold_replicas.sh [DURATION] [CONCURRENCY] [RATE]
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-15}
concurrency=${2:-48}
rate=${3:-}
cargo build --release --quiet
quorum=target/release/quorum
work=$(mktemp -d /tmp/quorum-bench-XXXXXX)
chmod 755 "$work"
pg="$work/pg"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  bash tests/support/postgres.sh destroy "$pg" || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo $((20000 + RANDOM % 20000)); }

# Starts a replica on STORE and PORT in development mode.
replica() {
  "$quorum" serve --holds-only --listen "127.0.0.1:$2" --store "$1" >"$work/replica-$2.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do
    grep -q "quorum listening" "$work/replica-$2.log" && return 0
    sleep 0.1
  done
  echo "replica on $2 did not start:" >&2; cat "$work/replica-$2.log" >&2; exit 1
}

stop_replicas() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  pids=()
}

load() {
  echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  "$quorum" load-holds "$@" --concurrency "$concurrency" --duration "$duration"
}

echo "== SQLite, one server ($concurrency streams, ${duration} s)"
p=$(free_port); replica "$work/holds.db" "$p"
load --server "127.0.0.1:$p"
stop_replicas

pgport=$(free_port)
bash tests/support/postgres.sh start "$pg" "$pgport" durable
url="postgres://quorum@127.0.0.1:$pgport/postgres"

echo "== PostgreSQL (durable), one replica"
p=$(free_port); replica "$url" "$p"
load --server "127.0.0.1:$p"
stop_replicas

echo "== PostgreSQL (durable), three replicas"
servers=()
for _ in 1 2 3; do p=$(free_port); replica "$url" "$p"; servers+=(--server "127.0.0.1:$p"); done
out=$(load "${servers[@]}"); echo "$out"
if [[ -z "$rate" ]]; then
  rate=$(echo "$out" | awk '/throughput/ {printf "%d", $2 / 2}')
fi
for run in $(seq "${REPEATS:-1}"); do
  echo "== PostgreSQL (durable), three replicas at $rate PlaceHold/s (run $run)"
  load "${servers[@]}" --rate "$rate"
done
# Why a tail is long, from the database's side: lock waits broken as
# deadlocks, checkpoints, WAL flushes — summed over all the PostgreSQL runs.
"$(bash tests/support/postgres.sh bindir)/psql" -X -At -h 127.0.0.1 -p "$pgport" -U quorum -d postgres -c "
  SELECT 'PostgreSQL: ' || xact_commit || ' commits, ' || deadlocks || ' deadlocks' FROM pg_stat_database WHERE datname = 'postgres'
  UNION ALL SELECT 'checkpoints: ' || checkpoints_timed || ' timed, ' || checkpoints_req || ' requested' FROM pg_stat_bgwriter
  UNION ALL SELECT 'WAL: ' || wal_sync || ' flushes' FROM pg_stat_wal" || true
