"""Deepgram emulator: the live transcription WebSocket (`/v1/listen`), transcribed by Whisper.

Why: Pipecat's `DeepgramSTTService` (deepgram-sdk underneath) must run for real offline. This
server speaks the protocol it uses: `GET /v1/listen?model=..&language=..&encoding=linear16&
sample_rate=16000&channels=1&interim_results=..` upgraded to a WebSocket with `Authorization:
Token KEY`; binary messages are audio; text messages are `{"type": "KeepAlive"}` (keeps the
socket open; 10 s without any message closes it with 1011, as Deepgram does), `{"type":
"Finalize"}` (transcribe what is buffered now, answer with `from_finalize: true`) and
`{"type": "CloseStream"}` (flush, send `Metadata`, close 1000). Transcripts are `Results`
messages (`channel.alternatives[0].transcript`, `words`, `is_final`, `speech_final`,
`start`, `duration`, `metadata.model_info`).

Where it differs from the service (on purpose, documented): transcription happens at
`Finalize`, at `CloseStream`, and — only when the client sets `endpointing=<ms>` — after that
much silence (energy threshold) following speech; no interim results are sent (each one would
cost a Whisper run on a 2-core machine). `keyterm`/`keywords` become Whisper's initial prompt.

Scripted mode (`script=[lines]`, for load tests; see emulators/scripted.py): no Whisper, no audio
kept; the n-th answer on a connection (loud audio after `answer_gap_secs` of quiet) is answered
with the n-th line, each flush with the words its share of the answer's loud audio covers.

Faults (`emulators.faults`): connection faults at the handshake (`http_error` answers with
Deepgram's error JSON); per utterance (from its first loud audio): `hang` never answers it,
`slow_first_byte:S` answers S seconds late, `drop:N` cuts the socket after N more audio
messages (mid-answer), `malformed` answers with a message that is not Deepgram's.

    async with DeepgramEmulator() as dg:
        stt = DeepgramSTTService(api_key="any", base_url=dg.base_url, ...)

Standalone: `python -m emulators.deepgram --port 8998 [--fault SPEC ...]`.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from aiohttp import WSMsgType, web
from loguru import logger

from emulators.faults import Fault, FaultKind
from emulators.scripted import ScriptedLine
from emulators.server import EmulatorServer, cut, run_cli

WHISPER_RATE = 16000
IDLE_TIMEOUT_SECS = 10.0
SPEECH_RMS = 500  # int16 RMS above which a chunk counts as speech (energy endpointing only)

# audio (float32, 16 kHz mono) + optional prompt -> text; runs in a worker thread
Transcriber = Callable[[np.ndarray, "str | None"], str]


def whisper_transcriber() -> Transcriber:
    """The embedded Whisper model (shared per process), as a Transcriber."""
    from services.local_models import LOCAL_MODELS
    from services.local_stt import whisper_options
    from settings import Settings

    model = LOCAL_MODELS.whisper(whisper_options(Settings()))

    def transcribe(audio: np.ndarray, prompt: str | None) -> str:
        segments, _ = model.transcribe(audio, language="en", initial_prompt=prompt)
        return " ".join(s.text.strip() for s in segments if s.no_speech_prob < 0.6).strip()

    return transcribe


@dataclass
class _Stream:
    """One WebSocket's state: where we are in the audio and what is not transcribed yet."""

    sample_rate: int
    prompt: str | None
    endpointing_ms: int | None
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    pending: bytearray = field(default_factory=bytearray)
    pending_start_secs: float = 0.0
    total_bytes: int = 0
    heard_speech: bool = False
    silence_secs: float = 0.0
    fault: Fault | None = None
    audio_since_fault: int = 0
    started_utterance: bool = False
    keep_audio: bool = True  # False in scripted mode: only the length of what is pending matters
    pending_bytes: int = 0
    quiet_secs: float = 1e9  # since the last loud chunk; unlike silence_secs, a flush does not reset it
    answer: int = -1  # scripted mode: which answer the candidate is giving (0-based)
    answer_loud_secs: float = 0.0  # scripted mode: loud audio heard in this answer
    answer_words_sent: int = 0  # scripted mode: words of its line already sent

    def seconds(self, n_bytes: int) -> float:
        return n_bytes / (2 * self.sample_rate)


