#!/bin/sh
# The CP-SAT comparison of BENCHMARKS.md ("Release programmes"): makes a venv
# with OR-Tools in target/cpsat-venv (once), asks the quorum binary for each
# bench workload's top 10 plans, and runs benches/cpsat/programme.py on the
# same file, which checks that CP-SAT finds the same costs and prints its
# times as one JSON line per workload. Not run by the tests.
#
#   benches/cpsat/run.sh [QUORUM_BIN]     (default: target/release/quorum)
set -eu
cd "$(dirname "$0")/../.."
quorum=${1:-target/release/quorum}
if [ ! -x "$quorum" ]; then
    cargo build --release --bin quorum
fi
venv=target/cpsat-venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import ortools' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet 'ortools>=9.10'
fi
"$venv/bin/python" -c 'import ortools; print("ortools", ortools.__version__)'
for name in small medium large; do
    file=fixtures/programmes/bench/$name.json
    answer=target/cpsat-$name-quorum.json
    "$quorum" plan "$file" --json --top-k 10 > "$answer"
    "$venv/bin/python" benches/cpsat/programme.py "$file" --top-k 10 --quorum "$answer"
done
