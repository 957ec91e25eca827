#!/usr/bin/env bash
# Install Debian's headless Chromium for the browser tests (candidate page, report page).
# Playwright (a dev extra in pyproject.toml) drives it; no browser is ever downloaded by Playwright.
# Idempotent: does nothing when /usr/bin/chromium exists. Needs root (or sudo) for apt.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then
  command -v sudo >/dev/null || { echo "install_browser: need root or sudo to apt-get install chromium" >&2; exit 1; }
  SUDO=sudo
fi
echo "install_browser: installing Debian chromium (apt)..." >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
/usr/bin/chromium --version >&2
