"""Reading a session record folder without ever failing: what is missing or corrupt becomes a note.

Why: the report is written after crashes and hang-ups too, and is regenerated from folders
that may have been copied, truncated or edited by hand. Every file is optional; a JSON file
that does not parse, or a JSONL line that does not, is skipped and named in `notes`.
"""

from __future__ import annotations

import json
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FILES = {"config": "config.json", "latency": "latency.json", "evaluation": "evaluation.json"}
WHY_MISSING = {
    "config.json": "the interview's configuration is unknown",
    "latency.json": "the session ended before latency was summarised",
    "evaluation.json": "the session ended before scoring (no scorecard)",
    "transcript.jsonl": "nothing was transcribed",
    "events.jsonl": "no timeline of events",
    "recording.wav": "no audio to play",
}


@dataclass
class RecordData:
    """The parsed files of one record; absent ones are empty, never None inside lists."""

    directory: Path
    config: dict[str, Any] = field(default_factory=dict)
    latency: dict[str, Any] = field(default_factory=dict)
    evaluation: dict[str, Any] = field(default_factory=dict)
    transcript: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    recording_seconds: float | None = None  # None: no playable recording.wav
    notes: list[str] = field(default_factory=list)  # what is missing or unreadable, for the reader

    @property
    def interview(self) -> dict[str, Any]:
        value = self.config.get("interview")
        return value if isinstance(value, dict) else {}

    def events_of(self, *types: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("type") in types]

    def first_event(self, event_type: str) -> dict[str, Any] | None:
        return next((e for e in self.events if e.get("type") == event_type), None)


def json_object(parent: dict[str, Any], key: str) -> dict[str, Any]:
    """``parent[key]`` when it is a JSON object, else ``{}``: a record written by an older or broken run still renders."""
    value = parent.get(key)
    return value if isinstance(value, dict) else {}


def read_record(directory: Path) -> RecordData:
    data = RecordData(directory=Path(directory))
    for attribute, name in FILES.items():
        setattr(data, attribute, _read_json(data, name))
    data.transcript = _read_jsonl(data, "transcript.jsonl")
    data.events = _read_jsonl(data, "events.jsonl")
    data.recording_seconds = _recording_seconds(data)
    return data


def _missing(data: RecordData, name: str) -> None:
    data.notes.append(f"{name} is missing: {WHY_MISSING[name]}.")


def _read_json(data: RecordData, name: str) -> dict[str, Any]:
    path = data.directory / name
    if not path.exists():
        _missing(data, name)
        return {}
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        data.notes.append(f"{name} could not be read ({type(exc).__name__}): {WHY_MISSING[name]}.")
        return {}
    if not isinstance(value, dict):
        data.notes.append(f"{name} is not a JSON object: {WHY_MISSING[name]}.")
        return {}
    return value


def _read_jsonl(data: RecordData, name: str) -> list[dict[str, Any]]:
    path = data.directory / name
    if not path.exists():
        _missing(data, name)
        return []
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        data.notes.append(f"{name} could not be read ({type(exc).__name__}): {WHY_MISSING[name]}.")
        return []
    rows: list[dict[str, Any]] = []
    bad: list[int] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            bad.append(number)
            continue
        if isinstance(row, dict):
            rows.append(row)
        else:
            bad.append(number)
    if bad:
        shown = ", ".join(str(n) for n in bad[:5]) + (" ..." if len(bad) > 5 else "")
        data.notes.append(f"{name}: {len(bad)} unreadable line(s) skipped (line {shown}).")
    return rows


def _recording_seconds(data: RecordData) -> float | None:
    path = data.directory / "recording.wav"
    if not path.exists():
        _missing(data, "recording.wav")
        return None
    try:
        with wave.open(str(path), "rb") as wav:
            return wav.getnframes() / float(wav.getframerate() or 1)
    except (OSError, EOFError, wave.Error) as exc:
        data.notes.append(f"recording.wav is not a playable WAV file ({type(exc).__name__}).")
        return None
