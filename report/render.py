"""Rendering report.html from a record folder with Jinja2 (autoescaped: transcript text is untrusted).

Why Jinja2 templates: the page is markup, and markup belongs in a template a designer can
edit, with escaping on by default. The CSS and the small seek script live beside the
template and are inlined, so the file opens from disk with no network at all.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from report.cost import CostView, build_cost
from report.header import HeaderView, build_header
from report.latency import LatencyView, build_latency
from report.record import RecordData, json_object, read_record
from report.replay import ReplayView, build_replay
from report.scorecard import ScorecardView, build_scorecard
from report.timeline import TimelineView, build_timeline
from report.timing import TimedLine, clock, recording_origin, timed_lines

REPORT_FILE = "report.html"
TEMPLATES = Path(__file__).resolve().parent / "templates"
SPEAKERS = {"candidate": "Candidate", "interviewer": "Interviewer"}


@dataclass(frozen=True)
class ReportView:
    header: HeaderView
    scorecard: ScorecardView
    timeline: TimelineView
    transcript: list[TimedLine]
    latency: LatencyView
    cost: CostView
    recording: str | None  # relative src for <audio>, None without a playable file
    recording_length: str | None
    notes: list[str]
    person: str  # "Candidate" or "Participant"
    speakers: dict[str, str]
    replay: ReplayView | None = None  # a replayed session's original and comparison (report/replay.py)


def build_view(record: RecordData) -> ReportView:
    origin = recording_origin(record.events)
    lines = timed_lines(record.transcript, origin, _candidate_tail(record.interview))
    ended = record.first_event("session_ended")
    end_s = (
        ended.get("elapsed_s") if ended and isinstance(ended.get("elapsed_s"), (int, float)) else _last_stamp(record)
    )
    header = build_header(record)
    person = "Participant" if record.interview.get("interview_type") == "qualitative_research" else "Candidate"
    return ReportView(
        header=header,
        scorecard=build_scorecard(record.evaluation, lines),
        timeline=build_timeline(record.interview, record.events, lines, origin, end_s),
        transcript=lines,
        latency=build_latency(record.latency),
        cost=build_cost(ended),
        recording="recording.wav" if record.recording_seconds is not None else None,
        recording_length=clock(record.recording_seconds) if record.recording_seconds is not None else None,
        notes=list(record.notes),
        person=person,
        speakers={**SPEAKERS, "candidate": person},
        replay=build_replay(record.directory),
    )


def render_report(directory: Path) -> str:
    """The report's HTML for the record in `directory` (nothing is written)."""
    view = build_view(read_record(Path(directory)))
    return (
        _environment()
        .get_template("report.html.j2")
        .render(view=view, clock=clock, css=_asset("report.css"), js=_asset("report.js"))
    )


def write_report(directory: Path) -> Path:
    """Render and write `directory/report.html` atomically (a reader never sees half a file)."""
    directory = Path(directory)
    html = render_report(directory)
    handle, temporary = tempfile.mkstemp(prefix=".report-", suffix=".html", dir=directory)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(html)
        os.chmod(temporary, 0o644)  # mkstemp makes it private; the report is for readers
        os.replace(temporary, directory / REPORT_FILE)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return directory / REPORT_FILE


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html", "j2", "svg"), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["score"] = _score
    return env


def _asset(name: str) -> str:
    return (TEMPLATES / name).read_text(encoding="utf-8")


def _score(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}".rstrip("0").rstrip(".")


def _candidate_tail(interview: dict[str, Any]) -> float:
    """Silence after the candidate's last word before the turn (and its transcript line) closed."""
    turn = json_object(interview, "turn_taking")
    stop = turn.get("vad_stop_secs", 0.2)
    wait = (
        turn.get("silence_timeout_secs")
        if turn.get("stop_strategy") == "silence"
        else turn.get("smart_turn_max_silence_secs")
    )
    numbers = [v for v in (stop, wait) if isinstance(v, (int, float))]
    return float(sum(numbers)) if numbers else 1.5


def _last_stamp(record: RecordData) -> float | None:
    stamps = [r["elapsed_s"] for r in record.events + record.transcript if isinstance(r.get("elapsed_s"), (int, float))]
    return float(max(stamps)) if stamps else None
