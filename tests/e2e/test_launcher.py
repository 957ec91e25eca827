"""The launcher end to end: POST a websocket session, the warm pool's real `bot.py --warm` child runs it, the simulated
candidate completes a short interview, and GET shows it ended with its record."""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path

import httpx
import pytest
import yaml

from launcher.app import create_app
from scripts.simulate_candidate import run_candidate
from settings import Settings

from .conftest import one_question_interview, read_jsonl

pytestmark = pytest.mark.e2e

AUTH = {"Authorization": "Bearer e2e-key"}
ANSWER = (
    "I am a backend engineer with eight years of experience building payment services "
    "in Python with a database behind them."
)


async def test_launcher_runs_a_real_bot_through_a_whole_short_interview(
    tmp_path: Path, bot_env: dict[str, str]
) -> None:
    settings = Settings(
        _env_file=None, launcher_api_key="e2e-key", sessions_dir=tmp_path / "sessions", launcher_grace_seconds=10
    )  # type: ignore[call-arg]
    app = create_app(settings, child_env=bot_env)
    script = tmp_path / "candidate.yaml"
    script.write_text(yaml.safe_dump({"name": "launcher-e2e", "default_think_pause": 0.5, "answers": [ANSWER]}))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://launcher") as client,
    ):
        deadline = time.monotonic() + 60  # the pool's bot loads its models first (LAUNCHER_WARM_POOL=1 by default)
        while (await client.get("/sessions", headers=AUTH)).json()["warm_pool"]["ready"] < 1:
            assert time.monotonic() < deadline, "the warm bot never became ready"
            await asyncio.sleep(0.1)
        warm_pid = app.state.warm_pool._ready[0].process.pid
        created = await client.post(
            "/sessions",
            json={
                "transport": "websocket",
                "interview": one_question_interview("one_question_screen"),
                "candidate_name": "Ada",
            },
            headers=AUTH,
        )
        assert created.status_code == 201, created.text
        session = created.json()
        assert session["state"] == "starting" and session["pid"] == warm_pid and session["warm"] is True
        assert session["ws_url"] is None  # the bot binds its own port: known from its ready line

        deadline = time.monotonic() + 60
        while (state := (await client.get(f"/sessions/{session['id']}", headers=AUTH)).json())["state"] == "starting":
            assert time.monotonic() < deadline, "bot never became ready"
            await asyncio.sleep(0.05)
        assert state["state"] == "running", Path(state["log"]).read_text()[-3000:]
        token = f"?token={session['candidate_token']}"
        assert state["ws_url"].startswith("ws://127.0.0.1:") and state["ws_url"].endswith(f"/ws{token}")
        assert state["join_url"] == state["ws_url"].replace("ws://", "http://").replace(f"ws{token}", token)  # the page

        report = await run_candidate(state["ws_url"], script, timeout=75)
        assert report.completed, report.to_dict()

        while (state := (await client.get(f"/sessions/{session['id']}", headers=AUTH)).json())["state"] == "running":
            assert time.monotonic() < deadline + 90, "bot never exited"
            await asyncio.sleep(0.1)
        log = Path(state["log"]).read_text()
        assert state["state"] == "ended" and state["exit_code"] == 0, log[-3000:]
        assert state["exit_reason"] == "completed"
        record = Path(state["record"])
        assert record.parent == tmp_path / "sessions"
        config = json.loads((record / "config.json").read_text())
        assert config["candidate_name"] == "Ada" and config["interview"]["id"] == "one_question_screen"
        transcript = read_jsonl(record / "transcript.jsonl")
        assert any(line["speaker"] == "candidate" for line in transcript)
        assert read_jsonl(record / "events.jsonl")[-1]["type"] == "session_ended"
        assert (record / "recording.wav").stat().st_size > 44
        listing = (await client.get("/sessions", headers=AUTH)).json()
        assert listing["active"] == 0 and listing["sessions"][0]["id"] == session["id"]
    assert os.path.exists(state["log"])
