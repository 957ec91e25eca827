"""Headless Debian Chromium driven by Playwright, for tests of pages we serve or write.

Playwright never downloads a browser here: it launches `/usr/bin/chromium` (installed by
`scripts/install_browser.sh`). Without it the browser tests skip, unless `REQUIRE_BROWSER=1`
(set by `.ci/run`), where a missing browser is a failure.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS_DIR", Path(__file__).resolve().parents[2] / "test-artifacts"))

# Without the background-networking flags Chromium keeps dialling Google hosts that this
# closed network refuses.
BASE_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def require_chromium() -> None:
    """Skip (or fail, under REQUIRE_BROWSER=1) when Chromium or Playwright is missing."""
    missing = []
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        missing.append(f"Chromium at {CHROMIUM} (bash scripts/install_browser.sh)")
    try:
        import playwright  # noqa: F401
    except ImportError:
        missing.append("the playwright package (pip install -e '.[dev]')")
    if missing:
        message = "browser test needs " + " and ".join(missing)
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)


@contextmanager
def chromium_browser(extra_args: Sequence[str] = ()) -> Iterator[object]:
    """A headless Chromium (Playwright sync API ``Browser``) with a fresh profile."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile, sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=[*BASE_ARGS, *extra_args]
        )
        try:
            yield context
        finally:
            context.close()


def artifact_path(name: str) -> Path:
    """Where a test saves a screenshot or similar for people to look at (git-ignored)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / name
