#!/usr/bin/env bash
# PlaceHold throughput over the wire: one `quorum serve` on SQLite, then 1
# and 3 replicas on one durable PostgreSQL (fsync and synchronous_commit on),
# each loaded by `quorum load-holds` for DURATION seconds with CONCURRENCY
# streams; then 3 replicas at RATE (half the measured maximum, or as given)
# for the latency at a sustainable load. Release build; all on this machine.
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

load() { "$quorum" load-holds "$@" --concurrency "$concurrency" --duration "$duration"; }

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
echo "== PostgreSQL (durable), three replicas at $rate PlaceHold/s"
"$quorum" load-holds "${servers[@]}" --concurrency "$concurrency" --duration "$duration" --rate "$rate"
