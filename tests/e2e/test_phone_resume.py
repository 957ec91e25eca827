"""A dropped phone call, called back from the same number, goes on with the same interview (issue #30, test c).

The caller answers the first question, hangs up while the second is open (Twilio reports a lost
line the same way: the stream's `stop`), and calls the same line back from the same number
within RECONNECT_GRACE_SECONDS: the new call joins the held session ("welcome back", the open
question; never the greeting), the caller answers, and the interview completes in one record
whose transcript and evaluation cover both calls. A call from another number meanwhile gets
its own interview.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from tests.fakes.twilio_rest import FakeTwilioRest

from .conftest import read_jsonl
from .test_phone_interview import ACCOUNT, ANSWERS, AUTH, dial, http_base, phone_env, phone_interview

pytestmark = pytest.mark.e2e

CALLER = "+15557654321"
HELD = "held for a call back"


async def wait_for_line(bot, text: str, timeout: float) -> None:
    for _ in range(int(timeout * 10)):
        if any(text in line for line in bot.output):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {text!r} in the bot's output:\n" + "\n".join(bot.output[-40:]))


async def test_a_dropped_call_called_back_from_the_same_number_goes_on_with_the_interview(
    tmp_path: Path, start_bot
) -> None:
    rest = await FakeTwilioRest(ACCOUNT, AUTH).start()
    try:
        env = {**phone_env(rest), "RECONNECT_GRACE_SECONDS": "60"}
        bot = start_bot("--config", str(phone_interview(tmp_path)), transport="twilio", env=env)  # --once
        server = http_base(bot.wait_ready())
        first = await dial(server, "CA" + "3" * 32, ANSWERS[:1], caller=CALLER, hang_up_after_turns=1)
        assert (await first.run(timeout=90)).closed_by == "caller"
        await wait_for_line(bot, HELD, 20)

        # Someone else calls meanwhile: a new interview of their own, not the held one.
        stranger = await dial(server, "CA" + "5" * 32, [], caller="+15550009999", hang_up_after_turns=0)
        assert (await stranger.run(timeout=60)).first_audible_at is not None

        second_sid = "CA" + "4" * 32
        dialled = time.monotonic()
        second = await dial(server, second_sid, ANSWERS[1:], caller=CALLER)
        rest.on_hang_up(second_sid, second.remote_hang_up)
        report = await second.run(timeout=150)
        assert await asyncio.to_thread(bot.wait_exit) == 0, "\n".join(bot.output[-40:])
    finally:
        await rest.stop()
    assert report.first_audible_at is not None
    print(f"phone call back -> interviewer speaking again: {(report.first_audible_at - dialled) * 1000:.0f} ms")
    assert report.closed_by in ("server_rest", "server"), report.closed_by

    records = {Path(line.split(": ", 1)[1]) for line in bot.output if line.startswith("Session record: ")}
    calls = {r: [e["call_sid"] for e in read_jsonl(r / "events.jsonl") if e["type"] == "phone_call"] for r in records}
    assert sorted(calls.values()) == [["CA" + "3" * 32, second_sid], ["CA" + "5" * 32]], calls
    (record,) = [r for r, sids in calls.items() if len(sids) == 2]
    events = read_jsonl(record / "events.jsonl")
    assert [e["type"] for e in events if e["type"] in ("session_suspended", "candidate_reconnected")] == [
        "session_suspended",
        "candidate_reconnected",
    ]
    assert [e["reason"] for e in events if e["type"] == "session_ended"] == ["completed"]
    transcript = read_jsonl(record / "transcript.jsonl")
    said = [t["text"] for t in transcript if t["speaker"] == "interviewer"]
    assert sum("interviewing you today" in text.lower() for text in said) == 1, said  # no second greeting
    assert sum("welcome back" in text.lower() for text in said) == 1, said
    heard = " ".join(t["text"].lower() for t in transcript if t["speaker"] == "candidate")
    # Both calls' answers in one transcript (Whisper has written "payment, systems").
    assert "payment" in heard and "queue" in heard, heard
    evaluation = (record / "evaluation.json").read_text().lower()
    assert "payment" in evaluation and "queue" in evaluation
    assert (record / "report.html").exists()
