"""Pipecat's own Deepgram and ElevenLabs services against the emulators (the wire protocols)."""

from __future__ import annotations

import aiohttp
import pytest
from pipecat.frames.frames import (
    LLMFullResponseEndFrame,
    LLMFullResponseStartFrame,
    LLMTextFrame,
    TranscriptionFrame,
    TTSAudioRawFrame,
    TTSSpeakFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.services.deepgram.stt import DeepgramSTTService
from pipecat.services.elevenlabs.tts import ElevenLabsTTSService
from pipecat.tests.utils import SleepFrame, run_test

from emulators.deepgram import DeepgramEmulator
from emulators.elevenlabs import ElevenLabsEmulator
from emulators.faults import Fault, FaultKind, FaultPlan

from .helpers import audio_frames, audio_secs, fixed_transcriber, of_type, silent_synthesizer, spoken_words, tone


def deepgram_stt(server: DeepgramEmulator) -> DeepgramSTTService:
    return DeepgramSTTService(
        api_key="dg-test",
        base_url=server.base_url,
        sample_rate=16000,
        settings=DeepgramSTTService.Settings(model="nova-3", language="en-US", interim_results=True, smart_format=True),
    )


def elevenlabs_tts(server: ElevenLabsEmulator) -> ElevenLabsTTSService:
    return ElevenLabsTTSService(
        api_key="el-test",
        url=server.base_url,
        sample_rate=24000,
        settings=ElevenLabsTTSService.Settings(voice="v1", model="eleven_flash_v2_5"),
    )


def answer(pcm: bytes) -> list:
    return [
        VADUserStartedSpeakingFrame(),
        *audio_frames(pcm),
        SleepFrame(0.05),
        VADUserStoppedSpeakingFrame(),
        SleepFrame(0.6),
    ]


async def test_deepgram_service_gets_final_transcripts_from_the_emulator() -> None:
    async with DeepgramEmulator(api_key="dg-test", transcriber=fixed_transcriber("I use Kafka every day.")) as dg:
        down, _ = await run_test(deepgram_stt(dg), frames_to_send=answer(tone(0.6)))
    transcripts = of_type(down, TranscriptionFrame)
    assert [t.text for t in transcripts] == ["I use Kafka every day."]
    query = dg.queries[0]
    assert query["model"] == "nova-3" and query["encoding"] == "linear16" and query["sample_rate"] == "16000"
    assert transcripts[0].result.is_final and transcripts[0].result.speech_final and transcripts[0].result.from_finalize


async def test_deepgram_emulator_rejects_a_wrong_key_and_bad_params() -> None:
    async with DeepgramEmulator(api_key="right") as dg, aiohttp.ClientSession() as http:
        async with http.get(dg.url() + "/v1/listen", headers={"Authorization": "Token wrong"}) as r:
            assert r.status == 401
        async with http.get(dg.url() + "/v1/listen?encoding=opus", headers={"Authorization": "Token right"}) as r:
            assert r.status == 400 and "linear16" in (await r.json())["err_msg"]


@pytest.mark.parametrize("spec,status", [("http_error:503", 503), ("http_error:429", 429)])
async def test_connection_faults_answer_with_the_status(spec: str, status: int) -> None:
    async with DeepgramEmulator(faults=FaultPlan(*Fault.parse(spec))) as dg, aiohttp.ClientSession() as http:
        async with http.get(dg.url() + "/v1/listen") as r:
            assert r.status == status and "err_code" in await r.json()


async def test_refuse_cuts_the_connection() -> None:
    # aiohttp retries an idempotent request once on a dropped connection: refuse both attempts.
    async with ElevenLabsEmulator(faults=FaultPlan(*Fault.parse("refuse*2"))) as el, aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.ClientError):
            async with http.get(el.url() + "/v1/text-to-speech/v/multi-stream-input"):
                pass


async def test_elevenlabs_service_speaks_through_the_emulator_with_word_timestamps() -> None:
    async with ElevenLabsEmulator(api_key="el-test", synthesizer=silent_synthesizer()) as el:
        frames = [
            LLMFullResponseStartFrame(),
            LLMTextFrame("Thanks for that. "),
            LLMTextFrame("How would you shard the orders table?"),
            LLMFullResponseEndFrame(),
            SleepFrame(2.5),
        ]
        down, _ = await run_test(elevenlabs_tts(el), frames_to_send=frames)
    assert audio_secs(down) > 0.3
    assert spoken_words(down).split() == [
        "Thanks",
        "for",
        "that.",
        "How",
        "would",
        "you",
        "shard",
        "the",
        "orders",
        "table?",
    ]
    assert el.spoken == ["Thanks for that.", "How would you shard the orders table?"]


def test_fault_specs_parse_and_bad_ones_name_the_problem() -> None:
    assert Fault.parse("drop:3*2") == [Fault(FaultKind.DROP, after=3)] * 2
    assert Fault.parse("slow_first_byte:1.5")[0].delay_secs == 1.5
    with pytest.raises(ValueError, match="unknown fault 'explode'"):
        Fault.parse("explode")
    with pytest.raises(ValueError, match="takes no value"):
        Fault.parse("hang:3")


async def test_tts_speak_frame_is_spoken() -> None:
    async with ElevenLabsEmulator(synthesizer=silent_synthesizer()) as el:
        down, _ = await run_test(
            elevenlabs_tts(el), frames_to_send=[TTSSpeakFrame("Welcome to the interview."), SleepFrame(1.5)]
        )
    assert of_type(down, TTSAudioRawFrame) and "interview." in spoken_words(down)
