"""README promises only what the product does (issue #13, item 9: resume was claimed, never wired)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _wired(argument: str) -> bool:
    """Whether any shipped module (outside the class that defines it) passes `argument=`."""
    pattern = re.compile(rf"\b{argument}=")
    for folder in ("bots", "transports", "pipelines", "services"):
        for path in (ROOT / folder).rglob("*.py"):
            if pattern.search(path.read_text(encoding="utf-8")):
                return True
    return False


def test_resume_is_promised_only_if_a_session_can_be_resumed() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    promised = re.search(r"resume support|resumes? (a |dropped )?sessions?\b(?! is not)", readme, re.IGNORECASE)
    assert _wired("resume_from") or not promised, f"README promises resume: {promised and promised.group(0)!r}"
