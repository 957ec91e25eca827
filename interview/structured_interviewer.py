"""The "structured interview, no LLM" mode: a deterministic interviewer.

Given the conversation so far, decides the interviewer's next move from the
config alone: greet, ask each phase's questions in order, ask one follow-up when
an answer is short or hits a follow-up trigger, move phases through the
`transition_section` tool (the same path a real LLM uses), and close with
`end_interview`. It has no Pipecat imports; `services/local_interviewer.py`
streams its moves as LLM frames. Same conversation in -> same move out.

The phase tracker, not this engine, decides where the interview is: a barge-in can
cut the reply that carried a phase move (its tool result then never starts a new
response), so each move first follows the tracker's latest "now in phase" note in
the context. A move the tracker rejects never ends the interview.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from typing import Any

from interview.config import InterviewConfig, InterviewType, Persona, Question
from interview.interruptions import is_backchannel, is_cut, resume_text
from interview.pacing import RESUME_MARKER, entered_phase_id, is_wrap_up
from interview.text_similarity import normalise
from interview.tools import find_fact

ACKNOWLEDGEMENTS = ("Thank you.", "Thanks, that's helpful.", "Got it, thank you.", "Okay, thanks.")
REPEAT_REQUEST = re.compile(r"\b(repeat|say (that|it) again|pardon|didn'?t (catch|hear))\b", re.IGNORECASE)
# "Move on" / "skip" (spoken, or a phone keypad shortcut): no follow-up, go to the next question.
MOVE_ON_REQUEST = re.compile(r"\b(move on|next question|skip (this|that|it|the question))\b", re.IGNORECASE)
GENERIC_FOLLOW_UP = "Could you make that more concrete, with a specific example from your own work?"
MAX_CANDIDATE_QUESTIONS = 2
ANYTHING_ELSE = "Is there anything else you would like to know?"
UNKNOWN_FACT = "I don't know that offhand; I will find out and follow up after the interview."
ANYTHING_TO_ADD = "Is there anything you would like to add before we go on?"
REJECTION_PREFIXES = ("error", "rejected", "cannot", "unknown")
UNSETTLED_RESULTS = ("cancelled", "in_progress")  # Pipecat's stand-ins for a call that gave no result


@dataclass(frozen=True)
class ToolCall:
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class Move:
    """What the interviewer says and, optionally, the tool it calls after saying it."""

    text: str = ""
    tool_call: ToolCall | None = None


@dataclass
class _Cursor:
    phase_index: int = 0
    question_index: int = -1  # -1: no question of this phase asked yet
    follow_ups_asked: int = 0
    last_spoken_question: str = ""
    turns: int = 0
    greeted: bool = False
    closed: bool = False
    pending_transition: str | None = None
    follow_ups_used: set[str] = field(default_factory=set)
    pending_knowledge: bool = False
    candidate_questions_answered: int = 0
    notes: list[str] = field(default_factory=list)
    last_move_text: str = ""
    resumes_handled: int = 0  # resume notes (a dropped candidate came back) already welcomed


class StructuredInterviewer:
    """Walks an `InterviewConfig` one move at a time."""

    def __init__(self, config: InterviewConfig, persona: Persona = "interviewer", candidate_name: str | None = None):
        self._config = config
        self._persona = persona
        self._candidate_name = candidate_name or config.candidate_name
        self._cursor = _Cursor()
        self._tentative: tuple[_Cursor, bool] | None = None  # a held move: where it leads, did it call a tool
        self._before_last: _Cursor | None = None  # where we stood before the last move we made
        self._before_call: _Cursor | None = None  # where we stood before the last move that called a tool

    @property
    def finished(self) -> bool:
        return self._cursor.closed

    @property
    def current_phase_id(self) -> str:
        return self._config.phases[self._cursor.phase_index].id

    def next_move(self, messages: list[dict[str, Any]], *, tentative: bool = False) -> Move:
        """Decide the next move from the conversation (OpenAI-format messages).

        ``tentative``: the answer may not be over (a reply prepared before the turn is
        confirmed); the move takes effect only on :meth:`confirm_tentative`.
        """
        before = copy.deepcopy(self._cursor)
        move = self._decide(messages)
        self._before_call = before if move.tool_call is not None else None
        if move.text:
            self._cursor.last_move_text = move.text
        if tentative:
            self._tentative, self._cursor = (self._cursor, move.tool_call is not None), before
        else:
            self._tentative, self._before_last = None, before if move.tool_call is None else None
        return move

    def confirm_tentative(self) -> None:
        """The held move was released: it happened."""
        if self._tentative is not None:
            (after, called_tool), self._tentative = self._tentative, None
            self._before_last, self._cursor = None if called_tool else self._cursor, after

    def withdraw_tentative(self) -> None:
        """The held move was dropped: it never happened."""
        self._tentative = None

    def call_withdrawn(self) -> None:
        """The last move's tool call never ran (Pipecat withdrew the prepared reply): the move never happened.

        Unlike :meth:`undo_last_move` this also takes back a move that was already confirmed:
        the turn end can confirm a prepared reply just before its tool call is withdrawn.
        """
        self._tentative = None
        if self._before_call is not None:
            self._cursor, self._before_call, self._before_last = self._before_call, None, None

    def undo_last_move(self) -> bool:
        """The candidate went on with the answer the last move replied to: that move never happened.

        Moves that called a tool (a phase change, the end) are not undone: the phase tracker
        already acted on them. Returns whether the move was undone.
        """
        if self._before_last is None:
            return False
        self._cursor, self._before_last = self._before_last, None
        return True

    def _decide(self, messages: list[dict[str, Any]]) -> Move:
        cursor = self._cursor
        cursor.turns += 1
        if cursor.closed:
            return Move()
        resumes = sum(1 for m in messages if m.get("role") == "system" and _message_text(m).startswith(RESUME_MARKER))
        if resumes > cursor.resumes_handled and any(m.get("role") == "assistant" for m in messages):
            cursor.resumes_handled = resumes  # the candidate is back after a drop: never the greeting again
            self._follow_tracker(messages)
            self._take_over(messages)
            return Move(text=self._welcome_back(messages))
        if not cursor.greeted and any(m.get("role") == "assistant" for m in messages):
            self._take_over(messages)  # another LLM held the interview so far (failover): no greeting
        if not cursor.greeted:
            cursor.greeted = True
            resumed_phase = _resumed_phase(messages, self._config.phase_ids)
            if resumed_phase is not None:
                cursor.phase_index = self._config.phase_ids.index(resumed_phase)
                phase_name = self._config.phases[cursor.phase_index].name.lower()
                return Move(text=f"Welcome back. Let's continue with {phase_name}. {self._advance_question()}")
            return Move(text=f"{self._greeting()} {self._advance_question()}")
        if any(m.get("role") == "system" and is_wrap_up(_message_text(m)) for m in messages):
            cursor.closed = True
            return Move(
                text="We're out of time, so let's stop here.",
                tool_call=ToolCall("end_interview", {"reason": "Interview time is up."}),
            )

        resumed = self._resume_after_false_interruption(messages)
        if resumed:
            return Move(text=resumed)
        moved = self._follow_tracker(messages)
        last = _last_relevant_message(messages)
        if last is not None and last.get("role") == "tool":
            return self._after_tool_result(last, moved)
        if moved:
            # The move happened but its reply was cut (barge-in): say it now.
            return self._enter_phase_move()
        if last is None:
            # Run without a new answer (e.g. the candidate went quiet): re-ask gently.
            return Move(text=f"Take your time. {cursor.last_spoken_question}" if cursor.last_spoken_question else "")

        answer = _message_text(last)
        if answer and REPEAT_REQUEST.search(answer) and cursor.last_spoken_question:
            return Move(text=f"Of course. {cursor.last_spoken_question}")

        moving_on = bool(answer and MOVE_ON_REQUEST.search(answer))
        feedback = self._coach_feedback(answer) if self._persona == "coach" and answer and not moving_on else ""
        phase = self._config.phases[cursor.phase_index]
        follow_up = "" if phase.answers_candidate_questions or moving_on else self._follow_up_for(answer)
        if follow_up:
            cursor.follow_ups_asked += 1
            cursor.last_spoken_question = follow_up
            return Move(text=_join(self._acknowledgement(), feedback, follow_up))

        if cursor.question_index + 1 < len(phase.questions):
            return Move(text=_join(self._acknowledgement(), feedback, self._advance_question()))

        next_phase = self._config.next_phase_id(phase.id)
        if phase.answers_candidate_questions and not moving_on and self._is_company_question(answer):
            # The candidate asks about the company: answer from the facts via the tool.
            cursor.pending_knowledge = True
            cursor.candidate_questions_answered += 1
            return Move(text="Good question.", tool_call=ToolCall("query_knowledge", {"topic": answer}))
        if next_phase is not None:
            cursor.pending_transition = next_phase
            return Move(
                text=_join(self._acknowledgement(), feedback),
                tool_call=ToolCall(
                    "transition_section",
                    {"phase_id": next_phase, "reason": f"All {phase.name} questions have been covered."},
                ),
            )
        # The session speaks the configured closing words once end_interview is accepted.
        cursor.closed = True
        return Move(
            text=_join(self._acknowledgement(), feedback),
            tool_call=ToolCall("end_interview", {"reason": "All phases completed."}),
        )

    # --- moves ------------------------------------------------------------------------

    def _resume_after_false_interruption(self, messages: list[dict[str, Any]]) -> str:
        """Cut off, then nothing but a cough or an "mm-hm": say the cut sentence again and go on.

        A real answer after a cut is answered as usual (the candidate heard the question
        up to the cut and chose to talk): the interviewer does not repeat itself.
        """
        for message in reversed(messages):
            role = message.get("role")
            text = _message_text(message)
            if role == "user" and not is_backchannel(text):
                return ""
            if role == "assistant" and not message.get("tool_calls"):
                return resume_text(self._cursor.last_move_text, text) if is_cut(text) else ""
            if role == "tool":
                return ""
        return ""

    def _after_tool_result(self, message: dict[str, Any], moved: bool) -> Move:
        cursor = self._cursor
        if cursor.pending_knowledge:
            cursor.pending_knowledge = False
            fact = _tool_result_text(message)
            spoken = UNKNOWN_FACT if fact.lower().startswith(("nothing is known", "error")) else fact
            return Move(text=f"{spoken} {ANYTHING_ELSE}")
        target = cursor.pending_transition
        cursor.pending_transition = None
        if moved:
            return self._enter_phase_move()
        if target is None:
            return Move()
        result = _tool_result_text(message).lower()
        if result in UNSETTLED_RESULTS:
            return Move()  # cut off before the tracker ran it: the next answer asks again
        if "already ended" in result:
            cursor.closed = True
            return Move()
        if result.startswith(REJECTION_PREFIXES):
            # The tracker said no and is still in this phase: stay, and try again after the next answer.
            return Move(text=ANYTHING_TO_ADD)
        self._enter_phase(target)
        return self._enter_phase_move()

    def _follow_tracker(self, messages: list[dict[str, Any]]) -> bool:
        """Adopt the phase the tracker last said it entered, if that is ahead of ours; True if we moved."""
        tracker_phase = _tracker_phase(messages, self._config.phase_ids)
        if tracker_phase is None:
            return False
        if self._config.phase_ids.index(tracker_phase) <= self._cursor.phase_index:
            return False
        self._enter_phase(tracker_phase)
        return True

    def _enter_phase(self, phase_id: str) -> None:
        cursor = self._cursor
        cursor.phase_index = self._config.phase_ids.index(phase_id)
        cursor.question_index = -1
        cursor.pending_transition = None

    def _enter_phase_move(self) -> Move:
        """The words of a phase move: name the new phase and ask its first question."""
        phase = self._config.phases[self._cursor.phase_index]
        question = self._advance_question()
        if not question:
            return self.next_move([])
        return Move(text=f"Let's move on to {phase.name.lower()}. {question}")

    def _take_over(self, messages: list[dict[str, Any]]) -> None:
        """Carry on an interview another LLM (or process) started: its last question stands as the current one."""
        cursor = self._cursor
        cursor.greeted = True
        said = [_message_text(m) for m in messages if m.get("role") == "assistant" and _message_text(m)]
        questions = [q.text for q in self._config.phases[cursor.phase_index].questions]
        asked = [i for i, q in enumerate(questions) if any(q in text for text in said)]
        cursor.question_index = max(cursor.question_index, asked[-1] if asked else 0)
        if said:
            last = said[-1]
            open_question = next((q for q in questions if q in last), None)  # not the greeting around it
            cursor.last_spoken_question = open_question or _without_welcome_back(last)

    def _welcome_back(self, messages: list[dict[str, Any]]) -> str:
        """After a drop: go on with the open question, or let the candidate finish what they were saying."""
        last = _last_relevant_message(messages)
        if last is not None and last.get("role") == "user" and (words := _message_text(last).split()):
            tail = " ".join(words[-8:])
            return f"Welcome back. You were saying: {tail}... Please go on."
        question = self._cursor.last_spoken_question
        return f"Welcome back. Where we were: {question}" if question else "Welcome back. Let's go on."

    def _advance_question(self) -> str:
        cursor = self._cursor
        phase = self._config.phases[cursor.phase_index]
        cursor.question_index += 1
        cursor.follow_ups_asked = 0
        cursor.follow_ups_used = set()
        if cursor.question_index >= len(phase.questions):
            return ""
        text = phase.questions[cursor.question_index].text
        cursor.last_spoken_question = text
        return text

    def _current_question(self) -> Question | None:
        phase = self._config.phases[self._cursor.phase_index]
        index = self._cursor.question_index
        return phase.questions[index] if 0 <= index < len(phase.questions) else None

    def _follow_up_for(self, answer: str) -> str:
        """The configured follow-up first, then a generic probe; never the same one twice."""
        question = self._current_question()
        if question is None or self._cursor.follow_ups_asked >= self._config.follow_ups.max_per_question:
            return ""
        unused = [f for f in (question.follow_up, GENERIC_FOLLOW_UP) if f and f not in self._cursor.follow_ups_used]
        if not unused:
            return ""
        if len(answer.split()) < self._config.follow_ups.short_answer_words:
            follow_up = unused[0]
        elif (trigger := self._trigger_heard(answer, question)) and unused[0] == question.follow_up:
            follow_up = f"You mentioned {trigger}. {question.follow_up}"
        else:
            return ""
        self._cursor.follow_ups_used.add(unused[0])
        return follow_up

    def _trigger_heard(self, answer: str, question: Question) -> str:
        words = f" {' '.join(re.findall(r'[a-z0-9]+', normalise(answer)))} "
        for area in self._config.rubric:
            if question.rubric_areas and area.id not in question.rubric_areas:
                continue
            for trigger in area.follow_up_triggers:
                if f" {trigger.lower()} " in words:
                    return trigger
        return ""

    def _is_company_question(self, answer: str) -> bool:
        if self._cursor.candidate_questions_answered >= MAX_CANDIDATE_QUESTIONS or not answer:
            return False
        return find_fact(self._config.company.facts, answer, min_score=2) is not None

    def _greeting(self) -> str:
        config = self._config
        hello = f"Hello {self._candidate_name}!" if self._candidate_name else "Hello!"
        parts = ", ".join(p.name.lower() for p in config.phases)
        if self._persona == "coach":
            return (
                f"{hello} I'm {config.interviewer_name}, your practice coach for the {config.role} "
                f"interview at {config.company.name}. I'll ask real interview questions and give you "
                f"quick feedback after each answer. We'll cover {parts}."
            )
        if config.interview_type == InterviewType.qualitative_research:
            return (
                f"{hello} I'm {config.interviewer_name} from {config.company.name}. Thank you for taking the time "
                f"to talk with me. There are no right or wrong answers; I'm here to learn from your experience. "
                f"We have about {config.duration_minutes:g} minutes, covering {parts}. Let's begin."
            )
        return (
            f"{hello} I'm {config.interviewer_name}, and I'll be interviewing you today for the "
            f"{config.role} role at {config.company.name}. We have about "
            f"{config.duration_minutes:g} minutes, covering {parts}. Let's begin."
        )

    def _acknowledgement(self) -> str:
        return ACKNOWLEDGEMENTS[self._cursor.turns % len(ACKNOWLEDGEMENTS)]

    def _coach_feedback(self, answer: str) -> str:
        question = self._current_question()
        if len(answer.split()) < self._config.follow_ups.short_answer_words:
            return "Tip: that was brief. Interviewers look for a concrete example, your own part in it, and the result."
        if question is not None and (trigger := self._trigger_heard(answer, question)):
            return f"Good: you brought up {trigger}, which shows depth. Say why you chose it."
        return "Good structure. Close with the outcome and what you learned."


WELCOME_BACK = re.compile(r"^(?:Welcome back\.\s*(?:Where we were:\s*)?)+", re.IGNORECASE)


def _without_welcome_back(text: str) -> str:
    """An earlier return's words are not the question (a second drop must not nest them)."""
    return WELCOME_BACK.sub("", text).strip()


