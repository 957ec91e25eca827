"""A listening cue ("Mm-hm.") during a long pause in an unfinished answer.

Pipecat 1.14 has ``BotBackchannelFrame`` but nothing that decides when to produce one.
The cue is spoken with ``TTSSpeakFrame(append_to_context=False)``: it never becomes an
assistant turn in the LLM context, it does not take the turn (the candidate's turn stays
open and its timer keeps running), it is said only while the candidate is still silent,
and at most once per answer and once per ``min_interval_secs``.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable

from pipecat.frames.frames import Frame, TTSSpeakFrame

from interview.config import Backchannel
from interview.events import EventSink

# The cue needs this much of the wait left after it, so it never runs into the reply.
MIN_TIME_AFTER_CUE_SECS = 0.8


class BackchannelCue:
    """Schedules at most one cue per answer; ``cancel`` when the candidate speaks or the turn ends."""

    def __init__(
        self, settings: Backchannel, push: Callable[[Frame], Awaitable[None]], events: EventSink | None = None
    ) -> None:
        self._settings = settings
        self._push = push
        self._events = events
        self._phrases = itertools.cycle(settings.phrases)
        self._task: asyncio.Task | None = None
        self._last_cue_at = float("-inf")
        self._cued_this_answer = False
        self.said = 0

    def schedule(self, speech_end: float, wait_secs: float, still_quiet: Callable[[], bool]) -> None:
        """Arrange a cue ``after_secs`` into the silence, if the wait is long enough for one."""
        if not self._settings.enabled or self._cued_this_answer:
            return
        if self._settings.after_secs + MIN_TIME_AFTER_CUE_SECS > wait_secs:
            return
        self.cancel()
        delay = max(0.0, speech_end + self._settings.after_secs - time.monotonic())
        self._task = asyncio.get_running_loop().create_task(self._cue_after(delay, still_quiet))

    def cancel(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._task = None

    def new_answer(self) -> None:
        self.cancel()
        self._cued_this_answer = False

    async def _cue_after(self, delay: float, still_quiet: Callable[[], bool]) -> None:
        await asyncio.sleep(delay)
        now = time.monotonic()
        if not still_quiet() or now - self._last_cue_at < self._settings.min_interval_secs:
            return
        phrase = next(self._phrases)
        self._last_cue_at, self._cued_this_answer = now, True
        self.said += 1
        if self._events is not None:
            self._events.event("backchannel", text=phrase)
        await self._push(TTSSpeakFrame(phrase, append_to_context=False))
