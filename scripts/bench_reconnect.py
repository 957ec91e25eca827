"""Measure a dropped WebSocket candidate's return: reconnect -> the interviewer speaking again.

    timeout 900 python scripts/bench_reconnect.py [--drops 8] [--crashes 5] [--calls 5]

One real bot (`bot.py --transport websocket`, embedded engines, no keys,
RECONNECT_GRACE_SECONDS=60). A candidate joins and hears the first question; then, `--drops`
times, its socket is cut without a close frame (the server sees a drop), it reconnects with the
session's resume token and the time from opening the new socket to the interviewer's first
audio (the welcome back) is taken. What it covers: the server noticing the drop is not in it
(the candidate cannot know when); the session rebuilt from its record folder (snapshot,
services, pipeline) and the first reply are. Prints median and p95.

Crashes (`--crashes`): the launcher (in this process, LAUNCHER_RESTART_ATTEMPTS = the count, no
warm pool) runs a WebSocket session; `--crashes` times its bot is SIGKILLed and the candidate
reconnects at once to the same URL with its resume token; the time from the SIGKILL to the
interviewer's first audio (the welcome back) is taken: the launcher seeing the death, a cold
`bot.py --resume` (interpreter, imports, models: the bulk of it), the session rebuilt from its
record and the first reply. The connection waits in the session's socket meanwhile.

Phone call-backs (`--calls`): `bot.py --transport twilio` and the Twilio Media Streams simulator
(scripts/twilio_media_sim.py); a caller hears the first question and hangs up, then calls the same
line back from the same number `--calls` times, hanging up each time after the interviewer's turn;
the time from the call-back's webhook to the interviewer's first audible audio (the welcome back)
is taken: the webhook, the media stream's handshake, the session rebuilt from its record, the reply.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.socket_candidate import Candidate

ROOT = Path(__file__).resolve().parents[1]
LISTENING = re.compile(r"listening on (ws://\S+)")
PHONE = {"TWILIO_ACCOUNT_SID": "AC" + "7" * 32, "TWILIO_AUTH_TOKEN": "bench-auth-token",
         "PUBLIC_HOST": "interviews.example.test", "TWILIO_STREAM_TOKEN_SECRET": "bench-reconnect"}  # fmt: skip


def bot_env(sessions: Path) -> dict[str, str]:
    """Embedded engines, no keys, records under `sessions`, a minute to come back."""
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_API_SECRET", "_BASE_URL"))}
    env.update(SESSIONS_DIR=str(sessions), STT_PROVIDER="local", LLM_PROVIDER="local", TTS_PROVIDER="local")
    env.update(RECONNECT_GRACE_SECONDS="60", FILLER_AFTER_MS="0", OPENBLAS_NUM_THREADS="1")
    return env


def start_bot(sessions: Path, transport: str = "websocket") -> tuple[subprocess.Popen[str], str]:
    env = {**bot_env(sessions), **(PHONE if transport == "twilio" else {})}
    bot = subprocess.Popen(
        [sys.executable, str(ROOT / "bot.py"), "--transport", transport, "--port", "0"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    assert bot.stdout is not None
    deadline = time.monotonic() + 120
    for line in bot.stdout:
        if match := LISTENING.search(line):
            return bot, match.group(1)
        if time.monotonic() > deadline:
            break
    bot.kill()
    raise SystemExit("the bot did not start")


async def held(sessions: Path, drops: int, timeout: float = 30) -> None:
    """Until the server has held the session `drops` times (it noticed the drop and saved it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events = "".join(p.read_text() for p in sessions.glob("*/events.jsonl"))
        if events.count('"session_suspended"') >= drops:
            return
        await asyncio.sleep(0.05)
    raise SystemExit("the server did not hold the dropped session")


async def measure(url: str, sessions: Path, drops: int) -> list[float]:
    candidate = Candidate(url)
    await candidate.connect()
    await candidate.wait_bot_turns(1, 90)
    seconds: list[float] = []
    for drop in range(1, drops + 1):
        token = candidate.resume_token
        assert token, "no resume token"
        candidate.drop()
        await held(sessions, drop)
        candidate = await come_back(f"{url}?resume={token}", time.monotonic(), seconds, f"drop {drop}: reconnect")
    await candidate.end()
    return seconds


async def measure_crashes(sessions: Path, crashes: int) -> list[float]:
    """SIGKILL the session's bot `crashes` times; seconds from each kill to the interviewer speaking again."""
    import httpx

    from launcher.app import create_app
    from settings import Settings

    auth = {"Authorization": "Bearer bench"}
    values: dict[str, Any] = {"launcher_api_key": "bench", "sessions_dir": sessions}
    settings = Settings(
        _env_file=None, launcher_warm_pool=0, launcher_restart_attempts=crashes, **values
    )  # type: ignore[call-arg]  # fmt: skip
    app = create_app(settings, child_env=bot_env(sessions))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://launcher") as client,
    ):
        created = (await client.post("/sessions", json={"transport": "websocket", "interview": "senior_backend_engineer"},
                                     headers=auth)).json()  # fmt: skip
        state_url = f"/sessions/{created['id']}"
        while (state := (await client.get(state_url, headers=auth)).json())["state"] != "running":
            assert state["state"] == "starting", state
            await asyncio.sleep(0.1)
        candidate = Candidate(state["ws_url"])
        await candidate.connect()
        await candidate.wait_bot_turns(1, 90)
        seconds: list[float] = []
        for crash in range(1, crashes + 1):
            state = (await client.get(state_url, headers=auth)).json()  # the record is known once a session runs
            await until_snapshot(Path(state["record"] or ""))
            token, pid = candidate.resume_token, state["pid"]
            assert token, "no resume token"
            os.kill(pid, signal.SIGKILL)
            # At once (the page's first retry is at 0.5 s): the connection waits in the session's socket.
            candidate = await come_back(f"{state['ws_url']}&resume={token}", time.monotonic(), seconds,
                                        f"crash {crash}: SIGKILL")  # fmt: skip
        await candidate.end()
    return seconds


