"""What a session must keep on disk to be rebuilt from its record folder alone (`snapshot.json`).

Written atomically after every turn (bots/session.py): the interview state (phase, clocks,
scores, follow-ups, flags), the LLM context (messages and tool calls), the rubric
evaluator's pairs and scores, the answer the transcript still holds, and where the session's
clock stood. Read back when a dropped candidate comes back (or a new process takes over): a
corrupt or foreign snapshot is refused with a message naming what is wrong, never half-used.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

SNAPSHOT_FILE = "snapshot.json"
SNAPSHOT_VERSION = 1


class SnapshotError(ValueError):
    """The record cannot be resumed; the message says which file or field is wrong."""


class HeldLine(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str
    phase: str
    extra: dict[str, Any] = Field(default_factory=dict)


class EvaluatorSnapshot(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pairs: list[dict[str, Any]] = Field(default_factory=list)  # QAPair.to_dict()
    answer_scores: list[dict[str, Any]] = Field(default_factory=list)  # AnswerScore.to_dict()
    question: list[str] = Field(default_factory=list)  # interviewer lines since the last answer
    question_at: float | None = None
    question_phase: str | None = None
    elapsed_s: float = 0.0  # the evaluator's clock: pairs' times go on from here


class SessionSnapshot(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = SNAPSHOT_VERSION
    session_id: str = Field(min_length=1)
    interview_id: str = Field(min_length=1)
    state: dict[str, Any]  # InterviewState.snapshot()
    state_clock_s: float  # the tracker's clock when saved: a resumed state's times are moved past the gap
    messages: list[dict[str, Any]]  # the LLM context
    evaluator: EvaluatorSnapshot
    held_line: HeldLine | None = None
    record_elapsed_s: float = Field(ge=0)  # the record's clock at the save
    saved_at_wall: float  # time.time() at the save: the time away is measured from it
    latency_turns: list[dict[str, Any]] = Field(default_factory=list)  # latency.json's turns so far
    begun: bool = False  # the interview had started (the candidate had joined)

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    @classmethod
    def load(cls, directory: Path) -> SessionSnapshot:
        """The snapshot in a record folder; SnapshotError naming the problem if it is missing or bad."""
        path = directory / SNAPSHOT_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise SnapshotError(f"{path}: no snapshot (the session never saved a turn)") from exc
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise SnapshotError(f"{path}: unreadable: {exc}") from exc
        if not isinstance(data, dict) or data.get("version") != SNAPSHOT_VERSION:
            raise SnapshotError(f"{path}: not a version {SNAPSHOT_VERSION} session snapshot")
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise SnapshotError(f"{path}: {where}: {first['msg']}") from exc


def json_messages(messages: list[Any]) -> list[dict[str, Any]]:
    """The context's messages that survive JSON (plain dicts; provider-specific objects are not resumable)."""
    kept: list[dict[str, Any]] = []
    for message in messages:
        if isinstance(message, dict):
            try:
                kept.append(json.loads(json.dumps(message)))
            except (TypeError, ValueError):
                continue
    return kept
