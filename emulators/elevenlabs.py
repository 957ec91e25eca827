"""ElevenLabs emulator: the multi-context TTS WebSocket, spoken by Piper.

Why: Pipecat's `ElevenLabsTTSService` must run for real offline. This server speaks what that
service sends and expects: `GET /v1/text-to-speech/{voice_id}/multi-stream-input?model_id=..&
output_format=pcm_24000&auto_mode=true` upgraded to a WebSocket with an `xi-api-key` header.
Client messages, each JSON with a `context_id`: `{"text": " ", "voice_settings": ..}` opens a
context, `{"text": "..."}` adds text, `{"text": ""}` is a keep-alive, `{"flush": true}`
synthesises what is buffered, `{"close_context": true}` finishes the context (then `isFinal`),
`{"close_socket": true}` closes. Server messages: `{"audio": base64 PCM16, "alignment": {"chars",
"charStartTimesMs", "charDurationsMs"}, "normalizedAlignment": .., "contextId"}` (times restart
at zero in every message) and `{"isFinal": true, "contextId"}`.

Speech: complete sentences (a message ending in . ! ?, or text after one) are synthesised as they
arrive (auto_mode), the rest on flush/close;
Piper's audio is resampled to `output_format` and sent in 250 ms messages; character timings
are spread over each sentence's audio in proportion (Piper gives no alignment).

Scripted mode (`voice=SyntheticVoice()`, for load tests; see emulators/scripted.py): no Piper, no
worker thread, no resampling: each sentence's audio is sliced, at the requested rate, from
speech-like audio rendered once, as long as the text would take to say.

Faults (`emulators.faults`): connection faults at the handshake; per context: `hang` sends no
audio for it, `slow_first_byte:S` delays its first audio, `drop:N` cuts the socket after N audio
messages, `malformed` sends a non-JSON message instead of its audio.

    async with ElevenLabsEmulator() as el:
        tts = ElevenLabsTTSService(api_key="any", url=el.base_url, ...)

Standalone: `python -m emulators.elevenlabs --port 8997 [--fault SPEC ...]`.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web
from loguru import logger

from emulators.faults import Fault, FaultKind
from emulators.server import EmulatorServer, cut, run_cli
from services.local_tts import resample_pcm16

if TYPE_CHECKING:
    from emulators.scripted import SyntheticVoice

CHUNK_SECS = 0.25
OUTPUT_RATES = {"pcm_8000": 8000, "pcm_16000": 16000, "pcm_22050": 22050, "pcm_24000": 24000, "pcm_44100": 44100}
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")

# text -> (PCM16 mono bytes, sample rate); runs in a worker thread
Synthesizer = Callable[[str], "tuple[bytes, int]"]


def piper_synthesizer() -> Synthesizer:
    """The embedded Piper voice (shared per process), as a Synthesizer."""
    from services.local_models import LOCAL_MODELS
    from services.local_tts import piper_options, synthesize_pcm
    from settings import Settings

    voice = LOCAL_MODELS.piper(piper_options(Settings()))
    rate = voice.config.sample_rate

    def synthesize(text: str) -> tuple[bytes, int]:
        return synthesize_pcm(voice, text, rate), rate

    return synthesize


@dataclass
class _Context:
    id: str
    text: str = ""
    fault: Fault | None = None
    audio_messages: int = 0
    first_audio_sent: bool = False
    closed: bool = False
    spoken: list[str] = field(default_factory=list)


class ElevenLabsEmulator(EmulatorServer):
    name = "elevenlabs"

    def __init__(
        self, *, synthesizer: Synthesizer | None = None, voice: SyntheticVoice | None = None, **server: Any
    ) -> None:
        """`voice`: scripted mode (no synthesizer runs); `server`: EmulatorServer's api_key, faults, host, port."""
        super().__init__(**server)
        self._synthesizer = synthesizer
        self.voice = voice
        self.spoken: list[str] = []  # every sentence whose audio was sent in full, in order

    @property
    def base_url(self) -> str:
        """What to pass as `url` to `ElevenLabsTTSService`."""
        return self.url("ws")

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/v1/text-to-speech/{voice_id}/multi-stream-input", self._multi_stream)

    def error_response(self, fault: Fault) -> web.Response:
        status = "too_many_concurrent_requests" if fault.status == 429 else "internal_error"
        return web.json_response(
            {"detail": {"status": status, "message": f"emulated {fault.status}"}}, status=fault.status
        )

    async def _multi_stream(self, request: web.Request) -> web.StreamResponse:
        if (faulted := await self.connection_fault(request)) is not None:
            return faulted
        if self.api_key is not None and request.headers.get("xi-api-key") != self.api_key:
            return web.json_response(
                {"detail": {"status": "invalid_api_key", "message": "Invalid API key"}}, status=401
            )
        output_format = request.query.get("output_format", "mp3_44100_128")
        if output_format not in OUTPUT_RATES:
            return web.json_response(
                {"detail": {"status": "invalid_output_format", "message": f"emulator serves {sorted(OUTPUT_RATES)}"}},
                status=400,
            )
        ws = web.WebSocketResponse(heartbeat=None, max_msg_size=0)
        await ws.prepare(request)
        await _Connection(self, request, ws, OUTPUT_RATES[output_format]).serve()
        return ws

    async def warm(self) -> None:
        """Load Piper now (about a second), so the first context is not late because of it (not when scripted)."""
        if self.voice is None:
            await self._piper()

    async def _piper(self) -> Synthesizer:
        if self._synthesizer is None:
            self._synthesizer = await asyncio.to_thread(piper_synthesizer)
        return self._synthesizer

    async def synthesize(self, text: str) -> tuple[bytes, int]:
        return await asyncio.to_thread(await self._piper(), text)

    async def speech(self, text: str, rate: int) -> bytes:
        """`text` spoken at `rate`: the scripted voice inline, else the synthesizer in a thread, resampled."""
        if self.voice is not None:
            return self.voice.pcm(text, rate)
        audio, synth_rate = await self.synthesize(text)
        return resample_pcm16(audio, synth_rate, rate)


