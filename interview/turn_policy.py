"""How long to wait at a pause in an answer: the interview turn-stop decision, as plain data.

Four signals, each able to ask for more time, none able to cut a pause short on its own:
- words, by rule (``interview.turn_signals``): a last word nobody ends on ("and", "the", "um"), a
  question the speaker put to themselves, an announced list without its last item, only a lead-in
  ("Honestly.", "Good question."), or the turn handed back (a question to the
  interviewer, "that's it": the one signal that shortens research patience);
- words, by model: the end-of-turn language model's log P that the answer ends here, given the
  question (``turn_taking.end_of_turn_model``): very low -> unfinished (a lead-in, a clause that
  needs its complement, whatever the recogniser's full stop says); low -> a doubt; it can also
  overrule a word rule when it is confident the answer is over ("I really enjoyed this.");
- audio: Smart Turn v3's probability that the speaker is done (absent: no veto);
- context: the answer's length against what the question asks for, and how this candidate
  has paused so far (``PauseHistory``).
Handed over -> ``done`` at ``handover_wait_secs``; all agree -> ``done`` (short wait); the audio,
the model or the context doubts -> ``unsure``; the words are unfinished, or the audio is confident
the speaker is mid-thought -> ``unfinished`` (long wait, stretched to this candidate's habits).
The wait never exceeds ``max_wait_secs``. Waits are silence after the last word.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from interview.config import InterviewTurnStop
from interview.turn_signals import asks_itself, expected_min_words, hands_over, only_a_lead_in, open_list, read_answer

Verdict = Literal["done", "unsure", "unfinished"]
# A candidate who went on after a pause that followed a finished-sounding sentence gets at least
# that pause plus this before a "done" turn ends (a near miss teaches; a short pause does not).
DONE_MARGIN_SECS = 0.5


@dataclass(frozen=True)
class PauseInputs:
    text: str
    smart_turn_probability: float | None = None
    question: str = ""
    phase_id: str = ""
    resumed_pauses: Sequence[float] = ()  # silences this candidate went on talking after
    near_miss_pauses: Sequence[float] = ()  # of those, ones after an answer that read as done
    end_of_turn_log_p: float | None = None  # the end-of-turn model (absent: no say)


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
            end_of_turn_log_p=None if inputs.end_of_turn_log_p is None else round(inputs.end_of_turn_log_p, 2),
            phase=inputs.phase_id,
            longest_resumed_pause=max(inputs.resumed_pauses, default=None),
            text_tail=inputs.text.strip()[-60:],
        )
        return event


def decide(settings: InterviewTurnStop, inputs: PauseInputs) -> TurnDecision:
    text = read_answer(inputs.text)
    reasons = [f"text: {text.reason}"]
    lp = inputs.end_of_turn_log_p if settings.end_of_turn_model else None
    model_unfinished = lp is not None and lp < settings.model_unfinished_log_p
    model_doubts = lp is not None and not model_unfinished and lp < settings.model_doubt_log_p
    model_sure = lp is not None and lp >= settings.model_doubt_log_p
    # Confident enough to outweigh Smart Turn's doubt and a short answer (Smart Turn reads falling
    # pitch, which synthetic and many real voices have at every phrase end).
    model_confident = lp is not None and lp >= settings.model_confident_log_p
    if lp is not None:
        said = "unfinished" if model_unfinished else "doubts" if model_doubts else "finished"
        reasons.append(f"model: log P(end) {lp:.1f} ({said})")
    p = inputs.smart_turn_probability
    if p is not None:
        reasons.append(f"audio: Smart Turn p={p:.2f} ({'done' if p >= settings.smart_turn_threshold else 'not done'})")
    handover = hands_over(inputs.text)
    self_question = asks_itself(inputs.text)
    listing = open_list(inputs.text)
    if handover:
        reasons.append(f"text: {handover}")
    elif self_question:
        reasons.append("text: a question the speaker put to themselves")
    if listing and not handover:
        reasons.append("text: an announced list with no last item yet")
    needed = expected_min_words(inputs.question, settings.min_answer_words)
    lead_in = needed > 1 and only_a_lead_in(inputs.text)
    if lead_in:
        reasons.append("text: only a lead-in so far")
    audio_mid_thought = p is not None and p < settings.smart_turn_mid_thought and not model_confident
    audio_done = p is not None and p >= settings.smart_turn_threshold
    # A word rule the model is sure about overruling: "this" ends "I really enjoyed this."
    rule_unfinished = not text.finished and not (model_sure and text.words > 0)
    verdict: Verdict
    if handover and not model_unfinished and (text.finished or text.punctuation_only):
        verdict = "done"
        wait = settings.done_wait_secs if settings.handover_wait_secs is None else settings.handover_wait_secs
    elif text.punctuation_only and audio_done and not model_unfinished:
        # A trailing comma is the recogniser's guess; the words and the audio both say done.
        verdict, wait = "unsure", settings.unsure_wait_secs
    elif rule_unfinished or model_unfinished or self_question or listing or lead_in or audio_mid_thought:
        # Whisper tends to tidy a trailing "is" or "and" away ("...I would do for the service."),
        # so a confident audio "mid-thought" counts as unfinished words.
        verdict = "unfinished"
        wait = max(settings.unfinished_wait_secs, _habit(inputs.resumed_pauses, settings))
    elif (p is not None and p < settings.smart_turn_threshold and not model_confident) or model_doubts:
        verdict, wait = "unsure", settings.unsure_wait_secs
    elif text.words < needed and not model_confident:
        verdict, wait = "unsure", settings.unsure_wait_secs
        reasons.append(f"context: {text.words} words to a question that asks for {needed}+")
    else:
        verdict = "done"
        # Only pauses a done wait could cover teach it: after a longer one the candidate had heard the
        # reply begin (or started their next answer early), and waiting that long on every answer would
        # make every later reply slow.
        coverable = [p for p in inputs.near_miss_pauses if p + DONE_MARGIN_SECS <= settings.unsure_wait_secs]
        learned = max(coverable) + DONE_MARGIN_SECS if coverable else 0.0
        wait = min(settings.unsure_wait_secs, max(settings.done_wait_secs, learned))
        if learned > settings.done_wait_secs:
            reasons.append(f"context: this candidate went on after {learned - DONE_MARGIN_SECS:.1f} s before")
    return TurnDecision(verdict, round(min(wait, settings.max_wait_secs), 3), reasons, text.words)


class PauseHistory:
    """How this candidate has paused: what stretches the waits, and when that stops.

    Resumed pauses stretch the unfinished wait for the whole session (a slow thinker stays one).
    A near miss — the candidate went on after a pause that followed a finished-sounding answer,
    whether or not the turn had ended — lengthens the done wait until ``recover_after`` turns have
    ended without another: a candidate who keeps pausing between sentences keeps the longer wait,
    one who paused so once gets fast replies back."""

    def __init__(self, recover_after: int) -> None:
        self._recover_after = recover_after
        self.resumed_pauses: list[float] = []
        self._near_misses: list[float] = []
        self._clean_since = 0

    def resumed(self, pause_secs: float) -> None:
        self.resumed_pauses.append(round(pause_secs, 3))

    def went_on_after(self, verdict: Verdict | None, pause_secs: float, settings: InterviewTurnStop) -> None:
        """Speech resumed after a pause the decision was ``verdict``: a near miss if the words sounded
        finished and the pause outlasted the plain done wait (a breath between sentences is none)."""
        if verdict in ("done", "unsure") and pause_secs > settings.done_wait_secs:
            self.near_miss(pause_secs)

    def near_miss(self, pause_secs: float) -> None:
        self._near_misses.append(round(pause_secs, 3))
        self._clean_since = 0

    def answer_ended(self) -> None:
        """A turn ended; a false end reported after this (a resumption) counts against it."""
        self._clean_since += 1
        if self._clean_since >= self._recover_after:
            self._near_misses.clear()

    @property
    def near_miss_pauses(self) -> tuple[float, ...]:
        return tuple(self._near_misses)


def _habit(pauses: Sequence[float], settings: InterviewTurnStop) -> float:
    """Cover the longest pause this candidate has resumed after, with a margin."""
    return max(pauses) + settings.pause_margin_secs if pauses else 0.0
