"""SIGTERM on a websocket server ends its session cleanly within the grace period (issue #13, item 4).

What the launcher's DELETE does: SIGTERM, then SIGKILL after LAUNCHER_GRACE_SECONDS. uvicorn
used to hold SIGTERM until every socket closed, so the SIGKILL came and the record had no
session_ended and no reports. Now the candidate hears a goodbye, the reports are written,
the record is closed and the process exits 15 (stopped).
"""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import pytest
import websockets

from .conftest import one_question_interview, read_jsonl, write_yaml

pytestmark = pytest.mark.e2e

GRACE_SECONDS = 30  # LAUNCHER_GRACE_SECONDS' default


async def _wait_for(predicate, timeout: float) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.1)


async def test_sigterm_says_goodbye_writes_the_reports_and_closes_the_record(tmp_path: Path, start_bot) -> None:  # type: ignore[no-untyped-def]
    config = write_yaml(tmp_path / "interview.yaml", one_question_interview("graceful_stop"))
    bot = start_bot("--config", str(config))
    url = bot.wait_ready()
    received: list[bytes] = []
    async with websockets.connect(url) as ws:

        async def listen() -> None:
            async for message in ws:
                received.append(message if isinstance(message, bytes) else message.encode())

        listener = asyncio.create_task(listen())
        await _wait_for(lambda: any("Candidate joined" in line for line in bot.output), 30)
        await asyncio.sleep(2.0)  # the greeting is playing
        stopped_at = time.monotonic()
        bot.process.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(bot.wait_exit, GRACE_SECONDS + 5)
        elapsed = time.monotonic() - stopped_at
        listener.cancel()
    assert code == 15, "\n".join(bot.output[-30:])
    print(f"SIGTERM to exit: {elapsed:.1f} s")
    assert elapsed < GRACE_SECONDS
    record = bot.record_dir()
    events = read_jsonl(record / "events.jsonl")
    kinds = [e["type"] for e in events]
    assert "stop_requested" in kinds and kinds[-1] == "session_ended" and events[-1]["reason"] == "stopped"
    for name in ("latency.json", "evaluation.json", "report.html"):
        assert (record / name).is_file(), name
    goodbye = [t for t in read_jsonl(record / "transcript.jsonl") if t["speaker"] == "interviewer"]
    assert any("end our session here" in t["text"] for t in goodbye), goodbye


async def test_sigterm_on_the_phone_server_says_goodbye_hangs_up_and_closes_the_record(
    tmp_path: Path, start_bot
) -> None:  # type: ignore[no-untyped-def]
    from scripts.candidate_script import Answer, Pause
    from tests.fakes.twilio_rest import FakeTwilioRest

    from .test_phone_interview import ACCOUNT, AUTH, dial, http_base, phone_env, phone_interview

    rest = await FakeTwilioRest(ACCOUNT, AUTH).start()
    try:
        bot = start_bot("--config", str(phone_interview(tmp_path)), transport="twilio", env=phone_env(rest))
        server = http_base(bot.wait_ready())
        call_sid = "CA" + "5" * 32
        call = await dial(server, call_sid, [Answer((Pause(60.0),), 0.5)])  # a caller who says nothing yet
        rest.on_hang_up(call_sid, call.remote_hang_up)
        running = asyncio.create_task(call.run(timeout=60))
        await _wait_for(lambda: any("Candidate joined" in line for line in bot.output), 30)
        await asyncio.sleep(2.0)
        bot.process.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(bot.wait_exit, GRACE_SECONDS + 5)
        report = await asyncio.wait_for(running, 30)
    finally:
        await rest.stop()
    assert code == 15, "\n".join(bot.output[-30:])
    assert [h.call_sid for h in rest.hang_ups()] == [call_sid] and report.closed_by in ("server_rest", "server")
    record = bot.record_dir()
    events = read_jsonl(record / "events.jsonl")
    assert events[-1]["type"] == "session_ended" and events[-1]["reason"] == "stopped"
    for name in ("latency.json", "evaluation.json", "report.html"):
        assert (record / name).is_file(), name