class _Connection:
    """One socket: contexts in the order they were opened, speech produced one sentence at a time."""

    def __init__(self, server: ElevenLabsEmulator, request: web.Request, ws: web.WebSocketResponse, rate: int) -> None:
        self.server, self.request, self.ws, self.rate = server, request, ws, rate
        self.contexts: dict[str, _Context] = {}
        self.work: asyncio.Queue[tuple[_Context, str | None]] = asyncio.Queue()  # (context, sentence | None = final)

    async def serve(self) -> None:
        speaker = asyncio.create_task(self._speak())
        try:
            async for msg in self.ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                try:
                    data = json.loads(msg.data)
                except ValueError:
                    await self.ws.close(code=1008, message=b"invalid JSON")
                    break
                if data.get("close_socket"):
                    for ctx in list(self.contexts.values()):
                        self._close(ctx)
                    await self.work.join()
                    await self.ws.close()
                    break
                self._message(data)
        finally:
            speaker.cancel()

    def _message(self, data: dict) -> None:
        ctx_id = str(data.get("context_id") or "default")
        ctx = self.contexts.get(ctx_id)
        if ctx is None:
            ctx = self.contexts[ctx_id] = _Context(ctx_id, fault=self.server.faults.take(on_connect=False))
            if ctx.fault is not None:
                logger.info(f"elevenlabs emulator: injecting {ctx.fault.kind.value} on context {ctx_id}")
        if ctx.closed:
            return
        ctx.text += str(data.get("text") or "")
        *sentences, ctx.text = SENTENCE_END.split(ctx.text)
        for sentence in sentences:
            self._enqueue(ctx, sentence)
        if data.get("flush") or data.get("close_context") or ctx.text.rstrip().endswith((".", "!", "?")):
            self._enqueue(ctx, ctx.text)
            ctx.text = ""
        if data.get("close_context"):
            self._close(ctx)

    def _enqueue(self, ctx: _Context, sentence: str) -> None:
        if sentence.strip():
            self.work.put_nowait((ctx, sentence.strip()))

    def _close(self, ctx: _Context) -> None:
        if not ctx.closed:
            ctx.closed = True
            self.work.put_nowait((ctx, None))

    async def _speak(self) -> None:
        while True:
            ctx, sentence = await self.work.get()
            try:
                if sentence is None:
                    if not (ctx.fault and ctx.fault.kind is FaultKind.HANG):
                        await self.ws.send_json({"isFinal": True, "contextId": ctx.id})
                else:
                    await self._send_sentence(ctx, sentence)
            except (ConnectionResetError, RuntimeError):
                return
            finally:
                self.work.task_done()

    async def _send_sentence(self, ctx: _Context, sentence: str) -> None:
        fault = ctx.fault
        if fault is not None and fault.kind is FaultKind.HANG:
            return
        audio = await self.server.speech(sentence, self.rate)
        if not ctx.first_audio_sent:
            ctx.first_audio_sent = True
            if fault is not None and fault.kind is FaultKind.SLOW_FIRST_BYTE:
                await asyncio.sleep(fault.delay_secs)
            if fault is not None and fault.kind is FaultKind.MALFORMED:
                await self.ws.send_str("<html>502 Bad Gateway</html>")
                return
        for chunk in _chunks(sentence, audio, self.rate):
            if fault is not None and fault.kind is FaultKind.DROP and ctx.audio_messages >= fault.after:
                await asyncio.sleep(0.05)
                cut(self.request)
                raise ConnectionResetError("emulated drop")
            chunk["contextId"] = ctx.id
            await self.ws.send_json(chunk)
            ctx.audio_messages += 1
        self.server.spoken.append(sentence)


