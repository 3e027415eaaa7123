#!/usr/bin/env bash
# Usage: pypi-venv.sh PACKAGE MIN_VERSION
# Makes sure a Python virtual environment target/PACKAGE-venv holds PACKAGE
# at MIN_VERSION or later, installing it from PyPI the first time, and prints
# the environment's python. The CalDAV tests run their servers (Radicale,
# Xandikos) with it; .ci/run calls it too so CI fails early and loudly when
# Python or PyPI cannot be had.
set -euo pipefail
package="$1"
min="$2"
root="$(cd "$(dirname "$0")/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
venv="$target/$package-venv"
mkdir -p "$target"
# Test binaries may call this at once: one installs, the others wait.
exec 9>"$target/$package-venv.lock"
flock 9
usable() {
  "$venv/bin/python" - "$package" "$min" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
def parts(v):
    return tuple(int(p) for p in v.split(".")[:3] if p.isdigit())
sys.exit(0 if parts(version(sys.argv[1])) >= parts(sys.argv[2]) else 1)
PY
}
if ! usable; then
  rm -rf "$venv"
  if ! python3 -m venv "$venv" >&2; then
    echo "cannot create a Python virtual environment: install python3 and python3-venv" >&2
    exit 1
  fi
  if ! "$venv/bin/pip" install --quiet --disable-pip-version-check "$package>=$min" >&2; then
    echo "cannot install $package>=$min from PyPI into $venv" >&2
    exit 1
  fi
  usable || { echo "$package in $venv is older than $min" >&2; exit 1; }
fi
echo "$venv/bin/python"
