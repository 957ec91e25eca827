"""Candidate scripts for the simulated candidate: what to say, in which order, with which pauses.

Why: end-to-end interviews and latency runs need a repeatable candidate. A script is a YAML file
that people edit by hand, so every mistake is reported with the file and the exact item at fault
instead of surfacing later as a silent or garbled turn.

Format::

    name: Senior backend engineer, strong candidate    # optional, for reports
    default_think_pause: 0.6                           # optional, seconds before each answer
    fallback_answer: I have nothing to add, thank you. # optional, said when answers run out
    answers:
      - A plain string is said in one go after the default think pause.
      - text: One answer with its own think pause.
        think_pause: 1.5
      - think_pause: 0.8
        segments:                    # an answer with pauses inside it
          - say: First part of the answer.
          - pause: 1.0               # seconds of microphone silence mid-answer
          - say: Second part.

Answers are consumed in order, one per interviewer turn (follow-up questions included).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

DEFAULT_THINK_PAUSE = 0.6
DEFAULT_FALLBACK_ANSWER = "I have nothing to add, thank you."
MAX_PAUSE_SECONDS = 60.0

_TOP_LEVEL_KEYS = {"name", "default_think_pause", "fallback_answer", "answers"}
_ANSWER_KEYS = {"text", "segments", "think_pause"}


class CandidateScriptError(ValueError):
    """A candidate script that cannot be used; the message names the file and the item."""


@dataclass(frozen=True)
class Say:
    """Speak this text."""

    text: str


@dataclass(frozen=True)
class Pause:
    """Keep the microphone open but silent for this many seconds."""

    seconds: float


Segment = Say | Pause


@dataclass(frozen=True)
class Answer:
    """One candidate turn: a think pause, then segments spoken back to back."""

    segments: tuple[Segment, ...]
    think_pause: float = DEFAULT_THINK_PAUSE

    @property
    def text(self) -> str:
        """Everything the answer says, without the pauses."""
        return " ".join(s.text for s in self.segments if isinstance(s, Say))

    @property
    def word_count(self) -> int:
        """Number of spoken words (the interviewer's short-answer rule counts these)."""
        return len(self.text.split())


@dataclass(frozen=True)
class CandidateScript:
    """A parsed script; ``answer_for`` never runs out (it falls back to a polite closer)."""

    answers: tuple[Answer, ...]
    fallback: Answer
    name: str | None = None
    source: str = "<script>"

    def answer_for(self, index: int) -> tuple[Answer, bool]:
        """The answer for the index-th candidate turn and whether it is the fallback."""
        if 0 <= index < len(self.answers):
            return self.answers[index], False
        return self.fallback, True


def load_candidate_script(path: str | Path) -> CandidateScript:
    """Read and validate a YAML candidate script."""
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CandidateScriptError(f"{path}: cannot read candidate script ({exc.strerror or exc})") from exc
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise CandidateScriptError(f"{path}: not valid YAML: {exc}") from exc
    return parse_candidate_script(data, source=str(path))


def parse_candidate_script(data: Any, source: str = "<script>") -> CandidateScript:
    """Validate already-loaded script data (a mapping with an ``answers`` list)."""

    def fail(where: str, problem: str) -> CandidateScriptError:
        return CandidateScriptError(f"{source}: {where}: {problem}")

    if not isinstance(data, Mapping):
        raise fail("top level", f"expected a mapping with an 'answers' list, got {_kind(data)}")
    unknown = sorted(set(map(str, data)) - _TOP_LEVEL_KEYS)
    if unknown:
        raise fail("top level", f"unknown key(s) {unknown}; allowed: {sorted(_TOP_LEVEL_KEYS)}")

    name = data.get("name")
    if name is not None and not isinstance(name, str):
        raise fail("name", f"must be a string, got {_kind(name)}")
    default_think = _seconds(data.get("default_think_pause", DEFAULT_THINK_PAUSE), "default_think_pause", fail)
    fallback_text = data.get("fallback_answer", DEFAULT_FALLBACK_ANSWER)
    if not isinstance(fallback_text, str) or not fallback_text.strip():
        raise fail("fallback_answer", "must be a non-empty string")

    answers_raw = data.get("answers")
    if answers_raw is None:
        raise fail("top level", "missing required key 'answers' (a list of answers)")
    if not isinstance(answers_raw, list) or not answers_raw:
        raise fail("answers", f"must be a non-empty list, got {_kind(answers_raw)}")

    answers = tuple(_parse_answer(item, f"answers[{i}]", default_think, fail) for i, item in enumerate(answers_raw))
    fallback = Answer(segments=(Say(fallback_text.strip()),), think_pause=default_think)
    return CandidateScript(answers=answers, fallback=fallback, name=name, source=source)


def _parse_answer(item: Any, where: str, default_think: float, fail: Any) -> Answer:
    if isinstance(item, str):
        return Answer(segments=(_say(item, where, fail),), think_pause=default_think)
    if not isinstance(item, Mapping):
        raise fail(where, f"must be a string or a mapping with 'text' or 'segments', got {_kind(item)}")
    unknown = sorted(set(map(str, item)) - _ANSWER_KEYS)
    if unknown:
        raise fail(where, f"unknown key(s) {unknown}; allowed: {sorted(_ANSWER_KEYS)}")
    think = _seconds(item.get("think_pause", default_think), f"{where}.think_pause", fail)
    has_text, has_segments = "text" in item, "segments" in item
    if has_text == has_segments:
        raise fail(where, "needs exactly one of 'text' or 'segments'")
    if has_text:
        return Answer(segments=(_say(item["text"], f"{where}.text", fail),), think_pause=think)

    raw_segments = item["segments"]
    if not isinstance(raw_segments, list) or not raw_segments:
        raise fail(f"{where}.segments", f"must be a non-empty list, got {_kind(raw_segments)}")
    segments: list[Segment] = []
    for j, seg in enumerate(raw_segments):
        seg_where = f"{where}.segments[{j}]"
        if not isinstance(seg, Mapping) or len(seg) != 1 or next(iter(seg)) not in ("say", "pause"):
            raise fail(seg_where, "each segment must be a mapping with exactly one key: 'say' or 'pause'")
        if "say" in seg:
            segments.append(_say(seg["say"], f"{seg_where}.say", fail))
        else:
            segments.append(Pause(_seconds(seg["pause"], f"{seg_where}.pause", fail)))
    if not any(isinstance(s, Say) for s in segments):
        raise fail(f"{where}.segments", "must contain at least one 'say' segment")
    return Answer(segments=tuple(segments), think_pause=think)


def _say(value: Any, where: str, fail: Any) -> Say:
    if not isinstance(value, str) or not value.strip():
        raise fail(where, f"must be a non-empty string, got {_kind(value)}")
    return Say(" ".join(value.split()))


def _seconds(value: Any, where: str, fail: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise fail(where, f"must be a number of seconds, got {_kind(value)}")
    if not 0 <= value <= MAX_PAUSE_SECONDS:
        raise fail(where, f"must be between 0 and {MAX_PAUSE_SECONDS:g} seconds, got {value}")
    return float(value)


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, str):
        return f"string {value!r}" if len(value) < 40 else "a string"
    return type(value).__name__
