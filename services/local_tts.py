"""Embedded Pipecat TTS on espeak-ng: no network, no keys, first audio in a few ms.

espeak-ng synthesizes hundreds of times faster than real time, so the service
streams: the synthesis runs in a worker thread (never on the event loop, so other
sessions keep flowing) and each chunk is yielded as a ``TTSAudioRawFrame`` at the
pipeline's output rate (24 kHz WebSocket, 8 kHz telephony, ...) as soon as it exists.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field

from pipecat.frames.frames import ErrorFrame, Frame, TTSAudioRawFrame
from pipecat.services.settings import TTSSettings
from pipecat.services.tts_service import TTSService
from pipecat.transcriptions.language import Language
from pipecat.utils.types import NOT_GIVEN, NotGiven

from services.espeak import EspeakSynthesizer


@dataclass
class EspeakTTSSettings(TTSSettings):
    """Runtime-updatable settings (``TTSUpdateSettingsFrame``): voice and speaking rate."""

    words_per_minute: int | NotGiven = field(default_factory=lambda: NOT_GIVEN)


class EspeakTTSService(TTSService):
    """Pipecat ``TTSService`` speaking through in-process espeak-ng."""

    Settings = EspeakTTSSettings
    _settings: EspeakTTSSettings

    def __init__(
        self,
        voice: str = "en-us+klatt4",
        words_per_minute: int = 150,
        *,
        chunk_ms: int = 40,
        settings: EspeakTTSSettings | None = None,
        **kwargs,
    ) -> None:
        """Args: espeak voice (``lang[+variant]``), rate, size of each audio frame pushed."""
        store = EspeakTTSSettings(
            model=None, voice=voice, language=Language.EN, words_per_minute=words_per_minute
        )
        if settings is not None:
            store.apply_update(settings)
        super().__init__(push_start_frame=True, push_stop_frames=True, settings=store, **kwargs)
        self._chunk_ms = chunk_ms
        self._synth = self._synthesizer()  # fails fast on an unknown voice

    def can_generate_metrics(self) -> bool:
        return True

    def _synthesizer(self) -> EspeakSynthesizer:
        voice, wpm = str(self._settings.voice), int(self._settings.words_per_minute)  # type: ignore[arg-type]
        current = getattr(self, "_synth", None)
        if current is not None and (current.voice, current.words_per_minute) == (voice, wpm):
            return current
        return EspeakSynthesizer(voice, wpm)

    async def run_tts(self, text: str, context_id: str) -> AsyncGenerator[Frame | None, None]:
        """Yield audio chunks while espeak produces the rest in a worker thread."""
        try:
            self._synth = self._synthesizer()
        except ValueError as exc:
            yield ErrorFrame(error=f"{self}: {exc}")
            return
        await self.start_tts_usage_metrics(text)

        loop = asyncio.get_running_loop()
        chunks: asyncio.Queue[bytes | BaseException | None] = asyncio.Queue()
        stop = threading.Event()
        synth, rate = self._synth, self.sample_rate

        def put(item: bytes | BaseException | None) -> bool:
            try:
                loop.call_soon_threadsafe(chunks.put_nowait, item)
                return not stop.is_set()
            except RuntimeError:  # event loop closed under us: stop synthesizing
                return False

        def work() -> None:
            try:
                synth.stream(text, rate, put, chunk_ms=self._chunk_ms)
            except Exception as exc:  # surfaced as an ErrorFrame below
                put(exc)
            finally:
                put(None)

        worker = loop.run_in_executor(None, work)
        try:
            while (item := await chunks.get()) is not None:
                if isinstance(item, BaseException):
                    yield ErrorFrame(error=f"{self}: espeak synthesis failed: {item}")
                    continue
                await self.stop_ttfb_metrics()
                yield TTSAudioRawFrame(audio=item, sample_rate=rate, num_channels=1, context_id=context_id)
            await worker
        finally:
            stop.set()  # interrupted: espeak aborts at its next callback (<= 20 ms)
            await self.stop_ttfb_metrics()
