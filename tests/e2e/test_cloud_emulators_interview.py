"""The cloud path end to end, offline: Deepgram, OpenAI and ElevenLabs emulators behind a real bot.

Pipecat's `DeepgramSTTService`, `OpenAILLMService` and `ElevenLabsTTSService` run unchanged
against local servers that speak their protocols (Whisper transcribes, Piper speaks); the
scripted LLM moves the interview on by tool calls (`transition_section`, `end_interview`) and
judges it at the end (the evaluator uses the same endpoint). The
second test breaks one stage per turn — Deepgram drops mid-answer, ElevenLabs drops
mid-sentence, OpenAI answers 503 — and the interview still completes, each turn answered once.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from emulators.deepgram import DeepgramEmulator
from emulators.elevenlabs import ElevenLabsEmulator
from emulators.openai import FakeOpenAIServer, FakeResponse
from scripts.simulate_candidate import run_candidate

from .conftest import read_jsonl

pytestmark = pytest.mark.e2e

GREETING = "Hello, I am Alex from Northwind Labs. Could you tell me about your recent backend work?"
DESIGN_QUESTION = "Thanks. How would you design a payment service that never charges twice?"
ANSWERS = [
    "I build payment services in Python with a database and a message queue behind them every day.",
    "Every request carries an idempotency key stored in the same transaction as the payment record.",
]


RUBRIC = ["system_design", "coding_proficiency", "communication", "technical_depth"]


def judge_reply(body: dict) -> FakeResponse:
    """Plays the evaluator: scores the requested areas, quoting the candidate's own (recognised) words."""
    transcript = body["messages"][1]["content"]
    answers = [line.split(": ", 1)[1] for line in transcript.splitlines() if "] Candidate: " in line]
    quote = " ".join(answers[0].split()[:4]) if answers else ""
    subset = re.search(r"Score only these areas: ([a-z_, ]+);", transcript)
    areas = subset.group(1).split(", ") if subset else RUBRIC
    verdict = {
        "areas": {a: {"score": 6, "evidence": [quote], "rationale": "Relevant, some depth."} for a in areas},
        "overall": {"recommendation": "maybe", "confidence": 0.5, "summary": "Mixed."},
    }
    return FakeResponse(text=json.dumps(verdict))


def interviewer_responder(body: dict) -> FakeResponse:
    """Plays the LLM: greet, move phase by tool call, ask, then end by tool call (and judges at the end)."""
    if body.get("response_format", {}).get("type") == "json_object":
        return judge_reply(body)
    messages = body["messages"]
    last = messages[-1]
    user_turns = sum(1 for m in messages if m["role"] == "user")
    if last["role"] == "tool":
        return FakeResponse(
            text=DESIGN_QUESTION
            if "system_design" in last["content"].lower() or "now in" in last["content"].lower()
            else ""
        )
    if user_turns == 0:
        return FakeResponse(text=GREETING)
    if user_turns == 1:
        return FakeResponse(tool_calls=[("transition_section", {"phase_id": "system_design", "reason": "intro done"})])
    return FakeResponse(text="Thank you.", tool_calls=[("end_interview", {"reason": "short screen complete"})])


def cloud_env(dg: DeepgramEmulator, llm: FakeOpenAIServer, el: ElevenLabsEmulator, **extra: str) -> dict[str, str]:
    return {
        "STT_PROVIDER": "cloud",
        "LLM_PROVIDER": "cloud",
        "TTS_PROVIDER": "cloud",
        "DEEPGRAM_API_KEY": "dg-test",
        "DEEPGRAM_BASE_URL": dg.base_url,
        "OPENAI_API_KEY": "sk-test",
        "OPENAI_BASE_URL": llm.base_url,
        "OPENAI_MODEL": "fake-interviewer-1",
        "ELEVENLABS_API_KEY": "el-test",
        "ELEVENLABS_BASE_URL": el.base_url,
        "FAILOVER_STT_TIMEOUT_SECS": "2",
        "FAILOVER_LLM_TIMEOUT_SECS": "2",
        "FAILOVER_TTS_TIMEOUT_SECS": "1.5",
        "FAILOVER_RECOVERY_SECS": "600",
        "FILLER_AFTER_MS": "700",
        **extra,
    }


def script(tmp_path: Path) -> Path:
    path = tmp_path / "candidate.yaml"
    path.write_text(yaml.safe_dump({"answers": ANSWERS, "default_think_pause": 0.5}))
    return path


def words(text: str) -> str:
    return " ".join(re.findall(r"[a-z']+", text.lower()))


async def run_interview(tmp_path: Path, start_bot, env: dict[str, str], *emulators: Any) -> tuple[Any, Path]:
    bot = start_bot(env=env)
    await asyncio.gather(*(e.warm() for e in emulators))  # while the bot starts
    report = await run_candidate(bot.wait_ready(), script(tmp_path), timeout=240)
    assert await asyncio.to_thread(bot.wait_exit) == 0, "\n".join(bot.output[-60:])
    assert report.completed, report.to_dict()
    (tmp_path / "bot.log").write_text("\n".join(bot.output))  # kept next to the record for a failing run
    return report, bot.record_dir()


def said_once(interviewer_lines: list[str], sentence: str) -> bool:
    return words(" ".join(interviewer_lines)).count(words(sentence)) == 1


