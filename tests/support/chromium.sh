#!/usr/bin/env bash
# Makes sure Debian's headless-capable Chromium and its WebDriver
# (chromedriver) are installed, installing them with apt-get the first time,
# and prints the two paths. The browser test drives them; .ci/run calls it
# too so CI fails early and loudly when they cannot be had. Quick when both
# are already there.
set -euo pipefail
have() { command -v chromium >/dev/null && command -v chromedriver >/dev/null; }
if ! have; then
  if ! command -v apt-get >/dev/null; then
    echo "chromium and chromedriver are missing and there is no apt-get to install them (Debian packages chromium, chromium-driver)" >&2
    exit 1
  fi
  # Test binaries may call this at once: one installs, the others wait.
  exec 9>/tmp/quorum-chromium-install.lock
  flock 9
  if ! have; then
    sudo=""
    if [ "$(id -u)" != 0 ]; then sudo="sudo -n"; fi
    if ! { $sudo apt-get update >&2 && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends chromium chromium-driver >&2; }; then
      echo "cannot install chromium and chromium-driver with apt-get (needs root or passwordless sudo, and the Debian mirror)" >&2
      exit 1
    fi
  fi
fi
command -v chromium
command -v chromedriver
