"""Smoke test: the simulated candidate speaks Pipecat's real WebSocket protocol.

Why: the client re-implements the browser side of ProtobufFrameSerializer; this runs it against
a real FastAPIWebsocketTransport (uvicorn, real socket) with a toy "bot" that greets, answers
each utterance with a tone after a short silence, and ends the session after two replies. No
STT/LLM/TTS: only the wire protocol, turn taking, latency bookkeeping and recordings are checked.
"""

from __future__ import annotations

import asyncio
import json
import socket
import wave
from pathlib import Path

import numpy as np
import pytest
import uvicorn
from fastapi import FastAPI, WebSocket
from pipecat.frames.frames import (
    EndWorkerFrame,
    Frame,
    InputAudioRawFrame,
    InputTransportMessageFrame,
    TTSAudioRawFrame,
    TTSStartedFrame,
    TTSStoppedFrame,
)
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.worker import PipelineParams, PipelineWorker
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.serializers.protobuf import ProtobufFrameSerializer
from pipecat.transports.websocket.fastapi import FastAPIWebsocketParams, FastAPIWebsocketTransport
from pipecat.workers.runner import WorkerRunner

from latency.playback_marks import parse_playback_mark
from scripts.candidate_script import parse_candidate_script
from scripts.simulate_candidate import CandidateConnectionError, run_candidate

BOT_RATE = 24000
TONE_SECONDS = 0.8


def tone(seconds: float, rate: int, freq: float = 440.0) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    return (np.sin(2 * np.pi * freq * t) * 8000).astype("<i2").tobytes()


class ToneSynthesizer:
    """Stands in for the candidate voice: one second-ish of tone per utterance."""

    def synthesize(self, text: str, sample_rate: int) -> bytes:
        return tone(0.6, sample_rate, 300.0)


class ToyBot(FrameProcessor):
    """Energy-VAD echo bot: speaks a tone 0.4 s after the user stops; ends after two replies."""

    def __init__(self, reply_after: float = 0.4, replies: int = 2) -> None:
        super().__init__()
        self._reply_after = reply_after
        self._max_replies = replies
        self.messages: list[dict] = []
        self.speech_chunks = 0
        self.rates: set[tuple[int, int]] = set()
        self._speaking = False
        self._silent_chunks = 0
        self._replies = 0
        self._utterance = 0

    async def say(self) -> None:
        """Speak like a TTS service does, so the transport reports bot started/stopped speaking."""
        self._utterance += 1
        ctx = f"utterance-{self._utterance}"
        audio = tone(TONE_SECONDS, BOT_RATE)
        step = BOT_RATE * 2 // 25  # 40 ms
        await self.push_frame(TTSStartedFrame(context_id=ctx))
        for i in range(0, len(audio), step):
            await self.push_frame(TTSAudioRawFrame(audio[i : i + step], BOT_RATE, 1, context_id=ctx))
        await self.push_frame(TTSStoppedFrame(context_id=ctx))

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, InputTransportMessageFrame):
            self.messages.append(frame.message)
        if not isinstance(frame, InputAudioRawFrame):
            await self.push_frame(frame, direction)
            return
        self.rates.add((frame.sample_rate, frame.num_channels))
        loud = np.abs(np.frombuffer(frame.audio, dtype="<i2")).max(initial=0) > 1000
        if loud:
            self.speech_chunks += 1
            self._speaking, self._silent_chunks = True, 0
        elif self._speaking:
            self._silent_chunks += 1
            if self._silent_chunks * 0.02 >= self._reply_after:
                self._speaking = False
                self._replies += 1
                await self.say()
                if self._replies >= self._max_replies:  # the worker turns this into an EndFrame from the source
                    await self.push_frame(EndWorkerFrame(), FrameDirection.UPSTREAM)