def _chunks(sentence: str, audio: bytes, rate: int) -> list[dict]:
    """250 ms audio messages, each with the alignment of the characters that start inside it."""
    text = sentence + " "
    samples_per_chunk = int(rate * CHUNK_SECS)
    total_ms = len(audio) / 2 / rate * 1000
    per_char_ms = total_ms / len(text)
    messages, char = [], 0
    n_chunks = max(1, -(-len(audio) // (2 * samples_per_chunk)))
    for i in range(n_chunks):
        pcm = audio[i * 2 * samples_per_chunk : (i + 1) * 2 * samples_per_chunk]
        chunk_start_ms = i * CHUNK_SECS * 1000
        chunk_end_ms = total_ms if i == n_chunks - 1 else chunk_start_ms + CHUNK_SECS * 1000
        chars, starts = [], []
        while char < len(text) and (char * per_char_ms < chunk_end_ms or i == n_chunks - 1):
            chars.append(text[char])
            starts.append(int(char * per_char_ms - chunk_start_ms))
            char += 1
        alignment = {
            "chars": chars,
            "charStartTimesMs": starts,
            "charDurationsMs": [max(1, int(per_char_ms))] * len(chars),
        }
        messages.append({"audio": base64.b64encode(pcm).decode(), "alignment": alignment if chars else None,
                         "normalizedAlignment": alignment if chars else None, "isFinal": None})  # fmt: skip
    return messages


def main(argv: list[str] | None = None) -> None:
    run_cli(
        lambda args, plan: ElevenLabsEmulator(api_key=args.api_key, faults=plan, host=args.host, port=args.port),
        description="Local ElevenLabs multi-context TTS WebSocket emulator (Piper behind it).",
        port=8997,
        setting="ELEVENLABS_BASE_URL",
        argv=argv,
    )


if __name__ == "__main__":
    main()
