"""Measure a dropped WebSocket candidate's return: reconnect -> the interviewer speaking again.

    python scripts/bench_reconnect.py [--drops 8]

One real bot (`bot.py --transport websocket`, embedded engines, no keys,
RECONNECT_GRACE_SECONDS=60). A candidate joins and hears the first question; then, `--drops`
times, its socket is cut without a close frame (the server sees a drop), it reconnects with the
session's resume token and the time from opening the new socket to the interviewer's first
audio (the welcome back) is taken. What it covers: the server noticing the drop is not in it
(the candidate cannot know when); the session rebuilt from its record folder (snapshot,
services, pipeline) and the first reply are. Prints median and p95.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.socket_candidate import Candidate

ROOT = Path(__file__).resolve().parents[1]
LISTENING = re.compile(r"listening on (ws://\S+)")


def start_bot(sessions: Path) -> tuple[subprocess.Popen[str], str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_API_SECRET", "_BASE_URL"))}
    env.update(SESSIONS_DIR=str(sessions), STT_PROVIDER="local", LLM_PROVIDER="local", TTS_PROVIDER="local")
    env.update(RECONNECT_GRACE_SECONDS="60", FILLER_AFTER_MS="0", OPENBLAS_NUM_THREADS="1")
    bot = subprocess.Popen(
        [sys.executable, str(ROOT / "bot.py"), "--transport", "websocket", "--port", "0"],
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
        candidate = Candidate(f"{url}?resume={token}")
        opened = time.monotonic()
        await candidate.connect()
        await candidate.wait_bot_turns(1, 60)
        assert candidate.bot_started_at is not None
        seconds.append(candidate.bot_started_at - opened)
        print(f"  drop {drop}: reconnect -> interviewer speaking {seconds[-1] * 1000:.0f} ms", flush=True)
    await candidate.end()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drops", type=int, default=8, help="drops and returns in the one session")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bot, url = start_bot(Path(tmp))
        try:
            seconds = asyncio.run(asyncio.wait_for(measure(url, Path(tmp), args.drops), 60 + 30 * args.drops))
        finally:
            bot.terminate()
            bot.wait(timeout=30)
    ms = sorted(s * 1000 for s in seconds)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]  # nearest rank: never past the slowest
    print(f"\nreconnect -> interviewer speaking again, {len(ms)} returns: median {statistics.median(ms):.0f} ms, "
          f"p95 {p95:.0f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
