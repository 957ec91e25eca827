"""A candidate who interrupts: barge-in timing and self-interruptions, measured at the client.

Why a separate client: the simulated candidate (scripts/candidate_client.py) waits politely
for the interviewer. This one talks over it on purpose, 1 s into every other reply, and its
microphone hears the interviewer too, as a speakerphone does: the speaker's output,
``echo_db`` quieter and ``echo_delay_secs`` late, mixed into every 20 ms chunk it sends. So
the server sees the same mixture a laptop without echo cancellation sends.

Per barge-in it notes, on the client's clock: when its speech started (the first audible
chunk sent), when the server's interruption arrived, and when interviewer audio stopped
playing. An interruption that arrives while the candidate has been silent for
``SELF_INTERRUPTION_QUIET_SECS`` is a self-interruption: the interviewer heard its own echo.

Transports: :class:`WebSocketBargeInCaller` (Pipecat protobuf over ``/ws``) here;
:class:`scripts.twilio_barge_in.TwilioBargeInCaller` speaks Twilio Media Streams.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from scripts.candidate_audio import is_audible
from scripts.candidate_protocol import (
    BotAudio,
    BotInterruption,
    BotMessage,
    decode,
    encode_audio,
    encode_message,
    open_connection,
    rtvi_client_ready,
)

CHUNK_SECS = 0.02
SELF_INTERRUPTION_QUIET_SECS = 1.5
REPLY_WAIT_SECS = 20.0  # no interviewer audio for this long after an answer: give up on the session
QUIET_AFTER_INTERVIEWER_SECS = 1.2  # the interviewer is done after this much silence at the speaker

BARGE_INS = (
    "Sorry, can I jump in? I actually built exactly that at my last company.",
    "Actually, I think the real problem there is the database connection pool.",
    "Wait, before you go on, we used Kafka for that, not a database.",
    "Right, so in my last role I owned the payments ledger from end to end.",
    "Yes, I can answer that one with the billing migration we did last year.",
    "Oh, I know this one. We sharded the orders table by merchant.",
    "Hold on, I think I misheard. Do you mean the write path or the read path?",
    "Okay, so the short answer is that we retried with an idempotency key.",
)
ANSWERS = (
    "I'm a backend engineer with about eight years of experience, mostly payment services in Python.",
    "We kept every payment and its idempotency key in the same transaction, so a retry was always safe.",
    "The database would break first, so I would add read replicas and a connection pooler in front of it.",
    "I would put a queue in front of the payment service and scale the workers behind it.",
    "We moved the reconciliation to a nightly job, because the bank only sends statements once a day.",
    "Honestly, I would start with monitoring and alerting on the payments that get stuck.",
    "The tricky part is keeping the ledger and the card network in step when one of them times out.",
    "I would cache the merchant settings and keep the ledger itself on the primary database.",
    "We measured it with load tests that replayed a busy day of real traffic against staging.",
)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (NaN when there is nothing to rank)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


class EchoPath:
    """What the microphone hears of the loudspeaker: its output, ``gain_db`` down, ``delay_secs`` late."""

    def __init__(self, rate: int, gain_db: float | None, delay_secs: float = 0.04) -> None:
        self.rate = rate
        self.gain = 0.0 if gain_db is None else 10 ** (gain_db / 20)
        self.delay = delay_secs
        self._played: list[tuple[float, np.ndarray]] = []  # (start on the client clock, samples at rate)

    def play(self, start: float, pcm: bytes, rate: int) -> None:
        """The speaker plays ``pcm`` (16-bit mono at ``rate``) from ``start``."""
        if not self.gain:
            return
        samples = np.frombuffer(pcm[: len(pcm) - len(pcm) % 2], dtype="<i2").astype(np.float32)
        if rate != self.rate and samples.size:
            n = round(samples.size * self.rate / rate)
            samples = np.interp(np.arange(n) * (rate / self.rate), np.arange(samples.size), samples).astype(np.float32)
        self._played.append((start, samples))

    def flush(self, at: float) -> None:
        """Playback stopped at ``at`` (an interruption): nothing after it reaches the room."""
        kept = []
        for start, samples in self._played:
            if start < at:
                kept.append((start, samples[: int((at - start) * self.rate)]))
        self._played = kept

    def capture(self, t: float, n: int) -> np.ndarray:
        """The echo in the microphone's ``n`` samples from ``t``."""
        out = np.zeros(n, dtype=np.float32)
        begin = t - self.delay
        keep = []
        for start, samples in self._played:
            end = start + samples.size / self.rate
            if end < begin - 1.0:
                continue  # long played out: forget it
            keep.append((start, samples))
            offset = round((start - begin) * self.rate)
            lo, hi = max(0, offset), min(n, offset + samples.size)
            if lo < hi:
                out[lo:hi] += samples[lo - offset : hi - offset]
        self._played = keep
        return out * self.gain


