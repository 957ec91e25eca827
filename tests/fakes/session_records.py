"""Session record folders built in tests: a finished interview, an errored one, a hung-up phone call.

Why: the report must render for every way a session ends, and tests cannot wait for real
interviews. The folders have the real files' shapes (config from the bundled interview,
evaluation from the real scoring code) and a recording generated here (numpy -> wav).
"""

from __future__ import annotations

import asyncio
import json
import wave
from pathlib import Path
from typing import Any

import numpy as np

from interview.heuristic_scorer import HeuristicScorer
from interview.loader import load_interview_config
from interview.scoring import QAPair, evaluate_interview

SAMPLE_RATE = 8000
MARKUP_LINE = '<script>alert("x")</script><b>bold</b> & <img src=x onerror=alert(1)>'
# (speaker, text, phase, elapsed seconds when the turn ended)
CONVERSATION: tuple[tuple[str, str, str, float], ...] = (
    (
        "interviewer",
        "Could you tell me about yourself and the backend systems you have worked on recently?",
        "introduction",
        8.0,
    ),
    (
        "candidate",
        "I lead the ledger service; in short, we moved from nightly batches to streaming, which cut settlement "
        "time from a day to minutes.",
        "introduction",
        20.0,
    ),
    (
        "interviewer",
        "How would you design a service that accepts payments and must never charge a customer twice?",
        "system_design",
        28.0,
    ),
    (
        "candidate",
        "Every payment request gets an idempotency key that we store together with the ledger row inside a single "
        "transaction, so when the client retries it simply gets the original result back.",
        "system_design",
        44.0,
    ),
    ("interviewer", "What happens when the database fails halfway through a payment?", "system_design", 50.0),
    ("candidate", MARKUP_LINE, "system_design", 58.0),
    ("interviewer", "Tell me about a hard bug you found in production and how you fixed it.", "coding", 66.0),
    (
        "candidate",
        "First I reproduced the race condition under a load test, then bisected the commits down to a missing lock, "
        "and added a regression test so the pattern cannot come back.",
        "coding",
        84.0,
    ),
)


def write_record(directory: Path, *, kind: str = "finished") -> Path:
    """kind: finished | errored | hung_up (a Twilio call the caller ended after two answers)."""
    directory.mkdir(parents=True, exist_ok=True)
    config = load_interview_config("senior_backend_engineer")
    transport = "twilio" if kind == "hung_up" else "websocket"
    lines = CONVERSATION[:4] if kind == "hung_up" else CONVERSATION
    _json(directory / "config.json", {
        "session_id": directory.name, "persona": "interviewer", "transport": transport, "candidate_name": "Ada Lovelace",
        "providers": {"stt": "local:whisper:tiny.en", "llm": "local:structured-interviewer", "tts": "local:piper:en_US-joe-medium"},
        "interview": config.model_dump(mode="json"),
    })  # fmt: skip
    origin = 1.0
    _jsonl(directory / "transcript.jsonl", [
        {"t": "2026-01-05T10:00:00+00:00", "elapsed_s": origin + at, "speaker": who, "text": text, "phase": phase}
        for who, text, phase, at in lines
    ])  # fmt: skip
    end = origin + lines[-1][3] + 3
    events: list[dict[str, Any]] = [
        {"t": "2026-01-05T10:00:00+00:00", "elapsed_s": 0.5, "type": "session_started", "transport": transport},
        {"elapsed_s": origin, "type": "candidate_joined"},
        {"elapsed_s": origin + 20.5, "type": "phase_transition", "from": "introduction", "to": "system_design"},
        {"elapsed_s": origin + 40.0, "type": "candidate_silent", "nudge": 1, "seconds": 12},
    ]
    if kind == "hung_up":  # as bots/phone.py records every call
        events.insert(1, {"elapsed_s": 0.6, "type": "phone_call", "call_sid": "CA0001", "stream_sid": "MZ0001",
                          "interview": "senior_backend_engineer"})  # fmt: skip
    if kind != "hung_up":
        events.append({"elapsed_s": origin + 58.5, "type": "phase_transition", "from": "system_design", "to": "coding"})
    if kind == "errored":
        events.append({"elapsed_s": end - 1, "type": "error", "message": "RuntimeError: the TTS engine crashed"})
    reason = {"finished": "completed", "errored": "error", "hung_up": "candidate_left"}[kind]
    if kind == "hung_up":
        events.append({"elapsed_s": end - 0.5, "type": "candidate_left"})
    events.append({
        "elapsed_s": end, "type": "session_ended", "reason": reason, "duration_s": end,
        "cost": {"estimated_usd": 0.0, "by_stage_usd": {"llm": 0.0, "tts": 0.0, "stt": 0.0},
                 "usage": {"llm_input_tokens": 0, "llm_output_tokens": 0, "tts_characters": 812, "stt_seconds": 61.0},
                 "charged_stages": [], "prices": {}},
    })  # fmt: skip
    _jsonl(directory / "events.jsonl", events)
    _json(directory / "evaluation.json", _evaluation(config, lines, interview_seconds=end - origin))
    _json(directory / "latency.json", _latency(sum(1 for line in lines if line[0] == "candidate")))
    write_wav(directory / "recording.wav", seconds=end - origin)
    return directory


def write_wav(path: Path, *, seconds: float) -> None:
    """Stereo 16-bit: a quiet tone on each channel (candidate left, interviewer right)."""
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    left, right = 0.1 * np.sin(2 * np.pi * 220 * t), 0.1 * np.sin(2 * np.pi * 330 * t)
    pcm = (np.stack([left, right], axis=1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(pcm.tobytes())


def _evaluation(
    config: Any, lines: tuple[tuple[str, str, str, float], ...], interview_seconds: float
) -> dict[str, Any]:
    pairs = [
        QAPair(question[1], answer[1], answer[2], rubric_areas=()) for question, answer in zip(lines[::2], lines[1::2])
    ]
    return asyncio.run(
        evaluate_interview(config, pairs, HeuristicScorer(), interview_seconds=interview_seconds)
    ).to_dict()


def _latency(turns: int) -> dict[str, Any]:
    stages = {"endpointing": 1490.0, "stt": 12.0, "llm_ttfb": 3.0, "function_calls": 0.0, "text_aggregation": 0.1,
              "tts_ttfb": 22.0, "transport": 15.0, "listener": 40.0}  # fmt: skip
    return {
        "turns": [{"turn": i + 1, "status": "complete", "stages_ms": stages, "total_ms": 1582.1} for i in range(turns)],
        "stats": {"total_ms": {"n": turns, "p50": 1582.1, "p95": 1590.0}},
        "budget": {"total_ms": 1800},
        "verdict": {"worst_stage": "endpointing", "worst_stage_p95_ms": 1490.0, "worst_stage_budget_ms": 1500.0,
                    "summary": "within budget: p95 1590 ms <= 1800 ms"},
    }  # fmt: skip


def _json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")


def _jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
