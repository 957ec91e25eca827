"""A Twilio phone call, simulated: the webhook request, the TwiML, and the Media Streams WebSocket.

Speaks Twilio's documented protocol (https://www.twilio.com/docs/voice/media-streams/websocket-messages)
to our server, with a scripted candidate on the phone:

* the webhook: a form POST like Twilio's (CallSid, AccountSid, From, To, ...) signed with
  ``X-Twilio-Signature`` for the public URL; the TwiML answer gives the stream URL and parameters;
* the stream: ``connected``, ``start`` (streamSid, callSid, accountSid, tracks,
  customParameters, mediaFormat audio/x-mulaw 8000 Hz mono), then a ``media`` message every
  20 ms for as long as the call lasts (silence between answers, like a real phone line) with
  base64 µ-law payloads and increasing sequenceNumber / chunk / timestamp; ``dtmf`` for key
  presses; ``stop`` when the caller hangs up (or when the server hung the call up via REST);
* the phone's speaker: audio we receive plays on its own clock (the server may send ahead);
  a ``mark`` is echoed only once the audio received before it has played; ``clear`` drops
  unplayed audio and echoes every outstanding mark at once, as Twilio does.

The candidate's answers come from a candidate script (scripts/candidate_script.py) spoken
with the candidate's Piper voice at 8 kHz. Voice-to-voice latency per answer is measured on the phone's side:
end of the candidate's speech -> the first interviewer audio actually playing.
Usable from scripts/ (scripts/simulate_phone_call.py) as well as from tests.
"""

from __future__ import annotations

import asyncio
import audioop
import base64
import json
import time
import wave
import xml.etree.ElementTree as ET
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import numpy as np
import websockets
from websockets.asyncio.client import connect

from scripts.candidate_script import Answer, Pause, Say
from transports.twilio_security import twilio_signature

RATE = 8000
CHUNK_SECS = 0.02
CHUNK_SAMPLES = int(RATE * CHUNK_SECS)  # 160 µ-law bytes per media message
SILENT_ULAW = audioop.lin2ulaw(bytes(CHUNK_SAMPLES * 2), 2)
AUDIBLE_PEAK = 300  # int16 peak above which received audio counts as the interviewer speaking
QUIET_GAP_SECS = 1.2  # the interviewer is done after this much played silence


class Synthesizer(Protocol):
    def synthesize(self, text: str, sample_rate: int) -> bytes: ...


# --- protocol messages ------------------------------------------------------------------------


def connected_message() -> dict[str, Any]:
    return {"event": "connected", "protocol": "Call", "version": "1.0.0"}


def start_message(
    *, stream_sid: str, call_sid: str, account_sid: str, custom_parameters: Mapping[str, str], sequence: int = 1
) -> dict[str, Any]:
    return {
        "event": "start",
        "sequenceNumber": str(sequence),
        "start": {
            "accountSid": account_sid,
            "streamSid": stream_sid,
            "callSid": call_sid,
            "tracks": ["inbound"],
            "customParameters": dict(custom_parameters),
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": RATE, "channels": 1},
        },
        "streamSid": stream_sid,
    }


def media_message(stream_sid: str, sequence: int, chunk: int, timestamp_ms: int, ulaw: bytes) -> dict[str, Any]:
    return {
        "event": "media",
        "sequenceNumber": str(sequence),
        "media": {
            "track": "inbound",
            "chunk": str(chunk),
            "timestamp": str(timestamp_ms),
            "payload": base64.b64encode(ulaw).decode(),
        },
        "streamSid": stream_sid,
    }


def dtmf_message(stream_sid: str, sequence: int, digit: str) -> dict[str, Any]:
    return {
        "event": "dtmf",
        "streamSid": stream_sid,
        "sequenceNumber": str(sequence),
        "dtmf": {"track": "inbound_track", "digit": digit},
    }