async def test_whole_interview_on_the_three_emulators(tmp_path: Path, start_bot) -> None:
    async with (
        DeepgramEmulator(api_key="dg-test") as dg,
        ElevenLabsEmulator(api_key="el-test") as el,
        FakeOpenAIServer(responder=interviewer_responder, api_key="sk-test") as llm,
    ):
        report, record = await run_interview(tmp_path, start_bot, cloud_env(dg, llm, el), dg, el)
        requests = list(llm.requests)

    # The requests are what OpenAI's API receives: model, streaming, our tools, the tool result.
    chat_requests = [r for r in requests if not r.get("response_format")]
    assert {r["model"] for r in requests} == {"fake-interviewer-1"} and all(
        r.get("stream") is True for r in chat_requests
    )
    assert {"transition_section", "score_answer", "end_interview"} <= {
        t["function"]["name"] for t in requests[0]["tools"]
    }
    assert any("System design" in m["content"] for r in chat_requests for m in r["messages"] if m["role"] == "tool")
    assert requests[0]["messages"][0]["role"] == "system" and "Northwind Labs" in requests[0]["messages"][0]["content"]
    judge_requests = [r for r in requests if r.get("response_format")]
    assert judge_requests and all(r["temperature"] == 0.3 for r in judge_requests)
    evaluation = json.loads((record / "evaluation.json").read_text())
    assert evaluation["scorer"] == "llm" and evaluation["recommendation"] is not None

    transcript = read_jsonl(record / "transcript.jsonl")
    interviewer = [t["text"] for t in transcript if t["speaker"] == "interviewer"]
    candidate = [t["text"] for t in transcript if t["speaker"] == "candidate"]
    assert said_once(interviewer, GREETING) and said_once(interviewer, DESIGN_QUESTION)
    assert len(candidate) == 2 and dg.transcripts  # the candidate's words came from the Deepgram emulator
    assert "idempotency" in words(" ".join(candidate))
    assert any("never charges twice" in s for s in el.spoken)  # the interviewer's voice came from ElevenLabs
    events = read_jsonl(record / "events.jsonl")
    assert not [e for e in events if e["type"].startswith("failover")]
    assert [e["to"] for e in events if e["type"] == "phase_transition"] == ["system_design"]
    assert next(e for e in events if e["type"] == "session_ended")["reason"] == "completed"
    config = yaml.safe_load((record / "config.json").read_text())
    assert config["providers"]["llm"].startswith("openai-compatible:fake-interviewer-1")
    assert config["failover"]["stt"][0].startswith("deepgram") and config["failover"]["tts"][-1].startswith(
        "local:piper"
    )
    print("no-fault latencies (ms):", report.latencies_ms)


class FaultyInterviewer:
    """The scripted interviewer, with one provider fault planned per turn (see the module docstring)."""

    def __init__(self, el: ElevenLabsEmulator, *, fail_llm: bool) -> None:
        self.el = el
        self.fail_llm = fail_llm

    def __call__(self, body: dict) -> FakeResponse:
        messages = body["messages"]
        user_turns = sum(1 for m in messages if m["role"] == "user")
        is_chat = not body.get("response_format")
        if is_chat and messages[-1]["role"] == "tool":
            self.el.faults.inject("drop:2")  # the design question's audio breaks after 0.5 s
        if is_chat and self.fail_llm and user_turns == 2 and messages[-1]["role"] == "user":
            return FakeResponse(status=503, error_message="The server is overloaded (emulated).")
        return interviewer_responder(body)


async def test_a_fault_in_each_stage_and_every_turn_is_answered_once(tmp_path: Path, start_bot) -> None:
    async with DeepgramEmulator() as dg, ElevenLabsEmulator() as el:
        dg.faults.inject("drop:20")  # the socket drops 2 s into the first answer (audio goes in 100 ms writes)
        async with (
            FakeOpenAIServer(responder=FaultyInterviewer(el, fail_llm=True)) as llm,
            FakeOpenAIServer(responder=FaultyInterviewer(el, fail_llm=False)) as backup,
        ):
            env = cloud_env(dg, llm, el, OPENAI_FALLBACK_BASE_URL=backup.base_url)
            report, record = await run_interview(tmp_path, start_bot, env, dg, el)
            backup_requests = [r for r in backup.requests if not r.get("response_format")]
            backup_url = backup.base_url

    transcript = read_jsonl(record / "transcript.jsonl")
    interviewer = [t["text"] for t in transcript if t["speaker"] == "interviewer"]
    candidate = [t["text"] for t in transcript if t["speaker"] == "candidate"]
    assert said_once(interviewer, GREETING) and said_once(interviewer, DESIGN_QUESTION), interviewer
    assert len(candidate) == 2 and "idempotency" in words(" ".join(candidate)), candidate  # answer 1 re-transcribed
    assert backup_requests and backup_requests[-1]["messages"][-1]["content"] == candidate[-1]  # same context re-issued

    events = read_jsonl(record / "events.jsonl")
    switches = {e["stage"]: e for e in events if e["type"] == "failover"}
    assert set(switches) == {"stt", "llm", "tts"}, switches
    assert switches["stt"]["to_service"].startswith("local:whisper") and switches["tts"]["to_service"].startswith(
        "local:piper"
    )
    assert switches["stt"]["during_turn"] and switches["tts"]["during_turn"] and switches["llm"]["during_turn"]
    assert "drop" in [f.kind.value for f in el.faults.applied]  # the TTS fault hit the design question
    assert switches["llm"]["to_service"].startswith("openai-compatible:fake-interviewer-1@" + backup_url)
    assert {e["stage"] for e in events if e["type"] == "failover_retry"} == {"stt", "llm", "tts"}
    assert next(e for e in events if e["type"] == "session_ended")["reason"] == "completed"
    latency = yaml.safe_load((record / "latency.json").read_text())
    assert latency["incident_counts"]["failover"] == 3
    print("fault latencies (ms):", report.latencies_ms, "fillers:", latency["incident_counts"].get("filler", 0))
