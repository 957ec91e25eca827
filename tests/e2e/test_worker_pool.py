"""`bot.py --transport websocket --workers 2`: one port, two worker processes (issue #32, item 4).

A real pool with the offline engines. Two candidates connect to the one port and land on
different workers; /health lists both with one session each. A worker killed with SIGKILL
(no chance to write anything) must not lose its session silently: the primary closes that
record with `session_ended` reason `error` and starts a replacement. SIGTERM then ends the
surviving session with its goodbye and the whole pool exits 15 (stopped).
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import websockets

from .conftest import RECORD, one_question_interview, read_jsonl, write_yaml

pytestmark = pytest.mark.e2e


async def _until(check: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll `check` (sync or async) until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.2)


async def _health(base: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http, http.get(f"{base}/health", timeout=aiohttp.ClientTimeout(5)) as r:
        assert r.status == 200
        return dict(await r.json())


async def _workers_where(base: str, accept: Callable[[list[dict[str, Any]]], bool]) -> list[dict[str, Any]]:
    async def check() -> list[dict[str, Any]] | None:
        workers = list((await _health(base))["workers"])
        return workers if accept(workers) else None

    return list(await _until(check, 30, "the pool's /health"))


def _records(output: list[str]) -> list[str]:
    """The `Session record:` lines so far (the primary prints one for each record it closes)."""
    return [match.group(1) for line in output if (match := RECORD.search(line))]


async def _drain(ws: Any) -> None:
    """Read everything (an unread socket stops answering pings) until the server closes it."""
    try:
        async for _ in ws:
            pass
    except websockets.ConnectionClosed:
        pass


async def test_two_workers_share_the_port_and_a_killed_worker_is_replaced(tmp_path: Path, start_bot) -> None:  # type: ignore[no-untyped-def]
    config = write_yaml(tmp_path / "interview.yaml", one_question_interview("worker_pool"))
    bot = start_bot("--config", str(config), "--workers", "2", once=False)
    url = bot.wait_ready(90)
    base = url.replace("ws://", "http://").removesuffix("/ws")
    assert "(2 worker processes)" in "\n".join(bot.output)

    first = await websockets.connect(url)
    readers = [asyncio.create_task(_drain(first))]
    await _workers_where(base, lambda ws: sum(w["active_sessions"] for w in ws) == 1)
    second = await websockets.connect(url)
    readers.append(asyncio.create_task(_drain(second)))
    workers = await _workers_where(base, lambda ws: [w["active_sessions"] for w in ws] == [1, 1])
    assert len(workers) == 2 and all(w["ready"] for w in workers)

    victim = int(workers[0]["pid"])
    os.kill(victim, signal.SIGKILL)
    dropped, _ = await asyncio.wait(readers, timeout=15, return_when=asyncio.FIRST_COMPLETED)
    assert len(dropped) == 1, "the killed worker's candidate socket stayed open"
    record = Path((await _until(lambda: _records(bot.output), 15, "the closed record"))[0])
    events = read_jsonl(record / "events.jsonl")
    assert events[-1] == {"t": events[-1]["t"], "type": "session_ended", "reason": "error"}, events[-3:]
    assert any(e["type"] == "error" and str(victim) in e["message"] for e in events)

    replaced = await _workers_where(
        base, lambda ws: len(ws) == 2 and all(w["ready"] for w in ws) and victim not in [w["pid"] for w in ws]
    )
    assert sorted(w["worker"] for w in replaced) == [0, 1] and [w["active_sessions"] for w in replaced] == [0, 1]

    bot.process.send_signal(signal.SIGTERM)
    code = await asyncio.to_thread(bot.wait_exit, 30)
    await asyncio.wait_for(asyncio.gather(*readers), 10)
    assert code == 15, "\n".join(bot.output[-30:])
    records = _records(bot.output)
    assert len(records) == 2 and records[0] == str(record), bot.output[-30:]
    assert read_jsonl(Path(records[1]) / "events.jsonl")[-1]["reason"] == "stopped"
    assert not any("Traceback" in line for line in bot.output), "\n".join(bot.output)


async def test_phone_pool_serves_a_call_whose_webhook_and_stream_reach_different_workers(
    tmp_path: Path, start_bot
) -> None:  # type: ignore[no-untyped-def]
    """No TWILIO_STREAM_TOKEN_SECRET: the token one worker's webhook mints must open a stream on the other."""
    from scripts.candidate_script import Answer, Pause
    from tests.fakes.twilio_rest import FakeTwilioRest

    from .test_phone_interview import ACCOUNT, AUTH, dial, http_base, phone_env, phone_interview

    rest = await FakeTwilioRest(ACCOUNT, AUTH).start()
    try:
        env = {k: v for k, v in phone_env(rest).items() if k != "TWILIO_STREAM_TOKEN_SECRET"}
        bot = start_bot(
            "--config", str(phone_interview(tmp_path)), "--workers", "2", transport="twilio", once=False, env=env
        )
        server = http_base(bot.wait_ready(90))
        call = await dial(server, "CA" + "6" * 32, [Answer((Pause(60.0),), 0.5)])  # webhook: one worker
        running = asyncio.create_task(call.run(timeout=60))  # its stream: the other (they alternate when idle)
        await _until(lambda: any("Candidate joined" in line for line in bot.output), 30, "the call's session")
        bot.process.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(bot.wait_exit, 40)
        await asyncio.wait_for(running, 30)
    finally:
        await rest.stop()
    assert code == 15, "\n".join(bot.output[-30:])
    records = _records(bot.output)
    assert len(records) == 1 and read_jsonl(Path(records[0]) / "events.jsonl")[-1]["reason"] == "stopped"


async def test_a_dropped_candidate_comes_back_to_the_worker_holding_the_session(tmp_path: Path, start_bot) -> None:  # type: ignore[no-untyped-def]
    """Without routing, each return goes to whichever worker the load rule picks (the other one half the time:
    it refuses); four drops and returns in a row all reach the holder."""
    from scripts.socket_candidate import Candidate

    config = write_yaml(tmp_path / "interview.yaml", one_question_interview("worker_pool_resume"))
    bot = start_bot("--config", str(config), "--workers", "2", once=False, env={"RECONNECT_GRACE_SECONDS": "60"})
    url = bot.wait_ready(90)
    base = url.replace("ws://", "http://").removesuffix("/ws")
    before = Candidate(url)
    await before.connect()
    await before.wait_bot_turns(1, 90)  # the greeting and the question
    holder = next(w["worker"] for w in await _workers_where(base, lambda ws: any(w["active_sessions"] for w in ws)))
    after = before
    for drop in range(1, 5):
        token = after.resume_token
        assert token, "no resume token"
        after.drop()
        await _until(lambda n=drop: sum("suspended: the candidate may" in x for x in bot.output) >= n, 30, "hold")
        after = Candidate(f"{url}?resume={token}")
        await after.connect(open_timeout=30)
        await after.wait_bot_turns(1, 90)  # "welcome back", not a refusal
    workers = await _workers_where(base, lambda ws: any(w["active_sessions"] for w in ws))
    assert [w["worker"] for w in workers if w["active_sessions"]] == [holder]
    await after.end()
    record = Path((await _until(lambda: _records(bot.output), 60, "the finished record"))[0])
    types = [e["type"] for e in read_jsonl(record / "events.jsonl")]
    assert "candidate_reconnected" in types and types[-1] == "session_ended", types
    bot.process.send_signal(signal.SIGTERM)
    assert await asyncio.to_thread(bot.wait_exit, 30) == 15, "\n".join(bot.output[-30:])
