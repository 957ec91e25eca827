"""Interview content as validated data: what to ask, how to score, how to pace.

Everything an interview needs that is not a secret or a deployment setting lives
in `InterviewConfig`. It is plain pydantic (no Pipecat imports) so the domain can
be tested and reused without the framework. Unknown keys are rejected everywhere:
a typo in a YAML file must fail loudly, not silently fall back to a default.
"""

from __future__ import annotations

import math
import re
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, field_validator, model_validator

SLUG_PATTERN = r"^[a-z][a-z0-9_]*$"
WEIGHT_TOLERANCE = 1e-3
KEYPAD_KEYS = frozenset("0123456789*#")


# The longest session the launcher's watchdog accepts (4 h): a contract cannot make a bot endless.
MAX_SESSION_SECONDS = 4 * 3600


class StrictModel(BaseModel):
    """Base for every config model: unknown keys are an error, models are immutable.

    No number may be inf or NaN (`Infinity` is valid JSON to Python): a contract from the
    recruiter API could otherwise make a timeout endless or a threshold meaningless."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class InterviewType(str, Enum):
    technical = "technical"
    behavioral = "behavioral"
    screening = "screening"
    qualitative_research = "qualitative_research"


class Anchor(StrictModel):
    """A calibration point on the rubric scale: what an answer at this score looks like."""

    score: int
    description: str = Field(min_length=1)
    example_answer: str = ""


class RubricArea(StrictModel):
    """One scored competency, e.g. "system design", with its weight and anchors."""

    id: str = Field(pattern=SLUG_PATTERN)
    name: str = Field(min_length=1)
    weight: float = Field(gt=0, le=1)
    description: str = Field(min_length=1)
    anchors: list[Anchor] = Field(min_length=2)
    follow_up_triggers: list[str] = Field(
        default_factory=list, description="Phrases that, when heard in an answer, deserve one probing follow-up."
    )

    @field_validator("anchors")
    @classmethod
    def _anchor_scores_unique(cls, anchors: list[Anchor]) -> list[Anchor]:
        scores = [a.score for a in anchors]
        if len(set(scores)) != len(scores):
            raise ValueError(f"anchor scores must be unique, got {scores}")
        return sorted(anchors, key=lambda a: a.score)


class Question(StrictModel):
    """A planned question; `rubric_areas` names the areas its answer is evidence for."""

    text: str = Field(min_length=1)
    rubric_areas: list[str] = Field(default_factory=list)
    follow_up: str = Field(
        default="", description="The probing follow-up to ask when the answer is short or hits a trigger."
    )

    @model_validator(mode="before")
    @classmethod
    def _accept_plain_string(cls, value: Any) -> Any:
        return {"text": value} if isinstance(value, str) else value


class Phase(StrictModel):
    """A section of the interview with its own time budget and instructions."""

    id: str = Field(pattern=SLUG_PATTERN)
    name: str = Field(min_length=1)
    duration_seconds: PositiveFloat
    prompt_suffix: str = ""
    questions: list[Question] = Field(default_factory=list)
    answers_candidate_questions: bool = Field(
        default=False,
        description="In this phase the candidate asks questions; the structured interviewer answers "
        "them from company.facts (via query_knowledge) instead of probing.",
    )


class CompanyContext(StrictModel):
    """What the interviewer may say about the company; also the `query_knowledge` corpus."""

    name: str = Field(min_length=1)
    description: str = ""
    values: list[str] = Field(default_factory=list)
    facts: dict[str, str] = Field(
        default_factory=dict, description="Topic -> answer, searched by the query_knowledge tool."
    )


class ScoreScale(StrictModel):
    minimum: int = 1
    maximum: int = 10

    @model_validator(mode="after")
    def _ordered(self) -> ScoreScale:
        if self.maximum <= self.minimum:
            raise ValueError("maximum must be greater than minimum")
        return self


class LatencyBudget(StrictModel):
    """Target milliseconds per stage of one voice-to-voice turn (product target: 410 ms)."""

    vad_ms: float = Field(default=50, ge=0)
    capture_ms: float = Field(default=20, ge=0)
    network_ms: float = Field(default=30, ge=0)
    stt_ms: float = Field(default=80, ge=0)
    llm_ms: float = Field(default=150, ge=0)
    tts_ms: float = Field(default=50, ge=0)
    playback_ms: float = Field(default=30, ge=0)

    @property
    def total_ms(self) -> float:
        return sum(self.model_dump().values())


class LatencyAlerts(StrictModel):
    """When the latency budget counts as blown, and how the circuit breaker reacts."""

    window_turns: int = Field(default=20, ge=1, description="Rolling window of recent turns for p50/p95.")
    min_samples: int = Field(default=10, ge=1, description="Turns needed before p95 is judged.")
    failures_to_open: int = Field(default=3, ge=1, description="Budget failures that open the breaker.")
    recovery_timeout_secs: float = Field(default=60, gt=0, description="Open -> half-open after this long.")


class Budget(StrictModel):
    limit_usd: float | None = Field(default=None, gt=0)
    latency: LatencyBudget = Field(default_factory=LatencyBudget)
    latency_alerts: LatencyAlerts = Field(default_factory=LatencyAlerts)


class EchoGateSettings(StrictModel):
    """Keeps the bot from hearing itself (speakerphones, phone lines) while allowing barge-in.

    RMS thresholds are on full scale = 1.0.
    """

    enabled: bool = True
    cooldown_secs: float = Field(default=1.5, ge=0, le=10, description="Tail after the bot stops speaking.")
    normal_rms_threshold: float = Field(default=0.01, ge=0, le=1, description="Below this, audio is silence.")
    cooldown_rms_threshold: float = Field(
        default=0.03, ge=0, le=1, description="In the tail, only louder audio passes."
    )
    barge_in_rms_threshold: float = Field(default=0.05, ge=0, le=1, description="While the bot speaks, this loud...")
    barge_in_min_secs: float = Field(default=0.2, ge=0, le=5, description="...for this long counts as barge-in.")
    echo_tracking: bool = Field(
        default=True,
        description="Predict the echo from the bot's own sent audio (coupling x output level a delay ago, learned "
        "where the microphone follows the output): the barge-in threshold becomes echo_margin x that prediction, "
        "never below barge_in_min_rms; off: the fixed barge_in_rms_threshold.",
    )
    echo_margin: float = Field(
        default=2.0, ge=1, le=20, description="How much louder than the predicted echo the candidate must be."
    )
    barge_in_min_rms: float = Field(
        default=0.015, ge=0, le=1, description="Threshold floor with echo_tracking (clean microphones)."
    )


class PacingSettings(StrictModel):
    """When the phase tracker nudges the interviewer about time."""

    phase_warning_fraction: float = Field(
        default=0.8, gt=0, lt=1, description="Warn at this share of a phase's budget."
    )
    rubric_reminder_fraction: float = Field(
        default=0.5, gt=0, lt=1, description="Re-inject the rubric at this share of the interview."
    )


class EvaluationSettings(StrictModel):
    """How answers are scored: an LLM judge, or the offline heuristic scorer."""

    scorer: Literal["auto", "llm", "heuristic"] = "auto"
    model: str | None = Field(default=None, description="Judge model; default: the LLM setting's model.")
    temperature: float = Field(default=0.3, ge=0, le=2)
    max_concurrency: int = Field(default=2, ge=1, le=16)
    max_retries: int = Field(default=2, ge=0, le=5, description="Retries on invalid JSON from the judge.")
    disagreement_tolerance: float | None = Field(
        default=None,
        gt=0,
        description="Two scoring runs further apart than this flag the area for human review. "
        "Default: 1 point on a 1-5 scale, 2 points on 1-10.",
    )


class Timeouts(StrictModel):
    session_timeout_seconds: PositiveFloat = Field(
        default=3600,
        le=MAX_SESSION_SECONDS,
        description=f"Hard stop: goodbye and end, whatever the phase (at most {MAX_SESSION_SECONDS} s).",
    )
    user_idle_seconds: PositiveFloat = Field(
        default=20,
        le=MAX_SESSION_SECONDS,
        description="Silence after the interviewer's question before a gentle nudge.",
    )
    idle_cancel_seconds: PositiveFloat = Field(
        default=300,
        le=MAX_SESSION_SECONDS,
        description="No speech from anyone for this long: the line is dead, end the session.",
    )


class TurnTaking(StrictModel):
    """VAD and end-of-turn settings. Interviews want patience: candidates pause to think."""

    vad_confidence: float = Field(default=0.7, gt=0, le=1)
    vad_start_secs: float = Field(
        default=0.22,
        gt=0,
        le=2,
        description="Speech this long starts a turn (and, over the interviewer, interrupts it once the echo gate "
        "passed it): 7 of Silero's 32 ms windows, with its volume ramp ~0.3 s of speech, so a shorter cough or "
        "'mm' does not.",
    )
    vad_stop_secs: float = Field(default=0.2, gt=0, le=5)
    vad_min_volume: float = Field(default=0.6, ge=0, le=1, description="Smoothed loudness (0-1) speech must reach.")
    vad_min_volume_after_silence: float | None = Field(
        default=0.4,
        ge=0,
        le=1,
        description="The floor for 0.5 s after digital silence (the echo gate's zeros over the interviewer), where "
        "the smoothed loudness climbs from 0: at vad_min_volume a short first word ('Wait, ...') never starts a "
        "barge-in. None = vad_min_volume throughout.",
    )
    stop_strategy: Literal["interview", "smart_turn", "silence"] = "interview"
    silence_timeout_secs: float = Field(
        default=1.2, gt=0, le=10, description="With stop_strategy=silence: quiet time that ends the candidate's turn."
    )
    smart_turn_max_silence_secs: float = Field(
        default=3.0,
        gt=0,
        le=10,
        description="With stop_strategy=smart_turn: silence that ends the turn even if the model "
        "thinks the candidate is mid-thought.",
    )
    allow_interruptions: bool = True
    resume_window_secs: float = Field(
        default=1.0,
        ge=0,
        le=10,
        description="The candidate speaking again this soon after the interviewer began replying is the same "
        "answer going on: the reply stops and leaves the context, the two parts become one answer. 0 = off.",
    )
    interview: InterviewTurnStop = Field(
        default_factory=lambda: InterviewTurnStop(),
        description="With stop_strategy=interview: how long to wait at each pause, from text, audio and context.",
    )


class Backchannel(StrictModel):
    """A short listening cue during a long pause in an unfinished answer; never takes the turn."""

    enabled: bool = False
    after_secs: float = Field(default=2.5, gt=0, le=30, description="Silence in an unfinished answer before the cue.")
    phrases: list[str] = Field(default_factory=lambda: ["Mm-hm.", "Take your time."], min_length=1)
    min_interval_secs: float = Field(default=30, ge=0, le=3600, description="At most one cue per this many seconds.")


class InterviewTurnStop(StrictModel):
    """The interview turn-stop strategy: waits are silence after the candidate's last word.

    Fast when text, audio and context all say the answer is done; unsure when any doubts it;
    long when the words are plainly unfinished ("and", "so", "um", a trailing comma), stretched
    to this candidate's own longest resumed pause; never past ``max_wait_secs``.
    """

    done_wait_secs: float = Field(default=0.8, ge=0, le=5)
    unsure_wait_secs: float = Field(default=1.5, gt=0, le=10)
    unfinished_wait_secs: float = Field(default=2.5, gt=0, le=30)
    max_wait_secs: float = Field(
        default=4.0, gt=0, le=60, description="Hard ceiling: the turn ends after this much silence."
    )
    smart_turn_threshold: float = Field(
        default=0.5, ge=0, le=1, description="Smart Turn probability that counts as 'done'."
    )
    smart_turn_mid_thought: float = Field(
        default=0.15,
        ge=0,
        le=1,
        description="Below this Smart Turn probability the pause counts as mid-thought (unfinished).",
    )
    min_answer_words: int = Field(default=6, ge=1, le=200, description="Fewer words to an open question: unsure.")
    pause_margin_secs: float = Field(
        default=0.6, ge=0, le=10, description="Added to this candidate's longest resumed pause."
    )
    handover_wait_secs: float | None = Field(
        default=None,
        ge=0,
        le=5,
        description="Wait when the answer hands the turn back (a question to the interviewer, 'that's it'); "
        "default: done_wait_secs. Research interviews wait long on finished sentences but not on a handover.",
    )
    end_of_turn_model: bool = Field(
        default=True,
        description="Weigh the end-of-turn language model's judgement of the words (turn_taking/end_of_turn_model.py, "
        "SmolLM2 on the CPU, off the event loop: 41 / 103 ms a pause, median / p95, the question evaluated while the candidate speaks: scripts/bench_end_of_turn.py --latency).",
    )
    model_unfinished_log_p: float = Field(
        default=-14.0, le=0, description="Below this natural-log P(end of turn) the words count as unfinished (P 8e-7)."
    )
    model_doubt_log_p: float = Field(
        default=-9.2,
        le=0,
        description="Below this (and above model_unfinished_log_p) the model doubts the answer is over: unsure.",
    )
    model_confident_log_p: float = Field(
        default=-6.5,
        le=0,
        description="At or above this log P(end of turn) the model's confidence outweighs Smart Turn's doubt and "
        "a short answer.",
    )
    recover_after_answers: int = Field(
        default=3,
        ge=1,
        le=50,
        description="A near miss (the candidate went on after a finished-sounding pause) lengthens the done wait "
        "until this many turns have ended without another.",
    )
    speculate: bool = Field(
        default=True,
        description="Prepare the reply (LLM) as soon as the answer reads done or unsure; it plays only once the turn "
        "ends, and is dropped without a trace if the candidate goes on.",
    )
    backchannel: Backchannel = Field(default_factory=Backchannel)

    @model_validator(mode="after")
    def _ordered(self) -> InterviewTurnStop:
        if not self.done_wait_secs <= self.unsure_wait_secs <= self.unfinished_wait_secs <= self.max_wait_secs:
            raise ValueError(
                "waits must grow: done_wait_secs <= unsure_wait_secs <= unfinished_wait_secs <= max_wait_secs"
            )
        if not self.model_unfinished_log_p <= self.model_doubt_log_p <= self.model_confident_log_p:
            raise ValueError(
                "model thresholds must grow: model_unfinished_log_p <= model_doubt_log_p <= model_confident_log_p"
            )
        return self


ProviderChoice = Literal["auto", "cloud", "local"]
# Who speaks to the candidate: a real interview, or the practice coach (feedback after each answer).
Persona = Literal["interviewer", "coach"]


class Providers(StrictModel):
    """Per-stage provider choice: `auto` uses the cloud provider when its key is set."""

    stt: ProviderChoice = "auto"
    llm: ProviderChoice = "auto"
    tts: ProviderChoice = "auto"
    llm_model: str | None = None
    tts_voice: str | None = None


class KeypadSettings(StrictModel):
    """Phone keypad (DTMF) shortcuts: a key press is delivered as the candidate saying `requests[key]`."""

    enabled: bool = True
    requests: dict[str, str] = Field(
        default_factory=lambda: {
            "*": "Could you repeat the question, please?",
            "#": "Please move on to the next question.",
        },
        description="Key (0-9, *, #) -> what the candidate asks for when pressing it.",
    )

    @model_validator(mode="after")
    def _check_keys(self) -> KeypadSettings:
        bad = sorted(k for k in self.requests if k not in KEYPAD_KEYS)
        if bad:
            raise ValueError(f"requests: unknown keypad key(s) {bad}; use 0-9, * or #")
        empty = sorted(k for k, v in self.requests.items() if not v.strip())
        if empty:
            raise ValueError(f"requests: empty request text for key(s) {empty}")
        return self


class FollowUpPolicy(StrictModel):
    max_per_question: int = Field(default=1, ge=0, le=3)
    short_answer_words: int = Field(
        default=12, ge=0, description="An answer with fewer words than this gets a follow-up."
    )


class InterviewConfig(StrictModel):
    """A complete, validated interview definition."""

    id: str = Field(pattern=SLUG_PATTERN)
    role: str = Field(min_length=1)
    company: CompanyContext
    level: str = Field(min_length=1)
    interview_type: InterviewType
    interviewer_name: str = "Alex"
    candidate_name: str | None = None
    duration_minutes: PositiveFloat
    phases: list[Phase] = Field(min_length=1)
    rubric: list[RubricArea] = Field(default_factory=list)
    score_scale: ScoreScale = Field(default_factory=ScoreScale)
    follow_ups: FollowUpPolicy = Field(default_factory=FollowUpPolicy)
    budget: Budget = Field(default_factory=Budget)
    timeouts: Timeouts = Field(default_factory=Timeouts)
    turn_taking: TurnTaking = Field(default_factory=TurnTaking)
    echo_gate: EchoGateSettings = Field(default_factory=EchoGateSettings)
    pacing: PacingSettings = Field(default_factory=PacingSettings)
    evaluation: EvaluationSettings = Field(default_factory=EvaluationSettings)
    providers: Providers = Field(default_factory=Providers)
    keypad: KeypadSettings = Field(default_factory=KeypadSettings)
    closing_message: str = (
        "That's all the questions I have. Thank you for your time today; "
        "you will hear from us about next steps soon. Goodbye."
    )

    @model_validator(mode="after")
    def _check_cross_field_rules(self) -> InterviewConfig:
        _require_unique("phases", [p.id for p in self.phases])
        _require_unique("rubric", [a.id for a in self.rubric])
        if self.rubric:
            total = sum(a.weight for a in self.rubric)
            if not math.isclose(total, 1.0, abs_tol=WEIGHT_TOLERANCE):
                raise ValueError(f"rubric: weights must sum to 1, got {total:.3f}")
        lo, hi = self.score_scale.minimum, self.score_scale.maximum
        for i, area in enumerate(self.rubric):
            for j, anchor in enumerate(area.anchors):
                if not lo <= anchor.score <= hi:
                    raise ValueError(
                        f"rubric.{i}.anchors.{j}.score: {anchor.score} is outside the "
                        f"score scale {lo}..{hi} (area '{area.id}')"
                    )
        known_areas = {a.id for a in self.rubric}
        for i, phase in enumerate(self.phases):
            for j, question in enumerate(phase.questions):
                unknown = [a for a in question.rubric_areas if a not in known_areas]
                if unknown:
                    raise ValueError(
                        f"phases.{i}.questions.{j}.rubric_areas: unknown rubric area(s) {unknown}; "
                        f"known: {sorted(known_areas)}"
                    )
        planned = sum(p.duration_seconds for p in self.phases)
        if planned > self.duration_minutes * 60 * 1.5:
            raise ValueError(
                f"phases: durations add up to {planned:.0f}s, far more than duration_minutes "
                f"({self.duration_minutes:g} min)"
            )
        if self.timeouts.session_timeout_seconds < self.duration_minutes * 60:
            raise ValueError(
                "timeouts.session_timeout_seconds: must be at least duration_minutes * 60 "
                f"({self.duration_minutes * 60:g}s)"
            )
        return self

    # --- convenience accessors -------------------------------------------------------

    @property
    def disagreement_tolerance(self) -> float:
        if self.evaluation.disagreement_tolerance is not None:
            return self.evaluation.disagreement_tolerance
        return 1.0 if self.score_scale.maximum - self.score_scale.minimum <= 4 else 2.0

    @property
    def phase_ids(self) -> list[str]:
        return [p.id for p in self.phases]

    @property
    def rubric_area_ids(self) -> list[str]:
        return [a.id for a in self.rubric]

    def phase(self, phase_id: str) -> Phase:
        for p in self.phases:
            if p.id == phase_id:
                return p
        raise KeyError(phase_id)

    def next_phase_id(self, phase_id: str) -> str | None:
        ids = self.phase_ids
        index = ids.index(phase_id)
        return ids[index + 1] if index + 1 < len(ids) else None

    def vocabulary(self) -> str:
        """All text the interview talks about; the local STT builds its language model from it."""
        parts: list[str] = [self.role, self.level, self.company.name, self.company.description]
        parts += self.company.values + list(self.company.facts.keys()) + list(self.company.facts.values())
        for phase in self.phases:
            parts += [phase.name, phase.prompt_suffix]
            for q in phase.questions:
                parts += [q.text, q.follow_up]
        for area in self.rubric:
            parts += [area.name, area.description, *area.follow_up_triggers]
            for anchor in area.anchors:
                parts += [anchor.description, anchor.example_answer]
        return "\n".join(p for p in parts if p)


def _require_unique(field: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for index, value in enumerate(ids):
        if value in seen:
            raise ValueError(f"{field}.{index}.id: duplicate id '{value}'")
        seen.add(value)


def slugify(text: str) -> str:
    """Lower-case identifier from free text (used for generated ids)."""
    slug = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    return slug if slug and slug[0].isalpha() else f"x_{slug}"
