"""A dropped WebSocket candidate comes back and the same interview goes on (issue #30, reconnect).

A real bot (offline engines) and a candidate speaking Piper audio in real time: the socket is
cut without a close frame after the first answer, the candidate reconnects with the session's
resume token, hears "welcome back" (never the greeting again), answers once more and ends.
One record: every line from both sides of the gap, the evaluation pairs both answers, the
recording runs the whole time. A token that is unknown (or used) is refused with a reason.
"""

from __future__ import annotations

import asyncio
import time
import wave
from pathlib import Path
from typing import Any

import pytest

from scripts.candidate_voice import default_candidate_synthesizer
from scripts.socket_candidate import RATE, Candidate

from .conftest import read_jsonl

FIRST_ANSWER = "I have built payment services for eight years, mostly the ledger and the settlement jobs."
SECOND_ANSWER = "I keep each service small and I measure it in production before I change it."

pytestmark = pytest.mark.e2e


async def _wait_for(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


def _record(sessions: Path) -> Path:
    (directory,) = [d for d in sessions.iterdir() if d.is_dir()]
    return directory


def _event_types(record: Path) -> list[str]:
    path = record / "events.jsonl"
    return [e["type"] for e in read_jsonl(path)] if path.exists() else []


async def test_a_dropped_candidate_reconnects_to_the_same_interview(tmp_path: Path, start_bot, bot_env) -> None:  # type: ignore[no-untyped-def]
    voice = default_candidate_synthesizer()
    first, second = voice.synthesize(FIRST_ANSWER, RATE), voice.synthesize(SECOND_ANSWER, RATE)
    bot = start_bot(env={"RECONNECT_GRACE_SECONDS": "60"})
    url = bot.wait_ready()
    sessions = Path(bot_env["SESSIONS_DIR"])

    before = Candidate(url)
    await before.connect()
    await before.wait_bot_turns(1, 90)  # the greeting and the first question
    await before.speak_and_wait_reply(first)
    assert before.resume_token, "the session message carried no resume token"
    record = _record(sessions)
    await _wait_for(lambda: (record / "snapshot.json").exists(), 10, "snapshot.json")
    before.drop()
    await _wait_for(lambda: "session_suspended" in _event_types(record), 30, "the session to be held")
    assert "session_ended" not in _event_types(record) and not (record / "evaluation.json").exists()
    await asyncio.sleep(1.5)  # time away: the interview clocks stand still

    after = Candidate(f"{url}?resume={before.resume_token}")
    await after.connect()
    await after.wait_bot_turns(1, 90)  # welcome back
    await after.speak_and_wait_reply(second)
    await after.end()
    assert await asyncio.to_thread(bot.wait_exit, 120) == 0, "\n".join(bot.output[-30:])

    assert _record(sessions) == record  # one record for the whole interview
    lines = read_jsonl(record / "transcript.jsonl")
    said = [line["text"] for line in lines if line["speaker"] == "interviewer"]
    answers = " ".join(line["text"] for line in lines if line["speaker"] == "candidate").lower()
    assert sum("welcome back" in text.lower() for text in said) == 1, said
    welcome = next(i for i, text in enumerate(said) if "welcome back" in text.lower())
    assert welcome >= 2 and not any("interviewing you today" in text.lower() for text in said[1:]), (
        said
    )  # no second greeting
    assert "payment services" in answers and "production" in answers, answers
    types = _event_types(record)
    for kind in ("session_suspended", "candidate_reconnected", "session_resumed"):
        assert kind in types, kind
    assert types[-1] == "session_ended"
    evaluation = (record / "evaluation.json").read_text()
    assert "payment services" in evaluation and "production" in evaluation  # pairs from both sides of the gap
    with wave.open(str(record / "recording.wav")) as wav:
        seconds = wav.getnframes() / wav.getframerate()
    ended = read_jsonl(record / "events.jsonl")[-1]["elapsed_s"]
    assert seconds > ended - 8, (seconds, ended)  # the gap is silence in the recording, not a cut


async def test_an_unknown_resume_token_is_refused_with_a_reason(start_bot) -> None:  # type: ignore[no-untyped-def]
    bot = start_bot()
    url = bot.wait_ready()
    candidate = Candidate(f"{url}?resume=not-a-token")
    await candidate.connect()
    await _wait_for(lambda: candidate.close_code is not None, 20, "the refusal")
    assert candidate.close_code == 4404 and "cannot be resumed" in (candidate.close_reason or "")
