"""A bot killed mid-interview is replaced by the launcher and the interview goes on (issue #30, step 3).

The launcher in-process, its real `bot.py` children (offline engines), a candidate speaking
Piper audio in real time over the session's `ws_url`. After the first answer the bot is
SIGKILLed; the launcher starts `bot.py --resume <record>` on the session's own socket (same
URL), the candidate comes back with its last resume token, hears "welcome back" (never the
greeting again), answers the second question and the interview completes: one record, both
answers in the evaluation, report.html. And a bot that keeps dying runs out of attempts: its
record is finished as it stood with end reason `bot_crashed`, and the session says so.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from launcher.app import create_app
from scripts.candidate_voice import default_candidate_synthesizer
from scripts.socket_candidate import RATE, Candidate
from settings import Settings

from .conftest import one_question_interview, read_jsonl

pytestmark = pytest.mark.e2e

AUTH = {"Authorization": "Bearer e2e-key"}
FIRST_ANSWER = "I have built payment services for eight years, mostly the ledger and the settlement jobs."
SECOND_ANSWER = "I keep each service small and I measure it in production before I change it."


def two_question_interview() -> dict[str, Any]:
    """One phase, two questions, no follow-ups: greeting + first question, answer, second, answer, goodbye."""
    config = one_question_interview("crash_screen")
    second = config["phases"][0]["questions"][0] | {"text": "How do you keep a service simple?"}
    config["phases"][0]["questions"].append(second)
    return config


async def _until(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)
    return value


def _assistant_turns(record: Path) -> int:
    try:
        messages = json.loads((record / "snapshot.json").read_text())["messages"]
    except (OSError, ValueError, KeyError):
        return 0
    return sum(1 for m in messages if m.get("role") == "assistant")


@asynccontextmanager
async def _launcher(tmp_path: Path, bot_env: dict[str, str], **overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
    values: dict[str, Any] = {"launcher_api_key": "e2e-key", "sessions_dir": tmp_path / "sessions"}
    settings = Settings(_env_file=None, launcher_grace_seconds=10, **values, **overrides)  # type: ignore[call-arg]
    app = create_app(settings, child_env={**bot_env, "RECONNECT_GRACE_SECONDS": "60"})
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://launcher") as client,
    ):
        yield client


async def _state(client: httpx.AsyncClient, session_id: str) -> dict[str, Any]:
    return (await client.get(f"/sessions/{session_id}", headers=AUTH)).json()


async def _wait_state(client: httpx.AsyncClient, session_id: str, states: tuple[str, ...], timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while (state := await _state(client, session_id))["state"] not in states:
        assert time.monotonic() < deadline, f"state {state['state']}, not {states}:\n" + _log(state)
        await asyncio.sleep(0.1)
    return state


def _log(state: dict[str, Any]) -> str:
    return Path(state["log"]).read_text(errors="replace")[-4000:]


async def _start_interview(client: httpx.AsyncClient, *, answer: bool = True) -> tuple[dict[str, Any], Candidate, Path]:
    """A session running, its candidate past the first answer and the snapshot after the second question (or,
    without `answer`, the snapshot after the greeting)."""
    created = await client.post(
        "/sessions", json={"transport": "websocket", "interview": two_question_interview()}, headers=AUTH
    )
    assert created.status_code == 201, created.text
    state = await _wait_state(client, created.json()["id"], ("running",), 120)
    candidate = Candidate(state["ws_url"])
    await candidate.connect()
    await candidate.wait_bot_turns(1, 90)  # the greeting and the first question
    if answer:
        await candidate.speak_and_wait_reply(default_candidate_synthesizer().synthesize(FIRST_ANSWER, RATE))
    record = Path((await _state(client, state["id"]))["record"])  # known from "Session record opened"
    await _until(lambda: _assistant_turns(record) >= 1 + answer, 20, "the snapshot after the interviewer's turn")
    assert candidate.resume_token
    return state, candidate, record


async def _kill_bot(client: httpx.AsyncClient, state: dict[str, Any]) -> dict[str, Any]:
    """SIGKILL the session's current bot; the state once the launcher has started its replacement."""
    pid = (await _state(client, state["id"]))["pid"]
    os.kill(pid, signal.SIGKILL)
    return await _until_replaced(client, state["id"], pid)


