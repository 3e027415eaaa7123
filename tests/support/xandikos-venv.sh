#!/usr/bin/env bash
# Xandikos 0.4.10 or later (checked to answer the RFC 6638 scheduling-outbox
# free/busy POST; Radicale does not implement scheduling) in
# target/xandikos-venv; prints the environment's python.
exec bash "$(dirname "$0")/pypi-venv.sh" xandikos 0.4.10
