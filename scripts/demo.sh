#!/usr/bin/env bash
# Set up (if needed) and run one whole spoken interview offline: the bot serves a
# WebSocket on a free local port, a simulated candidate answers out loud, and the
# session record's location is printed at the end. Args go to scripts/demo.py.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python scripts/demo.py "$@"
