"""Twilio playback marks: when the caller actually hears the interviewer.

What Pipecat 1.14 lacks: its `TwilioFrameSerializer` never sends a Twilio
``mark`` and drops the ``mark`` echoes Twilio sends back, so the only notion of
"the bot is speaking" is the server writing audio (``BotStarted/Stopped
SpeakingFrame``). Twilio buffers what we send and plays it later, so the server's
view runs ahead of the phone: the echo gate would open while the caller still
hears the bot, the latency tracker would stop the clock before the caller hears
anything, and a hang-up on ``EndFrame`` cuts the goodbye off mid-sentence.

Twilio's answer is the mark: a ``{"event": "mark", "mark": {"name": ...}}`` we
send after some audio comes back once that audio has played (and at once,
for every outstanding mark, after a ``clear``). So:

* `PlaybackMarkInserter` sits right before ``transport.output()``. Output
  transports keep non-urgent ``OutputTransportMessageFrame``s in order with the
  audio, so a mark pushed after a frame is sent after that frame's audio. For
  each utterance (TTS run) it sends a *start* mark after the first audio frame
  and an *end* mark after ``TTSStoppedFrame``. On ``InterruptionFrame`` (Pipecat
  sends ``clear``) the outstanding marks are forgotten.
* `EndAfterPlayback` sits right after ``transport.input()`` and holds the
  session's ``EndWorkerFrame`` (pushed upstream after the goodbye) until the
  goodbye has been heard. It cannot wait on the ``EndFrame`` itself: that frame
  stops the input transport first, and no mark echo would be read any more. So it
  sends a `GoodbyeProbeFrame` downstream, which TTS queues behind the goodbye's
  audio; when the inserter sees it, the goodbye's end mark is out, and once every
  mark has come back (or the caller hung up, or a timeout) the ``EndWorkerFrame``
  goes on: the pipeline ends, the serializer hangs up through the REST API and
  the stream closes.
* `PlaybackMarks` is the per-call book of marks and turns echoes into
  `PlaybackListener` calls: playback started (with how much audio preceded the
  start mark, so the listener time is the echo time minus that) and finished.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from loguru import logger
from pipecat.frames.frames import (
    EndFrame,
    EndWorkerFrame,
    Frame,
    InterruptionFrame,
    OutputTransportMessageFrame,
    TTSAudioRawFrame,
    TTSStoppedFrame,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

from frames.interview_frames import GoodbyeProbeFrame

MarkKind = Literal["start", "end"]


class PlaybackListener(Protocol):
    def playback_started(self, lead_secs: float) -> None:
        """The caller started hearing an utterance `lead_secs` before now."""

    def playback_finished(self) -> None:
        """The caller stopped hearing the interviewer (all sent audio played, or cleared)."""


@dataclass(frozen=True)
class _Mark:
    kind: MarkKind
    lead_secs: float  # audio of this utterance sent before the mark


class PlaybackMarks:
    """One call's outstanding marks, and what their echoes mean."""

    def __init__(self, stream_sid: str, *, call_sid: str | None = None) -> None:
        self.stream_sid = stream_sid
        self.call_sid = call_sid
        self._listeners: list[PlaybackListener] = []
        self._outstanding: dict[str, _Mark] = {}
        self._counter = itertools.count(1)
        self._all_played = asyncio.Event()
        self._all_played.set()
        self.goodbye_queued = asyncio.Event()  # the goodbye's audio and end mark are queued for sending
        self.utterance_open = False
        self.audible = False
        self.stopped = False
        self.echoed = 0
        self.unknown_echoes = 0
        self.forgotten = 0

    def add_listener(self, listener: PlaybackListener) -> None:
        self._listeners.append(listener)

    @property
    def outstanding(self) -> int:
        return len(self._outstanding)

    @property
    def outstanding_names(self) -> list[str]:
        return list(self._outstanding)

    def new_mark(self, kind: MarkKind, lead_secs: float = 0.0) -> dict[str, Any]:
        """Register a mark and return the Twilio message that sends it."""
        name = f"{kind}-{next(self._counter)}"
        self._outstanding[name] = _Mark(kind, lead_secs)
        logger.debug(f"twilio call {self.call_sid}: mark {name} sent")
        self._all_played.clear()
        return {"event": "mark", "streamSid": self.stream_sid, "mark": {"name": name}}

    def echo(self, name: str) -> None:
        """Twilio says the audio before mark `name` has played."""
        mark = self._outstanding.pop(name, None)
        logger.debug(f"twilio call {self.call_sid}: mark {name} echoed{'' if mark else ' (not outstanding)'}")
        if mark is None:
            self.unknown_echoes += 1  # forgotten after a clear, or not ours
            return
        self.echoed += 1
        if mark.kind == "start" and not self.audible:
            self.audible = True
            for listener in self._listeners:
                listener.playback_started(mark.lead_secs)
        elif mark.kind == "end" and not self.utterance_open and not self._outstanding:
            self._set_quiet()
        self._check_drained()

    def forget_all(self) -> None:
        """Barge-in: Pipecat sent `clear`, nothing outstanding will be heard."""
        self.forgotten += len(self._outstanding)
        self._outstanding.clear()
        self.utterance_open = False
        self._set_quiet()
        self._check_drained()

    def stream_stopped(self) -> None:
        """The caller hung up (`stop` or socket closed): nothing will play or echo any more."""
        self.stopped = True
        self.forget_all()
        self.goodbye_queued.set()

    async def wait_goodbye_heard(self, timeout: float) -> bool:
        """Until the goodbye is queued and every mark sent so far has come back; False on timeout."""

        async def heard() -> None:
            await self.goodbye_queued.wait()
            await self._all_played.wait()

        try:
            await asyncio.wait_for(heard(), timeout)
            return True
        except TimeoutError:
            return False

    def _set_quiet(self) -> None:
        if self.audible:
            self.audible = False
            for listener in self._listeners:
                listener.playback_finished()

    def _check_drained(self) -> None:
        if not self._outstanding:
            self._all_played.set()