def mark_message(stream_sid: str, sequence: int, name: str) -> dict[str, Any]:
    return {"event": "mark", "sequenceNumber": str(sequence), "streamSid": stream_sid, "mark": {"name": name}}


def stop_message(stream_sid: str, sequence: int, *, call_sid: str, account_sid: str) -> dict[str, Any]:
    return {
        "event": "stop",
        "sequenceNumber": str(sequence),
        "streamSid": stream_sid,
        "stop": {"accountSid": account_sid, "callSid": call_sid},
    }


# --- the webhook --------------------------------------------------------------------------------


@dataclass(frozen=True)
class StreamInstruction:
    """What the TwiML told Twilio to do."""

    url: str
    parameters: dict[str, str]


def parse_stream_twiml(twiml: str) -> StreamInstruction:
    root = ET.fromstring(twiml)
    stream = root.find("./Connect/Stream")
    if stream is None:
        raise ValueError(f"TwiML has no <Connect><Stream>: {twiml[:200]}")
    params = {p.get("name", ""): p.get("value", "") for p in stream.findall("Parameter")}
    return StreamInstruction(stream.get("url", ""), params)


def call_form(
    call_sid: str, account_sid: str, *, to: str = "+15550001111", caller: str = "+15552223333"
) -> dict[str, str]:
    """The parameters Twilio posts to the voice webhook (the ones that matter here)."""
    return {
        "CallSid": call_sid,
        "AccountSid": account_sid,
        "From": caller,
        "To": to,
        "CallStatus": "ringing",
        "Direction": "inbound",
        "ApiVersion": "2010-04-01",
    }


async def post_webhook(
    server: str,
    public_host: str,
    form: Mapping[str, str],
    *,
    auth_token: str | None,
    query: str = "",
    signature: str | None = None,
) -> tuple[int, str]:
    """POST the voice webhook to `server` (http://host:port) as Twilio would to https://public_host.

    The signature is computed for the public URL (what Twilio signs); pass `signature` to override.
    """
    path = "/twilio/voice" + (f"?{query}" if query else "")
    headers = {}
    if signature is None and auth_token is not None:
        signature = twilio_signature(f"https://{public_host}{path}", form.items(), auth_token)
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    async with aiohttp.ClientSession() as http:
        async with http.post(server.rstrip("/") + path, data=dict(form), headers=headers) as response:
            return response.status, await response.text()


def tunnel(url: str, server: str) -> str:
    """wss://PUBLIC_HOST/path -> ws://host:port/path: what a tunnel does for the real Twilio."""
    parts, local = urlsplit(url), urlsplit(server)
    return urlunsplit(("ws", local.netloc, parts.path, parts.query, ""))


# --- the call -----------------------------------------------------------------------------------


@dataclass
class Keypress:
    """Instead of answering, press a key (then wait for the interviewer like after an answer)."""

    digit: str


ScriptItem = Answer | Keypress | str


@dataclass
class TurnTiming:
    index: int
    kind: str  # "speech" or "keypad"
    ended_at: float
    reply_started_at: float | None = None
    reply_mark_at: float | None = None

    @property
    def latency_ms(self) -> float | None:
        return None if self.reply_started_at is None else round((self.reply_started_at - self.ended_at) * 1000, 1)


@dataclass
class CallReport:
    call_sid: str
    stream_sid: str
    turns: list[TurnTiming] = field(default_factory=list)
    timeline: list[tuple[float, str, str]] = field(default_factory=list)
    media_sent: int = 0
    media_received: int = 0
    marks_received: int = 0
    marks_echoed: int = 0
    clears: int = 0
    closed_by: str = ""
    pending_marks_at_hang_up: int | None = None
    close_code: int | None = None
    first_audible_at: float | None = None  # monotonic: the interviewer's first audible audio started playing

    def latencies_ms(self) -> list[float]:
        return [t.latency_ms for t in self.turns if t.latency_ms is not None]

    def times(self, kind: str) -> list[float]:
        return [t for t, k, _ in self.timeline if k == kind]