class DeepgramEmulator(EmulatorServer):
    name = "deepgram"

    def __init__(
        self,
        *,
        transcriber: Transcriber | None = None,
        script: Sequence[str | ScriptedLine] | None = None,
        answer_gap_secs: float = 1.0,
        **server: Any,
    ) -> None:
        """`script`: scripted mode's lines (see the module docstring); `server`: EmulatorServer's
        api_key, faults, host, port."""
        super().__init__(**server)
        self._transcriber = transcriber
        self.script = [ScriptedLine(x) if isinstance(x, str) else x for x in script] if script else None
        self.answer_gap_secs = answer_gap_secs
        self.transcripts: list[str] = []  # every final transcript sent, in order
        self.queries: list[dict[str, str]] = []  # every /v1/listen query, in order

    @property
    def base_url(self) -> str:
        """What to pass as `base_url` to `DeepgramSTTService` (ws:// means no TLS)."""
        return self.url("ws")

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/v1/listen", self._listen)

    def error_response(self, fault: Fault) -> web.Response:
        code = "TOO_MANY_REQUESTS" if fault.status == 429 else "INTERNAL_SERVER_ERROR"
        return _error(fault.status, code, f"emulated {fault.status}")

    # -- handshake -------------------------------------------------------------------------

    async def _listen(self, request: web.Request) -> web.StreamResponse:
        query = dict(request.query)
        self.queries.append(query)
        if (faulted := await self.connection_fault(request)) is not None:
            return faulted
        if self.api_key is not None and request.headers.get("Authorization") != f"Token {self.api_key}":
            return _error(401, "INVALID_AUTH", "Invalid credentials.")
        try:
            stream = _parse_query(request.query)
        except ValueError as exc:
            return _error(400, "INVALID_QUERY_PARAMETER", str(exc))
        stream.keep_audio = self.script is None
        ws = web.WebSocketResponse(heartbeat=None, max_msg_size=0)
        await ws.prepare(request)
        await self._serve(request, ws, stream)
        return ws

    # -- the stream --------------------------------------------------------------------------

    async def _serve(self, request: web.Request, ws: web.WebSocketResponse, stream: _Stream) -> None:
        while not ws.closed:
            try:
                msg = await ws.receive(timeout=IDLE_TIMEOUT_SECS)
            except TimeoutError:
                await ws.close(code=1011, message=b"NET-0001: no audio or KeepAlive for 10 s")
                return
            if msg.type == WSMsgType.BINARY:
                if await self._audio(request, ws, stream, msg.data):
                    return
            elif msg.type == WSMsgType.TEXT:
                if await self._control(ws, stream, msg.data):
                    return
            else:  # CLOSE / CLOSED / ERROR
                return

    async def _audio(self, request: web.Request, ws: web.WebSocketResponse, stream: _Stream, data: bytes) -> bool:
        """Buffer audio; True when the socket was dropped by a fault."""
        if not stream.pending_bytes:
            stream.pending_start_secs = stream.seconds(stream.total_bytes)
        if stream.keep_audio:
            stream.pending.extend(data)
        stream.pending_bytes += len(data)
        stream.total_bytes += len(data)
        loud = chunk_rms(data) >= SPEECH_RMS
        if loud and stream.quiet_secs >= self.answer_gap_secs:
            stream.answer, stream.answer_loud_secs, stream.answer_words_sent = stream.answer + 1, 0.0, 0
        if loud:
            stream.answer_loud_secs += stream.seconds(len(data))
        stream.quiet_secs = 0.0 if loud else stream.quiet_secs + stream.seconds(len(data))
        if loud and not stream.started_utterance:
            stream.started_utterance = True
            stream.fault = self.faults.take(on_connect=False)
            stream.audio_since_fault = 0
            if stream.fault is not None:
                logger.info(f"deepgram emulator: injecting {stream.fault.kind.value} on this utterance")
        if stream.fault is not None and stream.fault.kind is FaultKind.DROP:
            stream.audio_since_fault += 1
            if stream.audio_since_fault > stream.fault.after:
                cut(request)
                return True
        stream.heard_speech = stream.heard_speech or loud
        stream.silence_secs = 0.0 if loud else stream.silence_secs + stream.seconds(len(data))
        if (
            stream.endpointing_ms is not None
            and stream.heard_speech
            and stream.silence_secs * 1000 >= stream.endpointing_ms
        ):
            await self._flush(ws, stream, from_finalize=False)
        return False

    async def _control(self, ws: web.WebSocketResponse, stream: _Stream, data: str) -> bool:
        """Handle KeepAlive / Finalize / CloseStream; True when the stream is over."""
        try:
            kind = json.loads(data).get("type")
        except (ValueError, AttributeError):
            kind = None
        if kind == "KeepAlive":
            return False
        if kind == "Finalize":
            await self._flush(ws, stream, from_finalize=True)
            return False
        if kind == "CloseStream":
            await self._flush(ws, stream, from_finalize=False)
            await ws.send_json(_metadata(stream))
            await ws.close(code=1000)
            return True
        await ws.send_json({"type": "Error", "description": f"Unknown message: {data[:80]}", "variant": "DATA-0000"})
        return False

    async def _flush(self, ws: web.WebSocketResponse, stream: _Stream, *, from_finalize: bool) -> None:
        """Transcribe what is buffered and send one final Results message (empty when nothing)."""
        audio, start, length = bytes(stream.pending), stream.pending_start_secs, stream.pending_bytes
        fault, had_speech = stream.fault, stream.heard_speech
        stream.pending.clear()
        stream.pending_bytes = 0
        stream.heard_speech, stream.silence_secs, stream.started_utterance, stream.fault = False, 0.0, False, None
        if self.script is not None:
            transcript = self._scripted_line(stream) if had_speech else ""
        else:
            transcript = await self._transcribe(audio, stream) if had_speech else ""
        if fault is not None and fault.kind is FaultKind.HANG:
            return
        if fault is not None and fault.kind is FaultKind.SLOW_FIRST_BYTE:
            await asyncio.sleep(fault.delay_secs)
        if fault is not None and fault.kind is FaultKind.MALFORMED:
            await ws.send_str('{"type": "Results", "channel": "not an object", ')
            return
        if ws.closed:
            return
        if transcript:
            self.transcripts.append(transcript)
        await ws.send_json(_results(stream, transcript, start, stream.seconds(length), from_finalize=from_finalize))

    def _scripted_line(self, stream: _Stream) -> str:
        """The words of this answer's line said since the last flush (at least one: speech was heard)."""
        assert self.script is not None
        if stream.answer < 0:
            return ""
        line = self.script[stream.answer % len(self.script)]
        words = line.text.split()
        upto = max(stream.answer_words_sent + 1, line.words_heard(stream.answer_loud_secs))
        if stream.answer_words_sent >= len(words):
            return words[-1]  # more speech than the script has words: repeat the last (rare)
        said, stream.answer_words_sent = words[stream.answer_words_sent : upto], min(upto, len(words))
        return " ".join(said)

    async def warm(self) -> None:
        """Load Whisper now (about a second), so the first answer is not late because of it (not when scripted)."""
        if self.script is None:
            await self._whisper()

    async def _whisper(self) -> Transcriber:
        if self._transcriber is None:
            self._transcriber = await asyncio.to_thread(whisper_transcriber)
        return self._transcriber

    async def _transcribe(self, audio: bytes, stream: _Stream) -> str:
        transcribe = await self._whisper()
        samples = np.frombuffer(audio, dtype=np.int16).astype(np.float32) / 32768.0
        if stream.sample_rate != WHISPER_RATE and samples.size:
            n = int(samples.size * WHISPER_RATE / stream.sample_rate)
            samples = np.interp(np.linspace(0, samples.size - 1, n), np.arange(samples.size), samples).astype(
                np.float32
            )
        return await asyncio.to_thread(transcribe, samples, stream.prompt)