def audio_secs(frame: TTSAudioRawFrame) -> float:
    return len(frame.audio) / (2 * max(1, frame.num_channels) * max(1, frame.sample_rate))


class PlaybackMarkInserter(FrameProcessor):
    """Right before transport.output(): a mark after each utterance's first audio and one after its end."""

    def __init__(self, marks: PlaybackMarks, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._marks = marks

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        marks = self._marks
        if direction != FrameDirection.DOWNSTREAM:
            await self.push_frame(frame, direction)
        elif isinstance(frame, InterruptionFrame):
            marks.forget_all()
            await self.push_frame(frame, direction)
        elif isinstance(frame, TTSAudioRawFrame):
            await self.push_frame(frame, direction)
            if not marks.utterance_open and not marks.stopped:
                marks.utterance_open = True
                await self._send(marks.new_mark("start", audio_secs(frame)))
        elif isinstance(frame, TTSStoppedFrame):
            await self.push_frame(frame, direction)
            await self._close_utterance()
        elif isinstance(frame, GoodbyeProbeFrame):
            await self._close_utterance()
            marks.goodbye_queued.set()  # swallowed: it only marks the end of the goodbye
        elif isinstance(frame, EndFrame):
            await self._close_utterance()
            await self.push_frame(frame, direction)
        else:
            await self.push_frame(frame, direction)

    async def _close_utterance(self) -> None:
        if self._marks.utterance_open:
            self._marks.utterance_open = False
            if not self._marks.stopped:
                await self._send(self._marks.new_mark("end"))

    async def _send(self, message: dict[str, Any]) -> None:
        await self.push_frame(OutputTransportMessageFrame(message=message))


class EndAfterPlayback(FrameProcessor):
    """Right after transport.input(): the session's EndWorkerFrame waits until the goodbye was heard."""

    def __init__(self, marks: PlaybackMarks, *, timeout_secs: float = 30.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._marks = marks
        self._timeout = timeout_secs
        self._holding = False

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, EndWorkerFrame) and direction == FrameDirection.UPSTREAM and not self._holding:
            self._holding = True
            await self.push_frame(GoodbyeProbeFrame())
            self.create_task(self._release_when_heard(frame), name="twilio-goodbye-wait")
            return
        await self.push_frame(frame, direction)

    async def _release_when_heard(self, frame: EndWorkerFrame) -> None:
        marks = self._marks
        started = time.monotonic()
        heard = await marks.wait_goodbye_heard(self._timeout)
        waited = time.monotonic() - started
        if marks.stopped:
            logger.info(f"twilio call {marks.call_sid}: caller hung up during the goodbye")
        elif heard:
            logger.info(f"twilio call {marks.call_sid}: goodbye played ({waited:.1f}s); ending the call")
        else:
            logger.warning(
                f"twilio call {marks.call_sid}: marks {marks.outstanding_names} not played back after "
                f"{waited:.0f}s; ending the call anyway"
            )
        await self.push_frame(frame, FrameDirection.UPSTREAM)
