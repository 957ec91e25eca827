"""The report's replay section: for a session made by `python -m regression replay`, its original and the comparison.

A replayed session's folder holds `comparison.json` (written by `regression.replay`); any other
folder has none and the section is left out. Like the rest of the report, a broken file never stops
the page: the section then says the comparison could not be read.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

COMPARISON = "comparison.json"
MAX_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class ReplayRow:
    answer: int
    cut: str  # "no/yes", "yes/yes", ...
    new_cut_off: bool
    reply_ms: str  # "840/910"
    wer: str
    then_actions: str
    now_actions: str


@dataclass(frozen=True)
class ReplayView:
    original_name: str
    original_href: str | None  # relative to this report: the original's report.html, else its folder
    summary: str
    regressions: list[str] = field(default_factory=list)
    overrides: list[str] = field(default_factory=list)
    rows: list[ReplayRow] = field(default_factory=list)
    note: str | None = None  # set when comparison.json could not be read


def build_replay(directory: Path) -> ReplayView | None:
    path = directory / COMPARISON
    if not path.is_file():
        return None
    try:
        if path.stat().st_size > MAX_BYTES:
            raise ValueError("too large")
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        return _view(directory, data)
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
        return ReplayView("?", None, "", note=f"{COMPARISON} could not be read ({type(exc).__name__}).")


def _view(directory: Path, data: dict[str, Any]) -> ReplayView:
    original = Path(str(data["original"]))
    href = None
    target = original / "report.html" if (original / "report.html").is_file() else original
    if original.is_dir():
        href = Path(os.path.relpath(target.resolve(), directory.resolve())).as_posix()
    s = data.get("summary") or {}
    summary = (
        f"{s.get('played')} of {s.get('answers')} answers played; cut-offs {s.get('cut_offs_then')} → "
        f"{s.get('cut_offs_now')}; reply p50 {_ms(s.get('reply_p50_then_ms'))} → {_ms(s.get('reply_p50_now_ms'))} ms; "
        f"recognition now vs then {s.get('wer_points')} WER points"
    )
    rows = []
    for a in data.get("answers") or []:
        then, now = a["then"], a.get("now")
        rows.append(
            ReplayRow(
                answer=int(a["answer"]),
                cut=f"{_yes(then['cut_off'])}/{'-' if now is None else _yes(now['cut_off'])}",
                new_cut_off=bool(a.get("new_cut_off")),
                reply_ms=f"{_ms(then.get('reply_delay_ms'))}/{_ms(None if now is None else now.get('reply_delay_ms'))}",
                wer="-" if now is None else f"{a.get('wer_points')}",
                then_actions=_actions(then),
                now_actions="-" if now is None else _actions(now),
            )
        )
    return ReplayView(original.name, href, summary, [str(r) for r in data.get("regressions") or []],
                      [str(o) for o in data.get("config_overrides") or []], rows)  # fmt: skip


def _yes(value: Any) -> str:
    return "yes" if value else "no"


def _ms(value: Any) -> str:
    return f"{value:.0f}" if isinstance(value, (int, float)) else "-"


def _actions(observation: dict[str, Any]) -> str:
    return ", ".join([*observation.get("tools", []), *observation.get("phase_moves", [])]) or "·"
