#!/usr/bin/env bash
# Radicale 3.2.3 or later (the first release with the CalDAV free-busy
# REPORT) in target/radicale-venv; prints the environment's python.
exec bash "$(dirname "$0")/pypi-venv.sh" radicale 3.2.3
