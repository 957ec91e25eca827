"""How long to wait at a pause in an answer: the interview turn-stop decision, as plain data.

Three signals, each able to ask for more time, none able to cut a pause short on its own:
- text: the answer so far reads as finished (``interview.turn_signals.read_answer``);
- audio: Smart Turn v3's probability that the speaker is done (absent: no veto);
- context: the answer's length against what the question asks for, and how this candidate
  has paused so far (pauses they resumed after; false ends the system fell for).
All agree -> ``done`` (short wait); the audio or the context doubts -> ``unsure``; the words
are plainly unfinished, or the audio is confident the speaker is mid-thought -> ``unfinished``
(long wait, stretched to this candidate's habits).
The wait never exceeds ``max_wait_secs``. Waits are silence after the last word.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from interview.config import InterviewTurnStop
from interview.turn_signals import expected_min_words, read_answer

Verdict = Literal["done", "unsure", "unfinished"]
# A candidate who went on after a pause that followed a finished-sounding sentence gets at least
# that pause plus this before a "done" turn ends (a near miss teaches; a short pause does not).
DONE_MARGIN_SECS = 0.25


@dataclass(frozen=True)
class PauseInputs:
    text: str
    smart_turn_probability: float | None = None
    question: str = ""
    phase_id: str = ""
    resumed_pauses: Sequence[float] = ()  # silences this candidate went on talking after
    false_end_pauses: Sequence[float] = ()  # of those, ones after an answer that read as done


@dataclass(frozen=True)
class TurnDecision:
    verdict: Verdict
    wait_secs: float
    reasons: list[str] = field(default_factory=list)
    words: int = 0

    def as_event(self, inputs: PauseInputs) -> dict[str, Any]:
        """What events.jsonl records, so a person can see why a turn ended (or did not)."""
        event = asdict(self)
        event.update(
            smart_turn_probability=inputs.smart_turn_probability,
            phase=inputs.phase_id,
            longest_resumed_pause=max(inputs.resumed_pauses, default=None),
            text_tail=inputs.text.strip()[-60:],
        )
        return event


def decide(settings: InterviewTurnStop, inputs: PauseInputs) -> TurnDecision:
    text = read_answer(inputs.text)
    reasons = [f"text: {text.reason}"]
    p = inputs.smart_turn_probability
    if p is not None:
        reasons.append(f"audio: Smart Turn p={p:.2f} ({'done' if p >= settings.smart_turn_threshold else 'not done'})")
    needed = expected_min_words(inputs.question, settings.min_answer_words)
    audio_mid_thought = p is not None and p < settings.smart_turn_mid_thought
    audio_done = p is not None and p >= settings.smart_turn_threshold
    verdict: Verdict
    if text.punctuation_only and audio_done:
        # A trailing comma is the recogniser's guess; the words and the audio both say done.
        verdict, wait = "unsure", settings.unsure_wait_secs
    elif not text.finished or audio_mid_thought:
        # Whisper tends to tidy a trailing "is" or "and" away ("...I would do for the service."),
        # so a confident audio "mid-thought" counts as unfinished words.
        verdict = "unfinished"
        wait = max(settings.unfinished_wait_secs, _habit(inputs.resumed_pauses, settings))
    elif p is not None and p < settings.smart_turn_threshold:
        verdict, wait = "unsure", settings.unsure_wait_secs
    elif text.words < needed:
        verdict, wait = "unsure", settings.unsure_wait_secs
        reasons.append(f"context: {text.words} words to a question that asks for {needed}+")
    else:
        verdict = "done"
        # Only pauses a done wait could cover teach it: after a longer one the candidate had heard the
        # reply begin (or started their next answer early), and waiting that long on every answer would
        # make every later reply slow.
        coverable = [p for p in inputs.false_end_pauses if p + DONE_MARGIN_SECS <= settings.unsure_wait_secs]
        learned = max(coverable) + DONE_MARGIN_SECS if coverable else 0.0
        wait = min(settings.unsure_wait_secs, max(settings.done_wait_secs, learned))
        if learned > settings.done_wait_secs:
            reasons.append(f"context: this candidate went on after {learned - DONE_MARGIN_SECS:.1f} s before")
    return TurnDecision(verdict, round(min(wait, settings.max_wait_secs), 3), reasons, text.words)


def _habit(pauses: Sequence[float], settings: InterviewTurnStop) -> float:
    """Cover the longest pause this candidate has resumed after, with a margin."""
    return max(pauses) + settings.pause_margin_secs if pauses else 0.0