def _parse_query(query: object) -> _Stream:
    """The query parameters the emulator honours; anything it cannot serve is a 400 naming it."""
    get = query.get  # type: ignore[attr-defined]
    getall = getattr(query, "getall", lambda key, default: default)
    encoding = get("encoding", "linear16")
    if encoding != "linear16":
        raise ValueError(f"encoding={encoding!r} is not supported by the emulator (linear16 only)")
    if get("channels", "1") != "1" or get("multichannel", "false") == "true":
        raise ValueError("the emulator transcribes one channel (channels=1, multichannel=false)")
    try:
        sample_rate = int(get("sample_rate", "16000"))
    except ValueError:
        raise ValueError(f"sample_rate={get('sample_rate')!r} is not an integer") from None
    if not 8000 <= sample_rate <= 48000:
        raise ValueError(f"sample_rate={sample_rate} is outside 8000-48000")
    endpointing = get("endpointing")
    endpointing_ms = None if endpointing in (None, "false") else int(endpointing)
    terms = [*getall("keyterm", []), *getall("keywords", [])]
    prompt = ", ".join(t.split(":")[0] for t in terms) or None
    return _Stream(sample_rate=sample_rate, prompt=prompt, endpointing_ms=endpointing_ms)


def _results(stream: _Stream, transcript: str, start: float, duration: float, *, from_finalize: bool) -> dict:
    words = transcript.split()
    step = duration / max(len(words), 1)
    return {
        "type": "Results",
        "channel_index": [0, 1],
        "duration": round(duration, 3),
        "start": round(start, 3),
        "is_final": True,
        "speech_final": True,
        "from_finalize": from_finalize,
        "channel": {
            "alternatives": [
                {
                    "transcript": transcript,
                    "confidence": 0.9 if transcript else 0.0,
                    "words": [
                        {
                            "word": w.strip(".,?!").lower(),
                            "punctuated_word": w,
                            "confidence": 0.9,
                            "start": round(start + i * step, 3),
                            "end": round(start + (i + 1) * step, 3),
                        }
                        for i, w in enumerate(words)
                    ],
                }
            ]
        },
        "metadata": {
            "request_id": stream.request_id,
            "model_info": {"name": "emulated-whisper", "version": "1", "arch": "whisper"},
            "model_uuid": "00000000-0000-0000-0000-000000000000",
        },
    }


