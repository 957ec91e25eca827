"""The simulated candidate's session logic: one WebSocket connection, three concurrent loops.

Why: turn taking is what makes the simulation believable and the latency numbers honest. The
microphone loop never stops (20 ms chunks, silence between answers); the receive loop plays
interviewer audio on a modelled speaker and notes when each reply starts; the conversation loop
waits until the speaker has been quiet for ``end_of_turn_silence`` seconds, thinks, and answers.
The command line and the ``run_candidate`` entry point live in scripts/simulate_candidate.py.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

from loguru import logger
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from scripts.candidate_audio import (
    CHUNK_SECONDS,
    MIC_SAMPLE_RATE,
    ConversationRecorder,
    MicrophoneFeed,
    SpeakerModel,
    is_audible,
)
from scripts.candidate_protocol import (
    BotAudio,
    BotInterruption,
    BotMessage,
    BotText,
    BotTranscription,
    CandidateConnectionError,
    decode,
    encode_audio,
    encode_message,
    open_connection,
    rtvi_client_ready,
)

__all__ = ["CandidateClient", "CandidateConnectionError", "CandidateSetupError", "Synthesizer"]
from scripts.candidate_report import NORMAL_CLOSE_CODES, CandidateReport, TurnRecord
from scripts.candidate_script import CandidateScript, Pause

POLL_SECONDS = 0.02
OVERLAP_REPLY_WAIT = 6.0  # interviewer already spoke over the answer: how long to wait for more


def playback_started_message(turn: int, client_time: float) -> dict[str, Any]:
    """The "I started hearing turn N" mark, wrapped as an RTVI ``client-message``.

    Why RTVI-wrapped: the server's transport broadcasts every client message both ways; the
    latency probe after the transport input (processors/latency_probe.py) reads either form, but Pipecat's RTVI processor
    (on by default) logs a WARNING for every non-RTVI message, and rejects an RTVI message
    without ``id``. This form also reaches RTVI's ``on_client_message`` handler.
    """
    return {
        "label": "rtvi-ai",
        "type": "client-message",
        "id": f"playback-{turn}-{int(client_time * 1000)}",
        "data": {"t": "playback-started", "d": {"turn": turn, "client_time": client_time}},
    }


class Synthesizer(Protocol):
    """Anything that turns text into 16-bit mono PCM (the Piper candidate voice in practice)."""

    def synthesize(self, text: str, sample_rate: int) -> bytes: ...


class CandidateSetupError(RuntimeError):
    """The candidate cannot start (speech synthesizer unavailable); the message is one line."""


class CandidateClient:
    """One simulated candidate on one connection. Use ``run_candidate`` unless you need the hooks."""

    def __init__(
        self,
        url: str,
        script: CandidateScript,
        synthesizer: Synthesizer,
        *,
        end_of_turn_silence: float = 1.2,
        listening_cue_secs: float = 0.0,
        send_client_ready: bool = True,
        noise_amplitude: int = 0,
        origin: str | None = None,
        on_turn: Callable[[TurnRecord], None] | None = None,
        on_connected: Callable[[CandidateClient], None] | None = None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.url = url
        self.script = script
        self.report = CandidateReport(url=url)
        self._synth = synthesizer
        self._silence = end_of_turn_silence
        # Interviewer audio this short after an answer, then quiet, is a listening cue ("Mm-hm."), not the
        # reply: keep waiting (0: any audio is the reply). A person would take the hint; a script waits.
        self._cue_secs = listening_cue_secs
        self._audible: deque[tuple[float, float]] = deque(maxlen=400)  # (arrival, seconds) of audible chunks
        self._send_client_ready = send_client_ready
        self._origin = origin
        self._on_turn = on_turn
        self._on_connected = on_connected
        self._log = log or logger.debug
        self._speech: dict[str, bytes] = {}
        self._mic = MicrophoneFeed(noise_amplitude=noise_amplitude)
        self._speaker = SpeakerModel()
        self.recorder = ConversationRecorder()
        self._ws: ClientConnection | None = None
        self._t0 = 0.0
        self._wall0 = 0.0
        self._closed = asyncio.Event()
        self._we_closed = False
        self._last_speech_sent = 0.0
        self._last_audio_arrival: float | None = None
        self._arrivals: deque[float] = deque(maxlen=200)
        self._awaiting_reply: TurnRecord | None = None
        self._answering: TurnRecord | None = None
        self._answers_done = 0
        self._playback_reported = -1
        self._rtvi = {"speaking": False, "llm": False}

    # -- public hooks ---------------------------------------------------------------------

    def now(self) -> float:
        """Seconds since the connection opened (the recordings' timeline)."""
        return asyncio.get_running_loop().time() - self._t0

    async def send_client_message(self, message: dict[str, Any]) -> None:
        """Send a transport message (the server sees an InputTransportMessageFrame).

        The client itself sends a playback-started mark when interviewer audio for a new turn
        starts playing, as an RTVI client message (see ``playback_started_message``): N is 0 for
        the greeting and k for the reply to the k-th answer; T is the wall-clock time
        (``time.time()``) playback starts.
        """
        if self._ws is not None and not self._closed.is_set():
            try:
                await self._ws.send(encode_message(message))
            except ConnectionClosed:
                pass

    async def run(self, timeout: float = 600.0) -> CandidateReport:
        """Connect, hold the interview until the server closes it or ``timeout``, return the report."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        await self._prepare_speech()
        self._ws = await open_connection(self.url, origin=self._origin)
        self._t0, self._wall0 = loop.time(), time.time()
        self.report.wall_start = self._wall0
        if self._on_connected:
            self._on_connected(self)
        tasks = [
            asyncio.create_task(self._receive(), name="candidate-receive"),
            asyncio.create_task(self._microphone(), name="candidate-mic"),
            asyncio.create_task(self._converse(), name="candidate-converse"),
        ]
        try:
            closed_wait = asyncio.create_task(self._closed.wait())
            done, _ = await asyncio.wait(
                [closed_wait, *tasks[1:]], timeout=max(0.0, deadline - loop.time()), return_when=asyncio.FIRST_COMPLETED
            )
            closed_wait.cancel()
            crashed = [t for t in tasks[1:] if t in done and not t.cancelled() and t.exception() is not None]
            if crashed:
                self.report.error = f"candidate crashed: {crashed[0].exception()!r}"
            elif not done:
                self.report.timed_out = True
                self.report.error = f"timed out after {timeout:g} s"
            if not self._closed.is_set():
                self._we_closed = True
                await self._ws.close(1000, "candidate done")
                try:
                    await asyncio.wait_for(self._closed.wait(), 5.0)
                except TimeoutError:
                    pass
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if self._ws.close_code is None:  # cancelled from outside: still hang up cleanly
                self._we_closed = True
                try:
                    await asyncio.wait_for(self._ws.close(1000, "candidate stopped"), 5.0)
                except Exception:
                    pass
        self._finish()
        return self.report

    # -- connection -----------------------------------------------------------------------

    async def _receive(self) -> None:
        """Read server frames until the socket closes."""
        assert self._ws is not None
        if self._send_client_ready:
            await self.send_client_message(rtvi_client_ready())
        try:
            async for payload in self._ws:
                await self._handle(payload)
        except ConnectionClosed:
            pass
        finally:
            ws = self._ws
            self.report.close_code = ws.close_code
            self.report.close_reason = ws.close_reason or None
            server_closed = ws.protocol.close_rcvd is not None and not self._we_closed
            self.report.closed_normally = server_closed and ws.close_code in NORMAL_CLOSE_CODES
            if not server_closed and not self._we_closed:
                self.report.error = self.report.error or "connection dropped without a close frame"
            elif server_closed and not self.report.closed_normally:
                self.report.error = f"server closed the connection: code {ws.close_code}" + (
                    f" ({ws.close_reason})" if ws.close_reason else ""
                )
            self._closed.set()
            self._mic.clear()

    async def _handle(self, payload: bytes | str) -> None:
        event = decode(payload)
        now = self.now()
        if isinstance(event, BotAudio):
            await self._on_audio(event, now)
        elif isinstance(event, BotInterruption):
            self._speaker.flush(now)
            self.recorder.cut_heard_after(now)
        elif isinstance(event, BotMessage):
            self._on_message(event)
        elif isinstance(event, BotText):
            self.report.interviewer_texts.append(event.text)
        elif isinstance(event, BotTranscription):
            self.report.server_transcripts.append(event.text)
        else:
            self._log(f"ignored server payload: {event.description}")

    async def _on_audio(self, audio: BotAudio, now: float) -> None:
        audible = is_audible(audio.pcm)
        start = self._speaker.schedule(now, audio.duration, audible)
        self.recorder.add_heard(start, audio.pcm, audio.sample_rate, audio.num_channels)
        self.report.heard_seconds += audio.duration
        if not audible:
            return
        self.report.heard_speech_seconds += audio.duration
        self._last_audio_arrival = now
        self._arrivals.append(now)
        self._audible.append((now, audio.duration))
        if self._answering is not None:
            self._answering.overlapped = True
            self._answering.overlap_audio.append((round(now, 3), round(audio.duration, 3)))
        turn = self._awaiting_reply
        if turn is not None and now >= turn.answer_end_time:
            self._reply_started(turn, now)
        if self._playback_reported != self._answers_done:
            self._playback_reported = self._answers_done
            await self.send_client_message(playback_started_message(self._answers_done, self._wall0 + start))

    def _on_message(self, message: BotMessage) -> None:
        kind, data = message.rtvi_type, message.data
        payload = data.get("data") if isinstance(data, dict) else None
        if kind:
            self.report.rtvi_events[kind] = self.report.rtvi_events.get(kind, 0) + 1
        if kind in ("bot-started-speaking", "bot-stopped-speaking"):
            self._rtvi["speaking"] = kind == "bot-started-speaking"
        elif kind in ("bot-llm-started", "bot-llm-stopped"):
            self._rtvi["llm"] = kind == "bot-llm-started"
        elif kind == "bot-output" and isinstance(payload, dict) and payload.get("text"):
            if payload.get("spoken", True) and payload.get("aggregated_by", "sentence") != "word":
                self.report.interviewer_texts.append(str(payload["text"]))
        elif kind == "user-transcription" and isinstance(payload, dict) and payload.get("final"):
            self.report.server_transcripts.append(str(payload.get("text", "")))

    # -- microphone -----------------------------------------------------------------------

    async def _prepare_speech(self) -> None:
        """Synthesize every line up front, so speaking never waits for the synthesizer."""
        texts = {
            s.text for a in (*self.script.answers, self.script.fallback) for s in a.segments if not isinstance(s, Pause)
        }
        for text in sorted(texts):
            self._speech[text] = await asyncio.to_thread(self._synth.synthesize, text, MIC_SAMPLE_RATE)

    async def _microphone(self) -> None:
        """Send a 20 ms chunk every 20 ms on an absolute schedule, like a capture device."""
        assert self._ws is not None
        loop = asyncio.get_running_loop()
        k = 0
        while not self._closed.is_set():
            delay = self._t0 + k * CHUNK_SECONDS - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            chunk, speech = self._mic.next_chunk()
            try:
                await self._ws.send(encode_audio(chunk, MIC_SAMPLE_RATE, 1))
            except ConnectionClosed:
                return
            self.recorder.add_said(chunk)
            if speech:
                self._last_speech_sent = self.now()
            k += 1

    # -- turn taking ----------------------------------------------------------------------

    async def _converse(self) -> None:
        """Wait for the interviewer, answer, repeat, until the session closes."""
        await self._wait_interviewer_done(since=0.0)
        while not self._closed.is_set():
            answer, fallback = self.script.answer_for(self._answers_done)
            think_start = self.now()
            if not await self._think(answer.think_pause):
                await self._wait_interviewer_done(since=think_start)
                continue
            turn = TurnRecord(
                index=self._answers_done, answer_text=answer.text, answer_start_time=round(self.now(), 3),
                answer_end_time=0.0, fallback=fallback,
            )  # fmt: skip
            self.report.turns.append(turn)
            self._answering = turn
            for segment in answer.segments:
                if isinstance(segment, Pause):
                    self._mic.pause(segment.seconds)
                else:
                    self._mic.say(self._speech[segment.text])
            await self._mic.wait_idle()
            self._answering = None
            turn.answer_end_time = round(self._last_speech_sent, 3)
            if self._closed.is_set():
                return
            turn.finished = True
            self._answers_done += 1
            self._awaiting_reply = turn
            first = next((t for t in self._arrivals if t >= turn.answer_end_time), None)
            if first is not None:
                self._reply_started(turn, first)
            talked_over = turn.overlapped and not all(s <= self._cue_secs for _, s in turn.overlap_bursts())
            await self._wait_interviewer_done(since=turn.answer_end_time, overlapped=talked_over, turn=turn)

    async def _think(self, seconds: float) -> bool:
        """Silent think pause; False if the interviewer starts talking again meanwhile."""
        start = self.now()
        while self.now() - start < seconds:
            if self._speaker.is_playing(self.now()) or (self._last_audio_arrival or -1.0) >= start:
                return False
            await asyncio.sleep(POLL_SECONDS)
        return not self._closed.is_set()

    async def _wait_interviewer_done(
        self, since: float, overlapped: bool = False, turn: TurnRecord | None = None
    ) -> None:
        """Return once interviewer audio arrived after ``since`` and the speaker has been quiet long enough.

        RTVI "bot is speaking / LLM is running" events, when the bot sends them, keep us waiting
        through gaps inside one interviewer turn (capped, in case a stop event is lost).
        """
        hint_cap = max(3.0, 3 * self._silence)
        nudged = False
        while not self._closed.is_set():
            now = self.now()
            if not nudged and self._last_audio_arrival is None and now - since > 15.0:
                nudged = True
                self._log("still waiting for the interviewer to speak first (does the bot greet on connect?)")
            quiet = self._speaker.quiet_for(now)
            heard = self._last_audio_arrival is not None and self._last_audio_arrival >= since
            if heard and quiet >= self._silence and turn is not None and self._only_a_cue_since(since):
                since, turn.first_reply_audio_time, turn.latency_ms = now, None, None
                self._awaiting_reply = turn  # the reply is still to come: its first audio stamps the delay
                continue
            if heard and quiet >= self._silence:
                busy = self._rtvi["speaking"] or self._rtvi["llm"]
                if not busy or quiet >= hint_cap:
                    return
            elif overlapped and not heard and now - since >= OVERLAP_REPLY_WAIT and quiet >= self._silence:
                return  # the interviewer already answered over us and has nothing more
            await asyncio.sleep(POLL_SECONDS)

    def _only_a_cue_since(self, since: float) -> bool:
        return self._cue_secs > 0 and sum(d for t, d in self._audible if t >= since) <= self._cue_secs

    def _reply_started(self, turn: TurnRecord, at: float) -> None:
        self._awaiting_reply = None
        turn.first_reply_audio_time = round(at, 3)
        turn.latency_ms = round((at - turn.answer_end_time) * 1000, 1)
        if self._on_turn:
            self._on_turn(turn)

    def _finish(self) -> None:
        if self._on_turn:  # report turns that never got a reply, or were cut off
            for turn in self.report.turns:
                if turn is self._awaiting_reply or not turn.finished:
                    self._on_turn(turn)
        self.report.said_seconds = self.recorder.said_seconds
        self.report.duration_seconds = round(self.now(), 3)
        self.report.heard_seconds = round(self.report.heard_seconds, 3)
        self.report.heard_speech_seconds = round(self.report.heard_speech_seconds, 3)
