"""The running state of one interview: where it is, what was scored, how it ended.

Plain data mutated only through a few methods, so the tool handlers and the phase
tracker share one source of truth. Times are floats from whatever clock the caller
uses (normally `time.monotonic`); the state never reads a clock itself, which keeps
it deterministic in tests. `snapshot()`/`restore()` let a session be persisted and
picked up again; `restore` validates and fails with a message naming the bad field.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from interview.config import InterviewConfig


class StateError(ValueError):
    """A snapshot that cannot be restored; the message names the field."""


class _Record(BaseModel):
    """Base for state records: unknown keys and loose types are rejected so corrupt snapshots fail loudly."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class PhaseVisit(_Record):
    phase_id: str = Field(min_length=1)
    entered_at: float
    left_at: float | None = None


class ScoreRecord(_Record):
    rubric_area: str = Field(min_length=1)
    score: int
    evidence: str = Field(min_length=1)
    phase: str = Field(min_length=1)
    at: float


class FollowUpRecord(_Record):
    reason: str = Field(min_length=1)
    rubric_area: str | None = None
    phase: str = Field(min_length=1)
    at: float


class Flag(_Record):
    """Something worth noting that is neither a score nor a follow-up (idle, timeout, audio issue)."""

    name: str = Field(min_length=1)
    detail: str = ""
    phase: str = Field(min_length=1)
    at: float


class InterviewState(_Record):
    """Mutable state of one interview session."""

    interview_id: str = Field(min_length=1)
    started_at: float
    current_phase: str = Field(min_length=1)
    phase_started_at: float
    phase_history: list[PhaseVisit] = Field(min_length=1)
    scores: list[ScoreRecord] = Field(default_factory=list)
    follow_ups: list[FollowUpRecord] = Field(default_factory=list)
    flags: list[Flag] = Field(default_factory=list)
    ended: bool = False
    end_reason: str | None = None
    ended_at: float | None = None

    @model_validator(mode="after")
    def _consistent(self) -> InterviewState:
        last = self.phase_history[-1]
        if last.phase_id != self.current_phase:
            raise ValueError(
                f"current_phase: '{self.current_phase}' is not the last entry of phase_history ('{last.phase_id}')"
            )
        if last.entered_at != self.phase_started_at:
            raise ValueError("phase_started_at: does not match the last phase_history entry")
        if self.ended != (self.end_reason is not None) or self.ended != (self.ended_at is not None):
            raise ValueError("ended: end_reason and ended_at must be set exactly when ended is true")
        for index, visit in enumerate(self.phase_history[:-1]):
            if visit.left_at is None:
                raise ValueError(f"phase_history.{index}.left_at: only the current phase may be open")
        return self

    # --- construction and persistence -----------------------------------------------

    @classmethod
    def start(cls, config: InterviewConfig, now: float) -> InterviewState:
        """A fresh state in the first configured phase."""
        first = config.phases[0].id
        return cls(
            interview_id=config.id,
            started_at=now,
            current_phase=first,
            phase_started_at=now,
            phase_history=[PhaseVisit(phase_id=first, entered_at=now)],
        )

    def snapshot(self) -> dict[str, Any]:
        """JSON-safe copy of the whole state."""
        return self.model_dump(mode="json")

    @classmethod
    def restore(cls, data: Any, config: InterviewConfig | None = None) -> InterviewState:
        """Rebuild from `snapshot()` output; with `config`, also check ids belong to it."""
        if not isinstance(data, dict):
            raise StateError(f"interview state: expected a mapping, got {type(data).__name__}")
        try:
            state = cls.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            location = ".".join(str(part) for part in first["loc"])
            message = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
            message = message.removeprefix("Value error, ")
            raise StateError(f"interview state: {location + ': ' if location else ''}{message}") from exc
        if config is not None:
            state._check_against(config)
        return state

    def shifted(self, seconds: float) -> InterviewState:
        """The same state with every time moved by `seconds`: a resumed session's clocks skip the time away."""
        data = self.snapshot()

        def move(value: float | None) -> float | None:
            return None if value is None else value + seconds

        for key in ("started_at", "phase_started_at", "ended_at"):
            data[key] = move(data[key])
        for visit in data["phase_history"]:
            visit["entered_at"], visit["left_at"] = move(visit["entered_at"]), move(visit["left_at"])
        for key in ("scores", "follow_ups", "flags"):
            for item in data[key]:
                item["at"] = move(item["at"])
        return InterviewState.model_validate(data)

    def _check_against(self, config: InterviewConfig) -> None:
        if self.interview_id != config.id:
            raise StateError(f"interview state: interview_id '{self.interview_id}' does not match config '{config.id}'")
        phases = set(config.phase_ids)
        for index, visit in enumerate(self.phase_history):
            if visit.phase_id not in phases:
                raise StateError(f"interview state: phase_history.{index}.phase_id: unknown phase '{visit.phase_id}'")
        areas = set(config.rubric_area_ids)
        for index, record in enumerate(self.scores):
            if record.rubric_area not in areas:
                raise StateError(f"interview state: scores.{index}.rubric_area: unknown area '{record.rubric_area}'")

    # --- clocks ---------------------------------------------------------------------

    def _effective_now(self, now: float) -> float:
        """Time stops when the interview ends."""
        return min(now, self.ended_at) if self.ended_at is not None else now

    def elapsed(self, now: float) -> float:
        return max(0.0, self._effective_now(now) - self.started_at)

    def time_in_phase(self, now: float) -> float:
        return max(0.0, self._effective_now(now) - self.phase_started_at)

    # --- mutations (callers validate first; these only record) ----------------------

    def enter_phase(self, phase_id: str, now: float) -> None:
        self.phase_history[-1].left_at = now
        self.phase_history.append(PhaseVisit(phase_id=phase_id, entered_at=now))
        self.current_phase = phase_id
        self.phase_started_at = now

    def add_score(self, rubric_area: str, score: int, evidence: str, now: float) -> ScoreRecord:
        record = ScoreRecord(rubric_area=rubric_area, score=score, evidence=evidence, phase=self.current_phase, at=now)
        self.scores.append(record)
        return record

    def add_follow_up(self, reason: str, rubric_area: str | None, now: float) -> FollowUpRecord:
        record = FollowUpRecord(reason=reason, rubric_area=rubric_area, phase=self.current_phase, at=now)
        self.follow_ups.append(record)
        return record

    def add_flag(self, name: str, detail: str, now: float) -> Flag:
        flag = Flag(name=name, detail=detail, phase=self.current_phase, at=now)
        self.flags.append(flag)
        return flag

    def end(self, reason: str, now: float) -> None:
        self.phase_history[-1].left_at = now
        self.ended = True
        self.end_reason = reason
        self.ended_at = now
