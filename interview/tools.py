"""The interviewer's tools: definitions as plain data, and the handlers that run them.

Definitions are framework-free (name, description, JSON-schema properties, required) so
the Pipecat layer can wrap them in its own schema type and a local engine can read them
too. Enums come from the config, so the LLM can only name phases and rubric areas that
exist. Handlers validate every call against the same definitions (unknown tool, missing,
extra or mistyped arguments, out-of-range values) plus the interview's rules (only the
next phase may be entered), and a rejected call returns a short error for the LLM and
leaves the state untouched. Every call yields an event for the session's events log.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from interview.config import InterviewConfig
from interview.state import InterviewState

TRANSITION_SECTION = "transition_section"
SCORE_ANSWER = "score_answer"
FLAG_FOLLOWUP = "flag_followup"
QUERY_KNOWLEDGE = "query_knowledge"
CHECK_TIME_REMAINING = "check_time_remaining"
END_INTERVIEW = "end_interview"

_NON_EMPTY_STRING: dict[str, Any] = {"type": "string", "minLength": 1}


@dataclass(frozen=True)
class ToolDefinition:
    """One tool as plain data; `properties` are JSON-schema property definitions."""

    name: str
    description: str
    properties: dict[str, dict[str, Any]]
    required: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ToolResult:
    """What a tool call returns: a short text for the LLM and an event for the log."""

    ok: bool
    text: str
    event: dict[str, Any] | None = None
    end_session: bool = False


def build_tool_definitions(config: InterviewConfig) -> list[ToolDefinition]:
    """The tools for this interview; rubric-dependent parts vanish when there is no rubric."""
    area_ids = config.rubric_area_ids
    area_property: dict[str, Any] = {
        **_NON_EMPTY_STRING,
        "enum": area_ids,
        "description": "The rubric area the probe is about.",
    }
    definitions = [
        ToolDefinition(
            name=TRANSITION_SECTION,
            description=(
                "Move the interview to the next phase when the current one is done or out of time. "
                "Only the next phase in the plan is accepted."
            ),
            properties={
                "phase_id": {**_NON_EMPTY_STRING, "enum": config.phase_ids, "description": "The next phase's id."},
                "reason": {**_NON_EMPTY_STRING, "description": "Why now, in a few words."},
            },
            required=["phase_id", "reason"],
        )
    ]
    if area_ids:
        definitions.append(
            ToolDefinition(
                name=SCORE_ANSWER,
                description="Silently record a score for the answer just given, for one rubric area.",
                properties={
                    "rubric_area": {**area_property, "description": "The rubric area being scored."},
                    "score": {
                        "type": "integer",
                        "minimum": config.score_scale.minimum,
                        "maximum": config.score_scale.maximum,
                        "description": "The score on the interview's scale.",
                    },
                    "evidence": {**_NON_EMPTY_STRING, "description": "A short verbatim quote from the answer."},
                },
                required=["rubric_area", "score", "evidence"],
            )
        )
    followup_properties: dict[str, dict[str, Any]] = {
        "reason": {**_NON_EMPTY_STRING, "description": "What was vague or worth probing."}
    }
    if area_ids:
        followup_properties["rubric_area"] = area_property
    definitions += [
        ToolDefinition(
            name=FLAG_FOLLOWUP,
            description="Note that the last answer needs a deeper probe.",
            properties=followup_properties,
            required=["reason"],
        ),
        ToolDefinition(
            name=QUERY_KNOWLEDGE,
            description=f"Look up what may be said about {config.company.name} or the role.",
            properties={"topic": {**_NON_EMPTY_STRING, "description": "The topic asked about, in a few words."}},
            required=["topic"],
        ),
        ToolDefinition(
            name=CHECK_TIME_REMAINING,
            description="Time left in the current phase and in the whole interview.",
            properties={},
            required=[],
        ),
        ToolDefinition(
            name=END_INTERVIEW,
            description="End the interview. The call hangs up after your goodbye.",
            properties={"reason": {**_NON_EMPTY_STRING, "description": "Why the interview ends."}},
            required=["reason"],
        ),
    ]
    return definitions


# --- argument validation (driven by the definitions) -------------------------------------


def validate_arguments(definition: ToolDefinition, arguments: Any) -> str | None:
    """The first problem with `arguments` as a short sentence, or None if they are valid.

    A null value for an optional argument counts as absent (LLMs often send one).
    """
    if not isinstance(arguments, dict):
        return "arguments must be an object"
    unexpected = sorted(str(key) for key in arguments if key not in definition.properties)
    if unexpected:
        return f"unexpected argument(s): {', '.join(unexpected)}"
    missing = [key for key in definition.required if key not in arguments]
    if missing:
        return f"missing argument(s): {', '.join(missing)}"
    for key, value in arguments.items():
        if value is None and key not in definition.required:
            continue
        error = _check_value(key, value, definition.properties[key])
        if error:
            return error
    return None


def _check_value(name: str, value: Any, schema: dict[str, Any]) -> str | None:
    kind = schema.get("type")
    if kind == "string":
        if not isinstance(value, str):
            return f"{name} must be a string"
        if len(value.strip()) < schema.get("minLength", 0):
            return f"{name} must not be empty"
    elif kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            return f"{name} must be an integer"
        low, high = schema.get("minimum"), schema.get("maximum")
        if (low is not None and value < low) or (high is not None and value > high):
            return f"{name} must be from {low} to {high}"
    if "enum" in schema and value not in schema["enum"]:
        return f"{name} must be one of: {', '.join(schema['enum'])}"
    return None


# --- company knowledge lookup ------------------------------------------------------------

_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "about",
        "at",
        "be",
        "can",
        "do",
        "does",
        "for",
        "how",
        "i",
        "in",
        "is",
        "it",
        "me",
        "of",
        "on",
        "or",
        "the",
        "to",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "you",
        "your",
        "there",
        "their",
        "this",
        "that",
    ]
)


_SUFFIXES = ("ingly", "edly", "ing", "ly", "ed", "es", "s")


def _stem(word: str) -> str:
    """Crude suffix strip so "remotely" meets "remote" and "teams" meets "team"; good enough for a few facts."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            return word[: -len(suffix)]
    return word


