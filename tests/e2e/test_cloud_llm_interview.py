"""The cloud LLM path: OpenAILLMService against a local OpenAI-compatible server.

Same bot process and pipeline as production; only the LLM stage is the
OpenAI-compatible client, streaming SSE from tests/fakes with a real tool call
(`transition_section`) in the middle of the conversation.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest
import yaml

from scripts.simulate_candidate import run_candidate
from emulators.openai import FakeOpenAIServer, FakeResponse

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
        return FakeResponse(text=DESIGN_QUESTION if "system_design" in last["content"].lower() or "now in" in last["content"].lower() else "")
    if user_turns == 0:
        return FakeResponse(text=GREETING)
    if user_turns == 1:
        return FakeResponse(tool_calls=[("transition_section", {"phase_id": "system_design", "reason": "intro done"})])
    return FakeResponse(text="Thank you.", tool_calls=[("end_interview", {"reason": "short screen complete"})])


async def test_openai_compatible_llm_drives_the_interview_with_tool_calls(tmp_path: Path, start_bot) -> None:
    script = tmp_path / "candidate.yaml"
    script.write_text(yaml.safe_dump({"answers": ANSWERS, "default_think_pause": 0.5}))
    async with FakeOpenAIServer(responder=interviewer_responder, api_key="sk-test") as llm_server:
        bot = start_bot(
            env={
                "LLM_PROVIDER": "cloud",
                "OPENAI_BASE_URL": llm_server.base_url,
                "OPENAI_API_KEY": "sk-test",
                "OPENAI_MODEL": "fake-interviewer-1",
            }
        )
        report = await run_candidate(bot.wait_ready(), script, timeout=240)
        assert await asyncio.to_thread(bot.wait_exit) == 0, "\n".join(bot.output[-40:])
        requests = list(llm_server.requests)

    assert report.completed, report.to_dict()
    record = bot.record_dir()

    # The requests are what OpenAI's API receives: model, streaming, our tools, the tool result.
    chat_requests = [r for r in requests if not r.get("response_format")]
    assert {r["model"] for r in requests} == {"fake-interviewer-1"}
    assert all(r.get("stream") is True for r in chat_requests)
    tool_names = {t["function"]["name"] for t in requests[0]["tools"]}
    assert {"transition_section", "score_answer", "end_interview"} <= tool_names
    tool_messages = [m for r in chat_requests for m in r["messages"] if m["role"] == "tool"]
    assert any("System design" in m["content"] for m in tool_messages)
    assert requests[0]["messages"][0]["role"] == "system" and "Northwind Labs" in requests[0]["messages"][0]["content"]

    transcript = read_jsonl(record / "transcript.jsonl")
    interviewer = [t["text"] for t in transcript if t["speaker"] == "interviewer"]
    assert GREETING in interviewer[0]
    assert any(DESIGN_QUESTION in line for line in interviewer)
    assert sum(t["speaker"] == "candidate" for t in transcript) >= 2

    events = read_jsonl(record / "events.jsonl")
    assert [e["to"] for e in events if e["type"] == "phase_transition"] == ["system_design"]
    assert next(e for e in events if e["type"] == "session_ended")["reason"] == "completed"
    config = yaml.safe_load((record / "config.json").read_text())
    assert config["providers"]["llm"].startswith("openai-compatible:fake-interviewer-1")

    # The evaluator used the same OpenAI-compatible server as its judge (temperature 0.3, JSON mode).
    judge_requests = [r for r in requests if r.get("response_format")]
    assert judge_requests and all(r["temperature"] == 0.3 for r in judge_requests)
    evaluation = json.loads((record / "evaluation.json").read_text())
    assert evaluation["scorer"] == "llm" and evaluation["recommendation"] is not None