async def measure_call_backs(url: str, sessions: Path, calls: int) -> list[float]:
    """A first call, then `calls` call-backs from the same number; seconds from each call-back's webhook on."""
    from scripts.twilio_media_sim import SimulatedPhoneCall, call_form, parse_stream_twiml, post_webhook, tunnel

    server = "http://" + url.split("//", 1)[1].split("/", 1)[0]
    seconds: list[float] = []
    for n in range(calls + 1):
        call_sid = f"CA{n:032d}"
        since = time.monotonic()
        form = call_form(call_sid, PHONE["TWILIO_ACCOUNT_SID"], caller="+15557654321")
        status, twiml = await post_webhook(server, PHONE["PUBLIC_HOST"], form, auth_token=PHONE["TWILIO_AUTH_TOKEN"])
        assert status == 200, twiml
        stream = parse_stream_twiml(twiml)
        call = SimulatedPhoneCall(tunnel(stream.url, server), call_sid=call_sid, account_sid=form["AccountSid"],
                                  custom_parameters=stream.parameters, script=[], hang_up_after_turns=0)  # fmt: skip
        report = await call.run(timeout=90)
        assert report.first_audible_at is not None, "the interviewer never spoke"
        if n:
            seconds.append(report.first_audible_at - since)
            print(f"  call back {n} -> interviewer speaking {seconds[-1] * 1000:.0f} ms", flush=True)
        await held(sessions, n + 1)
    return seconds


async def come_back(url: str, since: float, seconds: list[float], label: str) -> Candidate:
    """Connect with the resume token; append the seconds from `since` to the interviewer's first audio."""
    candidate = Candidate(url)
    await candidate.connect(open_timeout=120)  # a replacement bot answers once it is up
    await candidate.wait_bot_turns(1, 120)
    assert candidate.bot_started_at is not None
    seconds.append(candidate.bot_started_at - since)
    print(f"  {label} -> interviewer speaking {seconds[-1] * 1000:.0f} ms", flush=True)
    return candidate


async def until_snapshot(record: Path, timeout: float = 30) -> None:
    """A turn's snapshot is on disk (what a replacement goes on from)."""
    deadline = time.monotonic() + timeout
    while not (record / "snapshot.json").exists():
        if time.monotonic() > deadline:
            raise SystemExit(f"no snapshot in {record}")
        await asyncio.sleep(0.05)


def summary(what: str, seconds: list[float]) -> str:
    ms = sorted(s * 1000 for s in seconds)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]  # nearest rank: never past the slowest
    return f"{what}, {len(ms)} runs: median {statistics.median(ms):.0f} ms, p95 {p95:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drops", type=int, default=8, help="drops and returns in the one session (0: none)")
    parser.add_argument("--crashes", type=int, default=5, help="bot SIGKILLs the launcher recovers from (0..10)")
    parser.add_argument("--calls", type=int, default=5, help="phone call-backs after dropped calls (0..30)")
    args = parser.parse_args()
    if not (0 <= args.drops <= 50 and 0 <= args.crashes <= 10 and 0 <= args.calls <= 30):
        parser.error("--drops 0..50, --crashes 0..10 (LAUNCHER_RESTART_ATTEMPTS is at most 10), --calls 0..30")
    lines = []
    if args.drops:
        with tempfile.TemporaryDirectory() as tmp:
            bot, url = start_bot(Path(tmp))
            try:
                seconds = asyncio.run(asyncio.wait_for(measure(url, Path(tmp), args.drops), 60 + 30 * args.drops))
            finally:
                bot.terminate()
                bot.wait(timeout=30)
        lines.append(summary("reconnect -> interviewer speaking again", seconds))
    if args.crashes:
        with tempfile.TemporaryDirectory() as tmp:
            budget = 90 + 60 * args.crashes
            seconds = asyncio.run(asyncio.wait_for(measure_crashes(Path(tmp), args.crashes), budget))
        lines.append(summary("bot SIGKILL -> interviewer speaking again (launcher replacement)", seconds))
    if args.calls:
        with tempfile.TemporaryDirectory() as tmp:
            bot, url = start_bot(Path(tmp), "twilio")
            try:
                seconds = asyncio.run(
                    asyncio.wait_for(measure_call_backs(url, Path(tmp), args.calls), 60 + 30 * args.calls)
                )
            finally:
                bot.terminate()
                bot.wait(timeout=60)
        lines.append(summary("phone call back -> interviewer speaking again", seconds))
    print("\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