@pytest.fixture
async def toy_bot_server():
    """A uvicorn server on an ephemeral port with one Pipecat session per WebSocket."""
    bots: list[ToyBot] = []
    app = FastAPI()

    @app.websocket("/ws")
    async def ws_endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        transport = FastAPIWebsocketTransport(
            websocket,
            FastAPIWebsocketParams(audio_in_enabled=True, audio_out_enabled=True, serializer=ProtobufFrameSerializer()),
        )
        bot = ToyBot()
        bots.append(bot)
        worker = PipelineWorker(
            Pipeline([transport.input(), bot, transport.output()]),
            params=PipelineParams(audio_in_sample_rate=16000, audio_out_sample_rate=BOT_RATE),
        )

        @transport.event_handler("on_client_connected")
        async def greet(_transport, _ws) -> None:
            await bot.say()

        @transport.event_handler("on_client_disconnected")
        async def hang_up(_transport, _ws) -> None:
            await worker.cancel()

        runner = WorkerRunner(handle_sigint=False)
        await runner.add_workers(worker)
        await runner.run()

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", ws="websockets-sansio"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:  # noqa: ASYNC110 - polls state that has no event to await
        await asyncio.sleep(0.01)
    yield f"ws://127.0.0.1:{port}/ws", bots
    server.should_exit = True
    await asyncio.wait_for(task, 10)


async def test_candidate_holds_a_conversation_over_the_real_protocol(toy_bot_server, tmp_path: Path) -> None:
    url, bots = toy_bot_server
    script = parse_candidate_script(
        {"answers": ["First answer.", {"think_pause": 0.1, "segments": [{"say": "A"}, {"pause": 0.2}, {"say": "B"}]}]}
    )
    seen = []
    report = await run_candidate(
        url, script, synthesizer=ToneSynthesizer(), end_of_turn_silence=0.5, timeout=30,
        record_dir=tmp_path, json_report=tmp_path / "report.json", on_turn=seen.append,
    )  # fmt: skip

    assert report.error is None and report.completed, report
    assert report.close_code == 1000
    assert [t.answer_text for t in report.turns] == ["First answer.", "A B"]
    assert seen == report.turns
    for turn in report.turns:
        # bot answers 0.4 s after our speech ends (+ 20 ms chunking, scheduling)
        assert turn.latency_ms is not None and 350 <= turn.latency_ms <= 1500, turn
        assert not turn.overlapped
    assert report.heard_speech_seconds == pytest.approx(3 * TONE_SECONDS, abs=0.05)
    # pipecat pads the end of a session with audio_out_end_silence_secs (2 s) of silence
    assert report.heard_seconds == pytest.approx(3 * TONE_SECONDS + 2.0, abs=0.05)

    bot = bots[0]
    assert bot.rates == {(16000, 1)}
    assert bot.speech_chunks >= 80  # three 0.6 s tones = 90 chunks of 20 ms
    playback = [p for p in (parse_playback_mark(m) for m in bot.messages) if p]
    # greeting and first reply; the last one may race the session's end
    assert [m["turn"] for m in playback][:2] == [0, 1]
    assert all(isinstance(m["client_time"], float) for m in playback)

    with wave.open(str(tmp_path / "conversation.wav")) as wav:
        assert (wav.getnchannels(), wav.getframerate()) == (2, BOT_RATE)
        stereo = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").reshape(-1, 2)
    assert np.abs(stereo[:, 0]).max() > 1000 and np.abs(stereo[:, 1]).max() > 1000
    # the candidate never talks over the interviewer in this scenario
    both = (np.abs(stereo[:, 0]) > 1000) & (np.abs(stereo[:, 1]) > 1000)
    assert both.mean() < 0.01
    assert json.loads((tmp_path / "report.json").read_text())["latency"]["count"] == 2
    assert report.rtvi_events.get("bot-started-speaking", 0) >= 3  # RTVI is on by default


async def test_refused_connection_is_a_one_line_error() -> None:
    script = parse_candidate_script({"answers": ["Hello."]})
    with pytest.raises(CandidateConnectionError, match="connection refused") as info:
        await run_candidate("ws://127.0.0.1:1/ws", script, synthesizer=ToneSynthesizer(), timeout=5)
    assert "\n" not in str(info.value)


async def test_bad_url_is_a_one_line_error() -> None:
    script = parse_candidate_script({"answers": ["Hello."]})
    with pytest.raises(CandidateConnectionError, match="not a WebSocket URL"):
        await run_candidate("http://127.0.0.1:1/ws", script, synthesizer=ToneSynthesizer(), timeout=5)