def _metadata(stream: _Stream) -> dict:
    return {
        "type": "Metadata",
        "transaction_key": "deprecated",
        "request_id": stream.request_id,
        "sha256": "0" * 64,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
        "duration": round(stream.seconds(stream.total_bytes), 3),
        "channels": 1,
        "models": ["00000000-0000-0000-0000-000000000000"],
        "model_info": {
            "00000000-0000-0000-0000-000000000000": {"name": "emulated-whisper", "version": "1", "arch": "whisper"}
        },
    }


def _error(status: int, code: str, message: str) -> web.Response:
    body = {"err_code": code, "err_msg": message, "request_id": str(uuid.uuid4())}
    return web.json_response(body, status=status, headers={"dg-error": message})


def chunk_rms(data: bytes) -> float:
    samples = np.frombuffer(data[: len(data) - len(data) % 2], dtype=np.int16)
    return float(np.sqrt(np.mean(samples.astype(np.float32) ** 2))) if samples.size else 0.0


def main(argv: list[str] | None = None) -> None:
    run_cli(
        lambda args, plan: DeepgramEmulator(api_key=args.api_key, faults=plan, host=args.host, port=args.port),
        description="Local Deepgram live-transcription emulator (Whisper behind it).",
        port=8998,
        setting="DEEPGRAM_BASE_URL",
        argv=argv,
    )


if __name__ == "__main__":
    main()