class SimulatedPhoneCall:
    """One caller on one media stream; `run()` returns when the call is over."""

    def __init__(
        self,
        ws_url: str,
        *,
        call_sid: str,
        account_sid: str,
        custom_parameters: Mapping[str, str],
        script: Sequence[ScriptItem],
        synthesizer: Synthesizer | None = None,
        stream_sid: str | None = None,
        hang_up_after_turns: int | None = None,
        drop_mid_answer: int | None = None,
        think_secs: float = 0.4,
        record_path: Path | None = None,
    ) -> None:
        self.ws_url = ws_url
        self.call_sid = call_sid
        self.account_sid = account_sid
        self.stream_sid = stream_sid or "MZ" + call_sid[2:]
        self.custom_parameters = dict(custom_parameters)
        self.script = list(script)
        self.synthesizer = synthesizer
        self.hang_up_after_turns = hang_up_after_turns
        self.drop_mid_answer = drop_mid_answer
        self.think_secs = think_secs
        self.record_path = record_path
        self.report = CallReport(call_sid, self.stream_sid)
        self._ws: Any = None
        self._t0 = time.monotonic()
        self._sequence = 0
        self._chunk = 0
        self._speech: deque[bytes] = deque()
        self._speech_done = asyncio.Event()
        self._speech_done.set()
        self._play_end = 0.0
        self._last_audible_end = 0.0
        self._last_media_at = 0.0
        self._pending_marks: list[tuple[float, str]] = []
        self._marks_changed = asyncio.Event()
        self._closed = asyncio.Event()
        self.connected = asyncio.Event()  # `start` sent: the stream is live
        self._waiting_turn: TurnTiming | None = None
        self._mic_track: list[tuple[float, bytes]] = []
        self._bot_track: list[tuple[float, bytes]] = []

    # --- public -------------------------------------------------------------------------------

    async def run(self, timeout: float = 120.0) -> CallReport:
        prepared = await asyncio.to_thread(self._prepare)
        async with connect(self.ws_url, max_size=None) as ws:
            self._ws = ws
            self._t0 = time.monotonic()
            await self._send(connected_message())
            await self._send(
                start_message(
                    stream_sid=self.stream_sid,
                    call_sid=self.call_sid,
                    account_sid=self.account_sid,
                    custom_parameters=self.custom_parameters,
                    sequence=self._next_sequence(),
                )
            )
            self.connected.set()
            tasks = [asyncio.create_task(c) for c in (self._microphone(), self._receive(), self._echo_marks())]
            talker = asyncio.create_task(self._converse(prepared))
            try:
                await asyncio.wait_for(self._closed.wait(), timeout)
            except TimeoutError:
                self.report.closed_by = "timeout"
            finally:
                for task in (*tasks, talker):
                    task.cancel()
                await asyncio.gather(*tasks, talker, return_exceptions=True)
                self.report.close_code = ws.close_code
        if self.record_path is not None:
            self._write_recording(self.record_path)
        return self.report

    def remote_hang_up(self) -> None:
        """The server hung the call up through the REST API: Twilio stops the stream."""
        self.report.pending_marks_at_hang_up = len(self._pending_marks)
        self._note("rest_hang_up")
        asyncio.get_running_loop().create_task(self.hang_up(by="server_rest"))

    async def hang_up(self, *, by: str = "caller") -> None:
        """`stop`, then close, as Twilio does when the caller hangs up."""
        if self._closed.is_set():
            return
        self.report.closed_by = self.report.closed_by or by  # the socket closing next is our doing
        try:
            await self._send(
                stop_message(
                    self.stream_sid, self._next_sequence(), call_sid=self.call_sid, account_sid=self.account_sid
                )
            )
            await self._ws.close()
        except websockets.ConnectionClosed:
            pass
        self._finish(by)

    async def send_raw(self, data: str | bytes) -> None:
        await self._ws.send(data)

    # --- sending ------------------------------------------------------------------------------

    def _prepare(self) -> list[Answer | Keypress]:
        items: list[Answer | Keypress] = []
        for item in self.script:
            items.append(Answer((Say(item),), self.think_secs) if isinstance(item, str) else item)
        self._audio: dict[str, bytes] = {}
        for item in items:
            if isinstance(item, Answer):
                for segment in item.segments:
                    if isinstance(segment, Say) and segment.text not in self._audio:
                        if self.synthesizer is None:
                            raise ValueError("a synthesizer is needed to speak answers")
                        self._audio[segment.text] = self.synthesizer.synthesize(segment.text, RATE)
        return items

    def _next_sequence(self) -> int:
        self._sequence += 1
        return self._sequence

    async def _send(self, message: dict[str, Any]) -> None:
        await self._ws.send(json.dumps(message))

    async def _microphone(self) -> None:
        """A media message every 20 ms, on an absolute schedule (no drift)."""
        next_at = time.monotonic()
        while True:
            pcm = self._speech.popleft() if self._speech else None
            if pcm is not None:
                self._mic_track.append((time.monotonic() - self._t0, pcm))
                if not self._speech:
                    self._speech_done.set()
            ulaw = audioop.lin2ulaw(pcm, 2) if pcm is not None else SILENT_ULAW
            self._chunk += 1
            message = media_message(
                self.stream_sid, self._next_sequence(), self._chunk, int((self._chunk - 1) * 20), ulaw
            )
            try:
                await self._send(message)
            except websockets.ConnectionClosed:
                self._finish("server")
                return
            self.report.media_sent += 1
            next_at += CHUNK_SECS
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    async def _speak(self, pcm: bytes) -> None:
        step = CHUNK_SAMPLES * 2
        pcm = pcm + bytes(-len(pcm) % step)
        self._speech_done.clear()
        self._speech.extend(pcm[i : i + step] for i in range(0, len(pcm), step))
        await self._speech_done.wait()

    async def _silence(self, seconds: float) -> None:
        await self._speak(bytes(int(seconds / CHUNK_SECS) * CHUNK_SAMPLES * 2))

    # --- receiving ----------------------------------------------------------------------------

    async def _receive(self) -> None:
        try:
            async for raw in self._ws:
                self._handle(json.loads(raw))
        except websockets.ConnectionClosed:
            pass
        self._finish("server")

    def _handle(self, message: dict[str, Any]) -> None:
        event = message.get("event")
        now = time.monotonic()
        if event == "media":
            ulaw = base64.b64decode(message["media"]["payload"])
            pcm = audioop.ulaw2lin(ulaw, 2)
            start = max(now, self._play_end)
            self._play_end = start + len(ulaw) / RATE
            self._last_media_at = now
            self.report.media_received += 1
            self._bot_track.append((start - self._t0, pcm))
            if np.abs(np.frombuffer(pcm, dtype=np.int16)).max(initial=0) > AUDIBLE_PEAK:
                self._last_audible_end = self._play_end
                if self.report.first_audible_at is None:
                    self.report.first_audible_at = start
                turn = self._waiting_turn
                if turn is not None and turn.reply_started_at is None:
                    turn.reply_started_at = start
        elif event == "mark":
            self.report.marks_received += 1
            self._pending_marks.append((max(now, self._play_end), message["mark"]["name"]))
            self._marks_changed.set()
        elif event == "clear":
            self.report.clears += 1
            self._note("clear")
            self._bot_track = [(t, pcm) for t, pcm in self._bot_track if t + self._t0 <= now]
            self._play_end = now
            self._pending_marks = [(now, name) for _, name in self._pending_marks]
            self._marks_changed.set()

    async def _echo_marks(self) -> None:
        while True:
            if not self._pending_marks:
                self._marks_changed.clear()
                await self._marks_changed.wait()
                continue
            due, name = min(self._pending_marks)
            delay = due - time.monotonic()
            if delay > 0:
                self._marks_changed.clear()
                try:
                    await asyncio.wait_for(self._marks_changed.wait(), delay)
                except TimeoutError:
                    pass
                continue
            self._pending_marks.remove((due, name))
            try:
                await self._send(mark_message(self.stream_sid, self._next_sequence(), name))
            except websockets.ConnectionClosed:
                return
            self.report.marks_echoed += 1
            self._note("mark_echo", name)
            turn = self._waiting_turn
            if (
                turn is not None
                and turn.reply_started_at is not None
                and turn.reply_mark_at is None
                and name.startswith("start")
            ):
                turn.reply_mark_at = time.monotonic()

    # --- the conversation ---------------------------------------------------------------------

    async def _converse(self, items: list[Answer | Keypress]) -> None:
        await self._wait_interviewer_done(since=0.0)
        for index, item in enumerate(items):
            if self.hang_up_after_turns is not None and index >= self.hang_up_after_turns:
                await self.hang_up()
                return
            await asyncio.sleep(item.think_pause if isinstance(item, Answer) else self.think_secs)
            if isinstance(item, Keypress):
                await self._send(dtmf_message(self.stream_sid, self._next_sequence(), item.digit))
                kind = "keypad"
            elif self.drop_mid_answer == index:
                await self._drop_mid_answer(item)
                return
            else:
                for segment in item.segments:
                    if isinstance(segment, Say):
                        await self._speak(self._audio[segment.text])
                    elif isinstance(segment, Pause):
                        await self._silence(segment.seconds)
                kind = "speech"
            turn = TurnTiming(index, kind, time.monotonic())
            self.report.turns.append(turn)
            self._waiting_turn = turn
            self._note("turn_end", str(index))
            await self._wait_interviewer_done(since=turn.ended_at)
        if self.hang_up_after_turns is not None:
            await self.hang_up()

    async def _drop_mid_answer(self, answer: Answer) -> None:
        """The line goes dead halfway through an answer: no `stop`, the socket just closes."""
        text = next(s.text for s in answer.segments if isinstance(s, Say))
        pcm = self._audio[text]
        asyncio.get_running_loop().create_task(self._speak(pcm))
        await asyncio.sleep(len(pcm) / (2 * RATE) / 2)
        self._note("dropped")
        self.report.closed_by = "caller_dropped"
        self._ws.transport.abort()  # no close handshake: the network is gone
        self._finish("caller_dropped")

    async def _wait_interviewer_done(self, since: float) -> None:
        """Until the interviewer spoke after `since` and then nothing played for QUIET_GAP_SECS."""
        while not self._closed.is_set():
            now = time.monotonic()
            spoke = self._last_audible_end > since
            if spoke and now - max(self._play_end, self._last_media_at) >= QUIET_GAP_SECS:
                return
            await asyncio.sleep(0.05)

    def _note(self, kind: str, detail: str = "") -> None:
        self.report.timeline.append((time.monotonic(), kind, detail))

    def _finish(self, by: str) -> None:
        if not self._closed.is_set():
            self.report.closed_by = self.report.closed_by or by
            self._note("closed", by)
            self._closed.set()

    def _write_recording(self, path: Path) -> None:
        """Stereo 8 kHz: candidate left, interviewer right, on one timeline."""
        end = max([t + len(p) / (2 * RATE) for t, p in (*self._mic_track, *self._bot_track)], default=0.0)
        stereo = np.zeros((int(end * RATE) + 1, 2), dtype=np.int16)
        for channel, track in ((0, self._mic_track), (1, self._bot_track)):
            for t, pcm in track:
                samples = np.frombuffer(pcm, dtype=np.int16)
                at = int(t * RATE)
                stereo[at : at + len(samples), channel] = samples[: len(stereo) - at]
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with wave.open(str(path), "wb") as wav:
            wav.setnchannels(2)
            wav.setsampwidth(2)
            wav.setframerate(RATE)
            wav.writeframes(stereo.tobytes())


def percentile(values: Sequence[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None
