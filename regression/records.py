"""Session record folders as the regression tools take them: checked up front, one clear line when unusable.

Why not `report.record.read_record`: the report must render whatever is left of a folder, so it
never fails; a regression run must refuse a folder it cannot judge fairly, before any judge call,
naming the folder and the problem (`RecordError`, exit status 2).

The question/answer pairs are rebuilt from transcript.jsonl by the session's own pairing code
(`interview.evaluator.RubricEvaluator.on_line`, the lines in the order they were written), so a
tool judges exactly the pairs the session's evaluator judged.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from interview.config import InterviewConfig
from interview.evaluator import RubricEvaluator
from interview.loader import ConfigError, config_from_data
from interview.scoring import QAPair, ScoringError, ScoringRun

RECORD_FILES = ("config.json", "transcript.jsonl", "events.jsonl")  # any of these: the folder is a record
MAX_FILE_BYTES = 32 * 1024 * 1024  # a record's JSON or JSONL file; larger is no interview transcript


class RecordError(Exception):
    """A record folder that cannot be used; the message is the one line to print."""


@dataclass(frozen=True)
class SessionInput:
    """What a tool needs from one record: the interview as configured and its question/answer pairs."""

    directory: Path
    config: InterviewConfig
    pairs: list[QAPair]
    interview_seconds: float | None  # as the session's own evaluation measured it, when it has one

    @property
    def name(self) -> str:
        return self.directory.name

    @property
    def answers(self) -> int:
        return sum(1 for pair in self.pairs if pair.answer.strip())


def is_record(directory: Path) -> bool:
    return any((directory / name).is_file() for name in RECORD_FILES)


def record_folders(arguments: Sequence[str], sessions_dir: Path) -> list[Path]:
    """Each argument: a record folder, a folder of record folders, or a bare session id under `sessions_dir`."""
    found: list[Path] = []
    for argument in arguments:
        path = Path(argument)
        bare_id = not path.exists() and len(path.parts) == 1
        if bare_id:
            path = sessions_dir / argument
        if not path.exists():
            also = f" (nor {path})" if bare_id else ""
            raise RecordError(f"{argument}: no such session record folder{also}")
        if not path.is_dir():
            raise RecordError(f"{argument}: not a folder (a session record is a folder such as sessions/<id>)")
        if is_record(path):
            found.append(path)
            continue
        inside = sorted(p for p in path.iterdir() if p.is_dir() and is_record(p))
        if not inside:
            raise RecordError(
                f"{argument}: not a session record (no {', '.join(RECORD_FILES)}) and no session records inside"
            )
        found.extend(inside)
    unique: dict[Path, Path] = {}
    for folder in found:
        unique.setdefault(folder.resolve(), folder)
    return list(unique.values())


async def load_session(directory: Path) -> SessionInput:
    """The record's interview config and QA pairs; `RecordError` naming the file and the problem."""
    config_data = _read_json(directory, "config.json")
    interview = config_data.get("interview")
    if not isinstance(interview, dict):
        raise RecordError(f"{directory}/config.json: no interview config in it (key 'interview')")
    try:
        config = config_from_data(interview, f"{directory}/config.json")
    except ConfigError as exc:
        raise RecordError(str(exc)) from None
    if not config.rubric:
        raise RecordError(f"{directory}/config.json: the interview has no rubric areas to score")
    lines = _read_transcript(directory)
    pairs = await _pairs(config, lines)
    if not any(pair.answer.strip() for pair in pairs):
        raise RecordError(f"{directory}/transcript.jsonl: no candidate answers to score")
    return SessionInput(directory, config, pairs, _interview_seconds(directory))


def _interview_seconds(directory: Path) -> float | None:
    """How long the session ran, from its own evaluation.json (optional: the recommendation gate uses it)."""
    if not (directory / "evaluation.json").is_file():
        return None
    try:
        value = _read_json(directory, "evaluation.json").get("interview_seconds")
    except RecordError:
        return None
    return float(value) if isinstance(value, (int, float)) else None


def _read_text(directory: Path, name: str) -> str:
    path = directory / name
    if not path.is_file():
        raise RecordError(f"{directory}: not a usable session record: {name} is missing")
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise RecordError(f"{path}: larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise RecordError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise RecordError(f"{path}: cannot be read ({exc.strerror or exc})") from None


def _read_json(directory: Path, name: str) -> dict[str, Any]:
    try:
        data = json.loads(_read_text(directory, name))
    except json.JSONDecodeError as exc:
        raise RecordError(f"{directory / name}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, dict):
        raise RecordError(f"{directory / name}: expected a JSON object, got {type(data).__name__}")
    return data


def _read_transcript(directory: Path) -> list[tuple[str, str, str]]:
    """(speaker, text, phase) of the lines the evaluator saw (keypad requests are no answers)."""
    lines: list[tuple[str, str, str]] = []
    for number, raw in enumerate(_read_text(directory, "transcript.jsonl").splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise RecordError(f"{directory}/transcript.jsonl line {number}: not valid JSON ({exc.msg})") from None
        if not isinstance(line, dict) or not isinstance(line.get("text"), str) or "speaker" not in line:
            raise RecordError(f"{directory}/transcript.jsonl line {number}: not a transcript line (speaker, text)")
        if "keypad" not in line:
            lines.append((str(line["speaker"]), line["text"], str(line.get("phase") or "")))
    return lines


async def _pairs(config: InterviewConfig, lines: list[tuple[str, str, str]]) -> list[QAPair]:
    """The session's own pairing: each line through `RubricEvaluator.on_line`, nothing scored or written."""
    evaluator = RubricEvaluator(config, _PairingOnly(), events=_Nowhere(), answer_grace_secs=1.0)
    for speaker, text, phase in lines:
        evaluator.on_line(speaker, text, phase)
    await evaluator.finalize(timeout=5.0)  # lets the per-answer tasks it started end (they score nothing)
    return evaluator.pairs


class _PairingOnly:
    """A scorer that declines every run at once: pairing needs no judge."""

    name = "pairing-only"
    model: str | None = None
    note: str | None = None
    confidence_ceiling = 0.0

    async def evaluate(self, config: InterviewConfig, pairs: Sequence[QAPair], *, areas: Any = None) -> ScoringRun:
        raise ScoringError("pairing only")


class _Nowhere:
    """An event sink that keeps nothing (the record being read is never written to)."""

    def event(self, event_type: str, **data: Any) -> None:
        pass

    def write_json(self, name: str, data: dict[str, Any]) -> Path:
        return Path(name)