@dataclass
class BargeIn:
    """One barge-in, on the client's clock (seconds)."""

    onset: float  # first audible chunk of the candidate's speech sent
    interrupted_at: float | None = None  # the server's interruption arrived
    audio_stopped_at: float | None = None  # interviewer audio stopped playing

    @property
    def interruption_ms(self) -> float | None:
        return None if self.interrupted_at is None else (self.interrupted_at - self.onset) * 1000

    @property
    def audio_stop_ms(self) -> float | None:
        return None if self.audio_stopped_at is None else max(0.0, self.audio_stopped_at - self.onset) * 1000


@dataclass
class BargeInReport:
    echo_db: float | None
    barge_ins: list[BargeIn] = field(default_factory=list)
    self_interruptions: list[float] = field(default_factory=list)
    interviewer_speech_secs: float = 0.0
    error: str = ""

    @property
    def self_interruptions_per_minute(self) -> float:
        minutes = self.interviewer_speech_secs / 60
        return len(self.self_interruptions) / minutes if minutes else float("nan")


class BargeInCaller(ABC):
    """The conversation and the measurements; subclasses move audio over one transport."""

    rate: int = 16000

    def __init__(
        self, synthesizer: object, *, echo_db: float | None, barge_ins: int = 6, barge_in_after_secs: float = 1.0,
        echo_delay_secs: float = 0.04,
    ) -> None:  # fmt: skip
        self._synth = synthesizer
        self.report = BargeInReport(echo_db)
        self._count = barge_ins
        self._after = barge_in_after_secs
        self._echo = EchoPath(self.rate, echo_db, echo_delay_secs)
        self._loop = asyncio.get_event_loop()
        self._t0 = 0.0
        self._speech: deque[bytes] = deque()
        self._speech_done = asyncio.Event()
        self._speech_done.set()
        self._last_speech_sent = -10.0
        self._onset_pending: BargeIn | None = None
        self._current: BargeIn | None = None
        self._playing_until = 0.0
        self._audible_until = 0.0
        self._first_audible_after: dict[float, float] = {}
        self._closed = asyncio.Event()
        self.interruptions: list[float] = []  # every interruption's arrival
        self.said: list[tuple[float, str]] = []  # (arrival, text) of what the interviewer says, as sentences

    # --- transport --------------------------------------------------------------------------

    @abstractmethod
    async def _connect(self) -> None: ...

    @abstractmethod
    async def _send_chunk(self, pcm: bytes) -> None: ...

    @abstractmethod
    async def _receive(self) -> None:
        """Read the server until it closes; call ``_on_audio`` / ``_on_interruption``."""

    @abstractmethod
    async def _close(self) -> None: ...

    # --- the run ------------------------------------------------------------------------------

    def now(self) -> float:
        return self._loop.time() - self._t0

    async def run(self, timeout: float = 600.0) -> BargeInReport:
        texts = sorted({*BARGE_INS, *ANSWERS})
        self._audio = {t: await asyncio.to_thread(self._synth.synthesize, t, self.rate) for t in texts}  # type: ignore[attr-defined]
        await self._connect()
        self._t0 = self._loop.time()
        tasks = [asyncio.create_task(self._receive()), asyncio.create_task(self._microphone())]
        try:
            await asyncio.wait_for(self._converse(), timeout)
        except TimeoutError:
            self.report.error = f"timed out after {timeout:g} s"
        except SessionStalled as exc:
            self.report.error = str(exc)
        finally:
            await self._close()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        return self.report

    async def _converse(self) -> None:
        await self._wait_interviewer_done(since=0.0)
        await self._say(ANSWERS[0])
        for i in range(self._count):
            reply = await self._wait_reply_start(since=self._last_speech_sent)
            await asyncio.sleep(max(0.0, reply + self._after - self.now()))
            trial = BargeIn(onset=float("nan"))
            self.report.barge_ins.append(trial)
            self._onset_pending = trial
            await self._say(BARGE_INS[i % len(BARGE_INS)])
            await asyncio.sleep(0.5)
            if trial.audio_stopped_at is None:  # never interrupted: when did it stop on its own?
                trial.audio_stopped_at = self._audible_until if self._audible_until > trial.onset else trial.onset
            self._current = None
            await self._wait_interviewer_done(since=self._last_speech_sent)  # its answer to the barge-in, heard in full
            await self._say(ANSWERS[(i + 1) % len(ANSWERS)])

    async def _say(self, text: str) -> None:
        if text not in self._audio:
            self._audio[text] = await asyncio.to_thread(self._synth.synthesize, text, self.rate)  # type: ignore[attr-defined]
        await self._say_pcm(self._audio[text])

    async def _say_pcm(self, pcm: bytes) -> None:
        """Speak 16-bit mono PCM at ``rate`` (returns when the last chunk was sent)."""
        step = int(self.rate * CHUNK_SECS) * 2
        pcm = pcm + bytes(-len(pcm) % step)
        self._speech_done.clear()
        self._speech.extend(pcm[i : i + step] for i in range(0, len(pcm), step))
        await self._speech_done.wait()

    async def _microphone(self) -> None:
        """A chunk every 20 ms on an absolute schedule: candidate speech (if any) plus the echo."""
        n = int(self.rate * CHUNK_SECS)
        k = 0
        while not self._closed.is_set():
            delay = self._t0 + k * CHUNK_SECS - self._loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            t = k * CHUNK_SECS
            speech = self._speech.popleft() if self._speech else None
            if speech is not None and not self._speech:
                self._speech_done.set()
            mixed = self._echo.capture(t, n)
            if speech is not None:
                mixed += np.frombuffer(speech, dtype="<i2").astype(np.float32)
                if is_audible(speech):
                    self._last_speech_sent = t
                    if self._onset_pending is not None:
                        self._onset_pending.onset = t
                        self._current, self._onset_pending = self._onset_pending, None
            await self._send_chunk(np.clip(mixed, -32768, 32767).astype("<i2").tobytes())
            k += 1

    # --- what the server sends -----------------------------------------------------------------

    def _on_audio(self, pcm: bytes, rate: int) -> None:
        now = self.now()
        start = max(now, self._playing_until)
        self._playing_until = start + len(pcm) / (2 * rate)
        self._echo.play(start, pcm, rate)
        if is_audible(pcm):
            self._audible_until = self._playing_until
            self.report.interviewer_speech_secs += len(pcm) / (2 * rate)
            for since in [s for s in self._first_audible_after if self._first_audible_after[s] < 0]:
                self._first_audible_after[since] = start

    def _on_text(self, text: str) -> None:
        self.said.append((round(self.now(), 3), text))

    def _on_interruption(self) -> None:
        now = self.now()
        self.interruptions.append(round(now, 3))
        heard_until = min(self._audible_until, now)
        self.report.interviewer_speech_secs -= max(0.0, self._audible_until - heard_until)
        self._playing_until = min(self._playing_until, now)
        self._audible_until = heard_until
        self._echo.flush(now)
        trial = self._current
        if trial is not None and trial.interrupted_at is None:
            trial.interrupted_at = now
            trial.audio_stopped_at = heard_until
        elif now - self._last_speech_sent >= SELF_INTERRUPTION_QUIET_SECS:
            self.report.self_interruptions.append(round(now, 2))

    # --- waiting -----------------------------------------------------------------------------

    async def _wait_reply_start(self, since: float) -> float:
        """When the interviewer's next audible audio starts playing (after ``since``)."""
        self._first_audible_after[since] = -1.0
        deadline = self.now() + REPLY_WAIT_SECS
        while self._first_audible_after[since] < 0:
            if self._closed.is_set() or self.now() > deadline:
                raise SessionStalled(f"no interviewer reply {REPLY_WAIT_SECS:g} s after the answer at {since:.1f} s")
            await asyncio.sleep(CHUNK_SECS)
        return self._first_audible_after.pop(since)

    async def _wait_interviewer_done(self, since: float) -> None:
        await self._wait_reply_start(since)
        while self.now() - self._audible_until < QUIET_AFTER_INTERVIEWER_SECS and not self._closed.is_set():  # noqa: ASYNC110 - paced by the simulated audio clock
            await asyncio.sleep(CHUNK_SECS)