async def _until_replaced(client: httpx.AsyncClient, session_id: str, pid: int) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while (state := await _state(client, session_id))["pid"] == pid and state["state"] != "failed":
        assert time.monotonic() < deadline, "no replacement was started:\n" + _log(state)
        await asyncio.sleep(0.05)
    return state


async def test_a_killed_bot_is_replaced_and_the_interview_completes(tmp_path: Path, bot_env: dict[str, str]) -> None:
    async with _launcher(tmp_path, bot_env, launcher_restart_attempts=2) as client:
        state, before, record = await _start_interview(client)
        replaced = await _kill_bot(client, state)
        assert replaced["restarts"] == 1 and replaced["crashes"] == ["killed_by_signal_9"], replaced
        assert replaced["state"] in ("restarting", "running")

        # The same URL: the launcher kept the socket, so the connection waits for the replacement.
        after = Candidate(f"{state['ws_url']}&resume={before.resume_token}")
        await after.connect(open_timeout=90)
        await after.wait_bot_turns(1, 90)  # welcome back, and the open question again
        await after.speak_and_wait_reply(default_candidate_synthesizer().synthesize(SECOND_ANSWER, RATE), 90)
        final = await _wait_state(client, state["id"], ("ended", "failed"), 120)
        assert final["state"] == "ended" and final["exit_reason"] == "completed", final
        assert final["ws_url"] == state["ws_url"] and final["record"] == str(record) and final["restarts"] == 1

    assert [d.name for d in record.parent.iterdir() if d.is_dir() and d.name != "launcher"] == [record.name]
    lines = read_jsonl(record / "transcript.jsonl")
    said = [line["text"] for line in lines if line["speaker"] == "interviewer"]
    answers = " ".join(line["text"] for line in lines if line["speaker"] == "candidate").lower()
    assert sum("interviewing you today" in text.lower() for text in said) == 1, said  # no second greeting
    assert sum("welcome back" in text.lower() for text in said) == 1, said
    assert "payment services" in answers and "production" in answers, answers
    types = [e["type"] for e in read_jsonl(record / "events.jsonl")]
    assert "candidate_reconnected" in types and types[-1] == "session_ended", types
    assert read_jsonl(record / "events.jsonl")[-1]["reason"] == "completed"
    evaluation = (record / "evaluation.json").read_text()
    assert "payment services" in evaluation and "production" in evaluation  # both sides of the crash
    assert (record / "report.html").stat().st_size > 0 and (record / "latency.json").exists()


async def test_a_bot_that_keeps_dying_runs_out_of_attempts_and_its_record_is_closed(
    tmp_path: Path, bot_env: dict[str, str]
) -> None:
    async with _launcher(tmp_path, bot_env, launcher_restart_attempts=1, launcher_warm_pool=0) as client:
        state, candidate, record = await _start_interview(client, answer=False)
        replaced = await _kill_bot(client, state)
        await _wait_state(client, state["id"], ("running",), 120)  # the replacement is up...
        os.kill(replaced["pid"], signal.SIGKILL)  # ...and dies too: no attempts left
        final = await _wait_state(client, state["id"], ("ended", "failed"), 120)
        candidate.drop()

    assert final["state"] == "failed" and final["exit_reason"] == "bot_crashed", final
    assert final["restarts"] == 1 and final["crashes"] == ["killed_by_signal_9"] * 2
    events = read_jsonl(record / "events.jsonl")
    assert "bot_replacements_exhausted" in [e["type"] for e in events]
    assert events[-1]["type"] == "session_ended" and events[-1]["reason"] == "bot_crashed"
    assert (record / "evaluation.json").exists() and (record / "report.html").exists()
    transcript = read_jsonl(record / "transcript.jsonl")
    assert "interviewing you today" in transcript[0]["text"]  # everything said before the crashes stays
