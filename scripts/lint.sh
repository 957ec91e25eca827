#!/usr/bin/env bash
# Lint, format check and type check (the dev extras carry ruff and mypy; setup.sh installs them).
# `bash scripts/lint.sh --fix` applies ruff's safe fixes and formats instead of only checking.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ "${1:-}" = "--fix" ]; then
  .venv/bin/ruff check --fix .
  .venv/bin/ruff format .
else
  .venv/bin/ruff check .
  .venv/bin/ruff format --check .
fi
.venv/bin/mypy  # the packages listed in pyproject's [tool.mypy] files
