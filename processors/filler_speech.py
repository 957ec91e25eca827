"""Filler speech: one short phrase when the reply is late or a provider failover is under way.

Why: a silent gap of more than a second after an answer sounds like a dropped call. When the
first audio of the reply has not come `after_secs` after the candidate's turn ended (slow
LLM, slow TTS), or a stage fails over mid-turn, this says one natural phrase ("Let me think
about that for a second.") rendered ahead of need, so it plays at once. At most once per turn;
never while the candidate speaks; never after a barge-in (the turn is over). Pipecat has
nothing like it (its `BotBackchannelFrame` has no producer).

The rendering is the process's, not the session's: `RENDERS` keeps each (voice, text, sample
rate) once, so only the first session of a process pays for it (in a worker thread, never on
the event loop) and every later one starts with the audio ready (issue #32: rendering it per
session was ~3 % of a session's CPU).

Sits after the TTS, before the transport output: it sees the end of the candidate's turn
(`UserStoppedSpeakingFrame`, a system frame that passes the LLM and TTS) and the reply's
first `TTSAudioRawFrame`. The filler goes out as plain audio: it is not added to the LLM
context or the transcript (the session record has a `filler` event).
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

from loguru import logger
from pipecat.frames.frames import (
    Frame,
    InterruptionFrame,
    StartFrame,
    TTSAudioRawFrame,
    UserStartedSpeakingFrame,
    UserStoppedSpeakingFrame,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor, FrameProcessorSetup

DEFAULT_PHRASE = "Let me think about that for a second."
CHUNK_SECS = 0.1

# (text, sample_rate) -> 16-bit mono PCM; blocking, run in a thread at session start
Synthesize = Callable[[str, int], bytes]
# (reason, waited_ms) -> None: the session records it
FillerListener = Callable[[str, float], None]
MAX_RENDERS = 16  # distinct (voice, text, rate) kept per process; a process uses one or two


class RenderCache:
    """Rendered phrases by key, shared by every session of the process; blocking, call it from a thread.

    Sessions asking for the same key at once wait for the one render (a lock per key), so a
    key is synthesised once; a render that raises is not kept, the next caller tries again.
    """

    def __init__(self, max_entries: int = MAX_RENDERS) -> None:
        self._max = max_entries
        self._audio: OrderedDict[Hashable, bytes] = OrderedDict()
        self._locks: dict[Hashable, threading.Lock] = {}
        self._lock = threading.Lock()
        self.renders = 0

    def get(self, key: Hashable, render: Callable[[], bytes]) -> bytes:
        with self._lock:
            if key in self._audio:
                self._audio.move_to_end(key)
                return self._audio[key]
            key_lock = self._locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._audio:
                    return self._audio[key]
            audio = render()
            with self._lock:
                self.renders += 1
                self._audio[key] = audio
                while len(self._audio) > self._max:
                    self._audio.popitem(last=False)
                self._locks.pop(key, None)
            return audio

    def clear(self) -> None:
        with self._lock:
            self._audio.clear()


RENDERS = RenderCache()


class FillerSpeech(FrameProcessor):
    def __init__(
        self,
        synthesize: Synthesize,
        *,
        after_secs: float = 0.7,
        phrase: str = DEFAULT_PHRASE,
        on_filler: FillerListener | None = None,
    ) -> None:
        super().__init__()
        if after_secs <= 0:
            raise ValueError("after_secs must be > 0 (leave the processor out to turn filler speech off)")
        self._synthesize = synthesize
        self._after_secs = after_secs
        self.phrase = phrase
        self._on_filler = on_filler
        self._audio: bytes | None = None
        self._sample_rate = 0
        self._candidate_speaking = False
        self._waiting_since: float | None = None  # loop time the candidate's turn ended; None: no reply pending
        self._said_this_turn = False
        self._timer: asyncio.Task | None = None
        self.fillers = 0

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, StartFrame):
            self.create_task(self._prepare())
        elif isinstance(frame, UserStartedSpeakingFrame):
            self._candidate_speaking = True
            self._end_wait()
        elif isinstance(frame, UserStoppedSpeakingFrame):
            self._candidate_speaking = False
            self._said_this_turn = False
            self._waiting_since = asyncio.get_running_loop().time()
            self._cancel_timer()
            self._timer = self.create_task(self._late(), name="filler_timer")
        elif isinstance(frame, InterruptionFrame) or (
            isinstance(frame, TTSAudioRawFrame) and direction is FrameDirection.DOWNSTREAM
        ):
            self._end_wait()
        await self.push_frame(frame, direction)

    async def setup(self, setup: FrameProcessorSetup) -> None:  # type: ignore[override]  # as Pipecat narrows BaseObject.setup
        await super().setup(setup)
        self._sample_rate = setup.audio_out_sample_rate

    async def failover_started(self, stage: str) -> None:
        """A stage is failing over while the candidate waits: fill the gap now."""
        await self._say(f"{stage} failover")

    async def _prepare(self) -> None:
        try:
            self._audio = await asyncio.to_thread(self._synthesize, self.phrase, self._sample_rate)
        except Exception:
            logger.exception("filler speech: could not synthesise the phrase; no filler this session")

    async def _late(self) -> None:
        await asyncio.sleep(self._after_secs)
        self._timer = None
        await self._say(f"reply later than {self._after_secs * 1000:.0f} ms")

    async def _say(self, reason: str) -> None:
        if self._waiting_since is None or self._said_this_turn or self._candidate_speaking or not self._audio:
            return
        self._said_this_turn = True
        waited_ms = (asyncio.get_running_loop().time() - self._waiting_since) * 1000
        self.fillers += 1
        logger.info(f"filler speech after {waited_ms:.0f} ms ({reason})")
        if self._on_filler is not None:
            self._on_filler(reason, round(waited_ms, 1))
        step = int(self._sample_rate * CHUNK_SECS) * 2
        for i in range(0, len(self._audio), step):
            await self.push_frame(TTSAudioRawFrame(self._audio[i : i + step], self._sample_rate, 1))

    def _end_wait(self) -> None:
        self._waiting_since = None
        self._cancel_timer()

    def _cancel_timer(self) -> None:
        if self._timer is not None and self._timer is not asyncio.current_task():
            self._timer.cancel()
        self._timer = None

    async def cleanup(self) -> None:
        self._cancel_timer()
        await super().cleanup()