def _keywords(text: str) -> set[str]:
    """Lower-case stemmed content words."""
    return {_stem(w) for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in _STOPWORDS}


def find_fact(facts: dict[str, str], topic: str, min_score: int = 1) -> tuple[str, str] | None:
    """The (key, answer) sharing most keywords with `topic`; key words count double; ties go to config order.

    `min_score` 2 asks for a key word or two answer words in common (a confident match).
    """
    wanted = _keywords(topic)
    best: tuple[str, str] | None = None
    best_score = min_score - 1
    for key, answer in facts.items():
        score = 2 * len(wanted & _keywords(key)) + len(wanted & _keywords(answer))
        if score > best_score:
            best, best_score = (key, answer), score
    return best


# --- handlers ----------------------------------------------------------------------------


def _duration_words(seconds: float) -> str:
    """Rounded for speech: minutes above 90 seconds, else seconds."""
    seconds = abs(seconds)
    if seconds >= 90:
        return f"{round(seconds / 60)} minutes"
    return f"{round(seconds)} seconds"


def _time_left_words(label: str, left: float) -> str:
    if left >= 0:
        return f"{label}: about {_duration_words(left)} left."
    return f"{label}: {_duration_words(left)} over time."


class InterviewToolHandlers:
    """Runs tool calls against one interview's state; never raises on bad input."""

    def __init__(
        self, config: InterviewConfig, state: InterviewState, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.config = config
        self.state = state
        self.clock = clock
        self.definitions = build_tool_definitions(config)
        self._definitions = {d.name: d for d in self.definitions}
        self._handlers: dict[str, Callable[[dict[str, Any], float], ToolResult]] = {
            TRANSITION_SECTION: self._transition_section,
            SCORE_ANSWER: self._score_answer,
            FLAG_FOLLOWUP: self._flag_followup,
            QUERY_KNOWLEDGE: self._query_knowledge,
            CHECK_TIME_REMAINING: self._check_time_remaining,
            END_INTERVIEW: self._end_interview,
        }

    def handle(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        """Validate and run one call; a rejected call changes nothing."""
        definition = self._definitions.get(name) if isinstance(name, str) else None
        if definition is None:
            return self._reject(name, f"unknown tool '{name}'; available: {', '.join(self._definitions)}")
        error = validate_arguments(definition, arguments)
        if error:
            return self._reject(name, error)
        if self.state.ended and name != CHECK_TIME_REMAINING:
            return self._reject(name, "the interview has already ended")
        return self._handlers[name](arguments, self.clock())

    @staticmethod
    def _reject(name: Any, error: str) -> ToolResult:
        text = f"Rejected {name}: {error}." if isinstance(name, str) else f"Rejected: {error}."
        return ToolResult(ok=False, text=text, event={"type": "tool_rejected", "tool": str(name), "error": error})

    def _transition_section(self, args: dict[str, Any], now: float) -> ToolResult:
        current, target = self.state.current_phase, args["phase_id"]
        expected = self.config.next_phase_id(current)
        if target == current:
            return self._reject(TRANSITION_SECTION, f"already in phase {current}")
        if expected is None:
            return self._reject(TRANSITION_SECTION, f"{current} is the last phase; call end_interview when done")
        if target != expected:
            return self._reject(TRANSITION_SECTION, f"only the next phase, {expected}, can follow {current}")
        seconds_in_phase = self.state.time_in_phase(now)
        self.state.enter_phase(target, now)
        phase = self.config.phase(target)
        return ToolResult(
            ok=True,
            text=f"Now in {phase.name} [{phase.id}], about {_duration_words(phase.duration_seconds)}.",
            event={
                "type": "phase_transition",
                "from": current,
                "to": target,
                "reason": args["reason"].strip(),
                "seconds_in_phase": round(seconds_in_phase, 3),
            },
        )

    def _score_answer(self, args: dict[str, Any], now: float) -> ToolResult:
        record = self.state.add_score(args["rubric_area"], args["score"], args["evidence"].strip(), now)
        return ToolResult(
            ok=True,
            text="Score recorded.",
            event={
                "type": "score",
                "rubric_area": record.rubric_area,
                "score": record.score,
                "evidence": record.evidence,
                "phase": record.phase,
            },
        )

    def _flag_followup(self, args: dict[str, Any], now: float) -> ToolResult:
        record = self.state.add_follow_up(args["reason"].strip(), args.get("rubric_area"), now)
        return ToolResult(
            ok=True,
            text="Follow-up noted.",
            event={
                "type": "follow_up_flag",
                "reason": record.reason,
                "rubric_area": record.rubric_area,
                "phase": record.phase,
            },
        )

    def _query_knowledge(self, args: dict[str, Any], now: float) -> ToolResult:
        topic = args["topic"].strip()
        match = find_fact(self.config.company.facts, topic)
        event = {"type": "knowledge_query", "topic": topic, "matched": match[0] if match else None}
        if match is None:
            text = f'Nothing is known about "{topic}". Say you will find out and follow up after the interview.'
            return ToolResult(ok=True, text=text, event=event)
        return ToolResult(ok=True, text=match[1], event=event)

    def _check_time_remaining(self, args: dict[str, Any], now: float) -> ToolResult:
        phase = self.config.phase(self.state.current_phase)
        phase_left = phase.duration_seconds - self.state.time_in_phase(now)
        interview_left = self.config.duration_minutes * 60 - self.state.elapsed(now)
        next_id = self.config.next_phase_id(phase.id)
        parts = [
            _time_left_words(f"Phase {phase.name}", phase_left),
            _time_left_words("Interview", interview_left),
            f"Next phase: {next_id}." if next_id else "This is the last phase.",
        ]
        return ToolResult(
            ok=True,
            text=" ".join(parts),
            event={
                "type": "time_check",
                "phase": phase.id,
                "phase_seconds_left": round(phase_left, 3),
                "interview_seconds_left": round(interview_left, 3),
            },
        )

    def _end_interview(self, args: dict[str, Any], now: float) -> ToolResult:
        phase = self.state.current_phase
        reason = args["reason"].strip()
        self.state.end(reason, now)
        return ToolResult(
            ok=True,
            text="The interview is over. The closing words are being spoken for you now; say nothing more.",
            event={
                "type": "interview_ended",
                "reason": reason,
                "phase": phase,
                "completed_all_phases": phase == self.config.phase_ids[-1],
                "elapsed_seconds": round(self.state.elapsed(now), 3),
            },
            end_session=True,
        )
