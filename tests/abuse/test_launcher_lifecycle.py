"""Finding 9 (launcher part): nothing of a session outlives it — its join token, its bot, its unjoined wait.

A room session's `bot_token` file is deleted when the session ends; a `--once` bot nobody joins
is stopped after LAUNCHER_JOIN_TIMEOUT_SECONDS (SIGTERM: it ends cleanly); and bots die with their
launcher: `kill -9` of a real `python -m launcher` makes its real bot get SIGTERM and finish its
record instead of running on, unreachable and unstoppable.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from scripts.candidate_protocol import encode_message, open_connection, rtvi_client_ready
from tests.fakes.daily_server import FakeDailyServer
from tests.unit.test_launcher import Launcher, fake_bot, settings

from .conftest import AUTH, pid_alive

ROOT = Path(__file__).resolve().parents[2]


async def test_a_room_sessions_bot_token_is_deleted_when_it_ends(tmp_path: Path) -> None:
    async with FakeDailyServer("daily-key") as server:
        instance = Launcher(
            settings(tmp_path, daily_api_key="daily-key", daily_api_url=server.base_url), fake_bot(exit_code=0)
        )
        try:
            body = (
                await instance.client.post(
                    "/sessions", json={"transport": "daily", "interview": "qualitative_research"}, headers=AUTH
                )
            ).json()
            token_file = Path(body["directory"]) / "bot_token"
            assert token_file.exists()
            ended = await instance.wait_state(body["id"], "ended", "failed")
            assert ended["state"] == "ended", ended
            assert not token_file.exists(), "the bot's join token outlived its session"
        finally:
            await instance.supervisor.shutdown()
            await instance.client.aclose()


async def test_a_bot_nobody_joins_is_stopped_after_the_join_timeout(tmp_path: Path) -> None:
    instance = Launcher(settings(tmp_path, launcher_join_timeout_seconds=1), fake_bot(join_after=None))
    other = Launcher(settings(tmp_path / "o", launcher_join_timeout_seconds=1), fake_bot(join_after=0))
    try:
        started = time.monotonic()
        body = (
            await instance.client.post(
                "/sessions", json={"transport": "websocket", "interview": "senior_backend_engineer"}, headers=AUTH
            )
        ).json()
        joined = (
            await other.client.post(
                "/sessions", json={"transport": "websocket", "interview": "senior_backend_engineer"}, headers=AUTH
            )
        ).json()
        ended = await instance.wait_state(body["id"], "ended", "failed", timeout=10)
        assert ended["exit_reason"] == "join_timeout" and ended["exit_code"] == 15, ended  # SIGTERM: a clean end
        assert 0.9 <= time.monotonic() - started < 4
        assert (await other.wait_state(joined["id"], "running"))["state"] == "running"  # a joined one runs on
        await asyncio.sleep(0.5)
        assert (await other.wait_state(joined["id"], "running"))["state"] == "running"
    finally:
        for launcher in (instance, other):
            await launcher.supervisor.shutdown()
            await launcher.client.aclose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_bots_die_with_their_launcher(tmp_path: Path, bot_env: dict[str, str]) -> None:
    port = free_port()
    env = {
        **bot_env,
        "LAUNCHER_API_KEY": "k",
        "LAUNCHER_PORT": str(port),
        "LAUNCHER_WARM_POOL": "0",
        "INTERVIEWER_ENV_FILE": "none",
        "PYTHONPATH": str(ROOT),
    }
    launcher = subprocess.Popen(  # noqa: ASYNC220 - the launcher under test, started once
        [sys.executable, "-m", "launcher"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    bot_pid = None
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": "Bearer k"}) as c:
            deadline = time.monotonic() + 30
            while True:
                try:
                    created = await c.post(
                        "/sessions", json={"transport": "websocket", "interview": "qualitative_research"}
                    )
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline and launcher.poll() is None, "the launcher did not start"
                    await asyncio.sleep(0.2)
            assert created.status_code == 201, created.text
            body = created.json()
            bot_pid = body["pid"]
            while (state := (await c.get(f"/sessions/{body['id']}")).json())["state"] == "starting":
                assert time.monotonic() < deadline + 30, "the bot never became ready"
                await asyncio.sleep(0.1)
            assert state["state"] == "running", Path(state["log"]).read_text()[-2000:]
            candidate = await open_connection(state["ws_url"])  # with the session's token
            await candidate.send(encode_message(rtvi_client_ready()))
            while not any((tmp_path / "sessions").glob("*/events.jsonl")):  # the session (and its record) began
                assert time.monotonic() < deadline + 40, "no session started"
                await asyncio.sleep(0.1)
        launcher.send_signal(signal.SIGKILL)  # no shutdown hook runs
        launcher.wait(10)
        deadline = time.monotonic() + 20
        while pid_alive(bot_pid):
            assert time.monotonic() < deadline, "the bot outlived its launcher"
            await asyncio.sleep(0.1)
        records = [p for p in (tmp_path / "sessions").iterdir() if p.name != "launcher"]
        assert len(records) == 1
        events = [json.loads(line) for line in (records[0] / "events.jsonl").read_text().splitlines()]
        assert events[-1]["type"] == "session_ended"  # SIGTERM: the record was finished, not cut off
        await candidate.close()
    finally:
        if launcher.poll() is None:
            launcher.kill()
        if bot_pid is not None and pid_alive(bot_pid):
            os.kill(bot_pid, signal.SIGKILL)
