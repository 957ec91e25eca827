"""The zero-cost (scripted) emulators: Pipecat's real services and the openai SDK connect unchanged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from openai import AsyncOpenAI
from pipecat.frames.frames import (
    TranscriptionFrame,
    TTSSpeakFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.tests.utils import SleepFrame, run_test

from emulators.deepgram import DeepgramEmulator
from emulators.elevenlabs import ElevenLabsEmulator
from emulators.openai import FakeOpenAIServer
from emulators.scripted import CLOSING, ScriptedInterviewer, ScriptedLine, SyntheticVoice, load_lines, load_script
from interview.loader import load_interview_config
from interview.scoring import QAPair
from services.scorers import LLMScorer

from .helpers import audio_frames, audio_secs, of_type, tone
from .test_emulator_protocols import deepgram_stt, elevenlabs_tts

LINES = ["I build payment services in Python.", "Every request carries an idempotency key."]


def utterance(seconds: float) -> list:
    return [
        VADUserStartedSpeakingFrame(),
        *audio_frames(tone(seconds)),
        SleepFrame(0.05),
        VADUserStoppedSpeakingFrame(),
    ]


def quiet(seconds: float) -> list:
    return [*audio_frames(bytes(int(seconds * 16000) * 2)), SleepFrame(0.3)]


async def test_deepgram_answers_each_answer_with_its_line_split_where_the_bot_finalized() -> None:
    frames = [
        *utterance(0.4),
        *quiet(0.3),  # a short pause inside the first answer: finalized, but the same answer
        *utterance(0.4),
        *quiet(1.5),  # the interviewer's turn: the next loud audio is the second answer
        *utterance(0.5),
        *quiet(0.3),
    ]
    script = [ScriptedLine(LINES[0], loud_secs=0.8), ScriptedLine(LINES[1], loud_secs=0.5)]
    async with DeepgramEmulator(script=script) as dg:
        await dg.warm()  # scripted: loads nothing
        down, _ = await run_test(deepgram_stt(dg), frames_to_send=frames)
    # Half the first answer's audio, then the rest: every finalized pause gets words, the line completes.
    assert [t.text for t in of_type(down, TranscriptionFrame)] == ["I build payment", "services in Python.", LINES[1]]
    assert dg._transcriber is None


def test_words_follow_the_loud_audio_heard_and_the_text_when_no_length_is_given() -> None:
    line = ScriptedLine("one two three four five six seven eight nine ten")  # 49 characters: ~2.9 s estimated
    assert [line.words_heard(s) for s in (0.0, 1.0, 2.0, 2.8)] == [0, 3, 7, 10]


async def test_elevenlabs_scripted_voice_is_as_long_as_the_text_and_loads_no_model() -> None:
    text = "Thanks. How would you design a payment service that never charges twice?"
    async with ElevenLabsEmulator(voice=SyntheticVoice()) as el:
        await el.warm()
        down, _ = await run_test(elevenlabs_tts(el), frames_to_send=[TTSSpeakFrame(text), SleepFrame(0.8)])
    assert el._synthesizer is None
    assert abs(audio_secs(down) - SyntheticVoice().seconds(text)) < 0.3
    assert el.spoken == ["Thanks.", "How would you design a payment service that never charges twice?"]


async def test_scripted_interviewer_greets_asks_and_ends_by_tool_call_over_the_sdk() -> None:
    replies = ["Hello, tell me about your work.", "How would you design it?"]
    tools: list[Any] = [{"type": "function", "function": {"name": "end_interview", "parameters": {"type": "object"}}}]
    async with FakeOpenAIServer(responder=ScriptedInterviewer(replies)) as server:
        client = AsyncOpenAI(api_key="sk-test", base_url=server.base_url)
        messages: list = [{"role": "system", "content": "You interview."}]
        said = []
        for answer in ["", *LINES]:
            if answer:
                messages.append({"role": "user", "content": answer})
            stream: Any = await client.chat.completions.create(model="m", messages=messages, tools=tools, stream=True)
            text, calls = "", []
            async for chunk in stream:
                delta = chunk.choices[0].delta if chunk.choices else None
                text += (delta.content or "") if delta else ""
                calls += (
                    [c.function.name for c in (delta.tool_calls or []) if c.function and c.function.name]
                    if delta
                    else []
                )
            said.append((text, calls))
            messages.append({"role": "assistant", "content": text})
        await client.close()
    assert said == [(replies[0], []), (replies[1], []), (CLOSING, ["end_interview"])]


async def test_scripted_judge_reply_passes_the_real_evaluator() -> None:
    config = load_interview_config("senior_backend_engineer")
    pairs = [QAPair("Tell me about your work.", LINES[0], "introduction", 1.0, 5.0, ("communication",))]
    async with FakeOpenAIServer(responder=ScriptedInterviewer()) as server:
        scorer = LLMScorer(model="judge", api_key="k", base_url=server.base_url, http_retries=0)
        run = await scorer.evaluate(config, pairs)
        subset = await scorer.evaluate(config, pairs, areas=["communication"])
        await scorer.aclose()
    assert set(run.areas) == set(config.rubric_area_ids) and set(subset.areas) == {"communication"}
    assert all(j.score is not None for j in run.areas.values())


@pytest.mark.parametrize("suffix", [".yaml", ".txt"])
def test_script_lines_load_from_a_candidate_script_or_text(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"lines{suffix}"
    answers = [LINES[0], {"text": LINES[1], "loud_secs": 2.5}]
    path.write_text(json.dumps({"answers": answers}) if suffix == ".yaml" else "\n".join(LINES))
    assert load_lines(path) == LINES
    assert load_script(path)[1].loud_secs == (2.5 if suffix == ".yaml" else None)