def _last_relevant_message(messages: list[dict[str, Any]]) -> dict[str, Any] | None:
    for message in reversed(messages):
        if message.get("role") in ("user", "tool"):
            return message
        if message.get("role") == "assistant" and not message.get("tool_calls"):
            return None  # the interviewer spoke last; nothing new to respond to
    return None


def _tracker_phase(messages: list[dict[str, Any]], phase_ids: list[str]) -> str | None:
    """The phase named by the latest "now in phase" note the tracker put in the context."""
    for message in reversed(messages):
        if message.get("role") == "system":
            phase_id = entered_phase_id(_message_text(message))
            if phase_id in phase_ids:
                return phase_id
    return None


def _resumed_phase(messages: list[dict[str, Any]], phase_ids: list[str]) -> str | None:
    """The phase id named by a resume note in the context, if this session is a resumed one."""
    for message in messages:
        text = _message_text(message)
        if message.get("role") == "system" and text.startswith(RESUME_MARKER):
            match = re.search(r"\[([a-z][a-z0-9_]*)\]", text)
            if match and match.group(1) in phase_ids:
                return match.group(1)
    return None


def _tool_result_text(message: dict[str, Any]) -> str:
    """A tool message's result; Pipecat stores results JSON-encoded (a string arrives in quotes)."""
    text = _message_text(message)
    try:
        decoded = json.loads(text)
    except ValueError:
        return text
    return decoded if isinstance(decoded, str) else text


def _message_text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content.strip()
    if isinstance(content, list):
        return " ".join(part.get("text", "") for part in content if isinstance(part, dict)).strip()
    return ""


def _join(*parts: str) -> str:
    return " ".join(p for p in parts if p)