class SessionStalled(RuntimeError):
    """The interview stopped answering; the report keeps what was measured."""


class WebSocketBargeInCaller(BargeInCaller):
    """Pipecat protobuf over the bot's ``/ws`` (16 kHz microphone)."""

    def __init__(self, url: str, synthesizer: object, **options: object) -> None:
        super().__init__(synthesizer, **options)  # type: ignore[arg-type]
        self._url = url

    async def _connect(self) -> None:
        self._ws = await open_connection(self._url)
        await self._ws.send(encode_message(rtvi_client_ready()))

    async def _send_chunk(self, pcm: bytes) -> None:
        try:
            await self._ws.send(encode_audio(pcm, self.rate, 1))
        except Exception:
            self._closed.set()

    async def _receive(self) -> None:
        try:
            async for payload in self._ws:
                event = decode(payload)
                if isinstance(event, BotAudio) and event.num_channels == 1:
                    self._on_audio(event.pcm, event.sample_rate)
                elif isinstance(event, BotInterruption):
                    self._on_interruption()
                elif isinstance(event, BotMessage) and event.rtvi_type == "bot-output":
                    data = (event.data or {}).get("data") or {}
                    if data.get("text") and data.get("aggregated_by", "sentence") != "word":
                        self._on_text(str(data["text"]))
        finally:
            self._closed.set()

    async def _close(self) -> None:
        self._closed.set()
        await self._ws.close()
