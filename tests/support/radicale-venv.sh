#!/usr/bin/env bash
# Makes sure a Python virtual environment under target/ holds Radicale 3.2.3
# or later (the first release with the CalDAV free-busy REPORT), installing it
# from PyPI the first time, and prints the environment's python. The CalDAV
# tests run Radicale with it; .ci/run calls it too so CI fails early and
# loudly when Python or PyPI cannot be had.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
venv="$target/radicale-venv"
mkdir -p "$target"
# Test binaries may call this at once: one installs, the others wait.
exec 9>"$target/radicale-venv.lock"
flock 9
usable() {
  "$venv/bin/python" - <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
parts = tuple(int(p) for p in version("radicale").split(".")[:3] if p.isdigit())
sys.exit(0 if parts >= (3, 2, 3) else 1)
PY
}
if ! usable; then
  rm -rf "$venv"
  if ! python3 -m venv "$venv" >&2; then
    echo "cannot create a Python virtual environment: install python3 and python3-venv" >&2
    exit 1
  fi
  if ! "$venv/bin/pip" install --quiet --disable-pip-version-check 'radicale>=3.2.3' >&2; then
    echo "cannot install radicale>=3.2.3 from PyPI into $venv" >&2
    exit 1
  fi
  usable || { echo "radicale in $venv is older than 3.2.3" >&2; exit 1; }
fi
echo "$venv/bin/python"
