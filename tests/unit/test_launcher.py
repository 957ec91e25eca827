"""The session launcher's HTTP API and process supervision, with stand-in bot processes.

The bots here are tiny Python children scripted to hang, ignore SIGTERM or exit
with a given code; the real `bot.py` child runs in tests/e2e/test_launcher.py.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import jwt
import pytest

from interview.loader import load_interview_config
from launcher.app import bot_command, create_app
from launcher.sessions import Supervisor
from settings import Settings
from tests.fakes.daily_server import FakeDailyServer
from tests.fakes.livekit_server import FakeLiveKitServer

KEY = "launcher-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
LK_KEY, LK_SECRET = "APIfake", "s" * 40
JOIN_WINDOW = 3.0  # the rooms' 15 minutes to join, scaled down
AFTER_INTERVIEW = 0.2  # scoring and reports after the end, scaled down


def fake_bot(
    *, exit_code: int | None = None, ignore_term: bool = False, record: Path | None = None, reason: str = "",
    join_after: float | None = 0.0, run_for: float = 0.2,
) -> list[str]:  # fmt: skip
    """A stand-in child: says it is ready, its candidate joins (after `join_after` s; None: never),
    optionally writes a record, then exits after `run_for` s or hangs."""
    lines = ["import signal, sys, time, pathlib"]
    if ignore_term:
        lines.append("signal.signal(signal.SIGTERM, signal.SIG_IGN)")
    else:
        lines.append("signal.signal(signal.SIGTERM, lambda *a: sys.exit(15))")
    lines.append("print('Session ready: fake', flush=True)")
    if join_after is not None:
        lines.append(f"time.sleep({join_after}); print('Candidate joined: session fake', flush=True)")
    if record is not None:
        lines.append(f"p = pathlib.Path({str(record)!r}); p.mkdir(parents=True, exist_ok=True)")
        lines.append(f'(p / \'events.jsonl\').write_text(\'{{"type": "session_ended", "reason": "{reason}"}}\\n\')')
        lines.append("print('Session record: ' + str(p), flush=True)")
    lines.append(f"time.sleep({run_for})" if exit_code is not None else "time.sleep(600)")
    if exit_code is not None:
        lines.append(f"sys.exit({exit_code})")
    return [sys.executable, "-c", "\n".join(lines)]


def tiny_interview(timeout: float = 0.6) -> dict:
    """A valid inline interview whose session timeout is well under a second."""
    config = load_interview_config("senior_backend_engineer").model_dump(mode="json")
    config["duration_minutes"] = 0.005
    config["phases"] = [{**config["phases"][0], "duration_seconds": 0.3}]
    config["timeouts"]["session_timeout_seconds"] = timeout
    return config


def settings(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = dict(
        launcher_api_key=KEY,
        sessions_dir=tmp_path / "sessions",
        launcher_max_sessions=2,
        launcher_grace_seconds=0.5,
        livekit_url=None,
        livekit_api_key=None,
        livekit_api_secret=None,
        daily_api_key=None,
        launcher_warm_pool=0,  # the stand-in children are not bot.py (tests/unit/test_warm_pool.py has the pool)
    )
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


class Launcher:
    def __init__(self, s: Settings, command: list[str]):
        self.argv: list[list[str]] = []
        self.command = command

        def command_for(transport, tickets, contract_file, port):  # type: ignore[no-untyped-def]
            self.argv.append(bot_command(transport, tickets, contract_file, port))
            return self.command

        supervisor = Supervisor(
            max_sessions=s.launcher_max_sessions, grace_seconds=s.launcher_grace_seconds,
            join_window_seconds=JOIN_WINDOW, after_interview_seconds=AFTER_INTERVIEW,
        )  # fmt: skip
        self.app = create_app(s, supervisor=supervisor, command_for=command_for, child_env={"PATH": "/usr/bin:/bin"})
        self.supervisor: Supervisor = self.app.state.supervisor
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://launcher")

    async def wait_state(self, session_id: str, *states: str, timeout: float = 10) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            body = (await self.client.get(f"/sessions/{session_id}", headers=AUTH)).json()
            if body["state"] in states or time.monotonic() > deadline:
                return body
            await asyncio.sleep(0.05)


@pytest.fixture
async def launcher(tmp_path: Path) -> AsyncIterator:
    made: list[Launcher] = []

    def make(command: list[str] | None = None, **overrides: object) -> Launcher:
        instance = Launcher(settings(tmp_path, **overrides), command or fake_bot())
        made.append(instance)
        return instance

    yield make
    for instance in made:
        await instance.supervisor.shutdown()
        await instance.client.aclose()


def test_launcher_refuses_to_run_without_a_key(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="LAUNCHER_API_KEY is not set"):
        create_app(settings(tmp_path, launcher_api_key=None))


async def test_every_endpoint_needs_the_bearer_key(launcher) -> None:  # type: ignore[no-untyped-def]
    client = launcher().client
    for method, path in (
        ("GET", "/sessions"),
        ("POST", "/sessions"),
        ("GET", "/sessions/x"),
        ("DELETE", "/sessions/x"),
    ):
        assert (await client.request(method, path)).status_code == 401
        wrong = await client.request(method, path, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and wrong.json()["detail"] == "missing or wrong bearer key"


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (
            {"transport": "carrier-pigeon", "interview": "senior_backend_engineer"},
            422,
            "request: transport: Input should be",
        ),
        ({"transport": "websocket"}, 422, "request: interview: Field required"),
        (
            {"transport": "websocket", "interview": "senior_backend_engineer", "budget_limit_usd": 0},
            422,
            "budget_limit_usd: Input should be greater than 0",
        ),
        ({"transport": "websocket", "interview": "nope"}, 422, "not a bundled interview"),
        ({"transport": "websocket", "interview": "senior_backend_engineer", "bogus": 1}, 422, "bogus: unknown key"),
        ({"transport": "livekit", "interview": "senior_backend_engineer"}, 400, "the launcher has no LIVEKIT_URL"),
        ({"transport": "daily", "interview": "senior_backend_engineer"}, 400, "the launcher has no DAILY_API_KEY"),
    ],
)
async def test_bad_requests_get_clear_4xx(launcher, body: dict, status: int, message: str) -> None:  # type: ignore[no-untyped-def]
    instance = launcher()
    response = await instance.client.post("/sessions", json=body, headers=AUTH)
    assert response.status_code == status and message in response.json()["detail"], response.text
    assert instance.supervisor.active == 0 and instance.argv == []
    assert (await instance.client.get("/sessions/none", headers=AUTH)).status_code == 404


async def test_livekit_session_creates_the_room_with_the_contract_and_starts_the_bot(launcher) -> None:  # type: ignore[no-untyped-def]
    async with FakeLiveKitServer(LK_KEY, LK_SECRET) as server:
        instance = launcher(
            livekit_url="wss://lk.example",
            livekit_api_url=server.base_url,
            livekit_api_key=LK_KEY,
            livekit_api_secret=LK_SECRET,
        )
        response = await instance.client.post(
            "/sessions",
            json={
                "transport": "livekit",
                "interview": "senior_backend_engineer",
                "candidate_name": "Ada",
                "budget_limit_usd": 4,
            },
            headers=AUTH,
        )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["room"] == f"interview-{body['id']}" and body["join_url"] == "wss://lk.example" and body["pid"] > 0
    metadata = json.loads(server.rooms[body["room"]].metadata)
    assert metadata["interview"] == "senior_backend_engineer" and metadata["candidate_name"] == "Ada"
    assert metadata["budget_limit_usd"] == 4 and metadata["candidate_identity"] == f"candidate-{body['id']}"
    assert "created_at" in metadata
    claims = jwt.decode(body["candidate_token"], LK_SECRET, algorithms=["HS256"], options={"verify_aud": False})
    assert claims["sub"] == metadata["candidate_identity"] and claims["video"]["room"] == body["room"]
    argv = instance.argv[0]
    assert argv[argv.index("--transport") + 1] == "livekit" and argv[argv.index("--room") + 1] == body["room"]
    assert "--contract" not in argv  # the LiveKit bot reads the contract from the room's metadata
    assert "--token" not in argv, "argv is visible to every local user"
    token_file = Path(argv[argv.index("--token-file") + 1])
    assert token_file.stat().st_mode & 0o777 == 0o600
    bot_claims = jwt.decode(token_file.read_text(), LK_SECRET, algorithms=["HS256"], options={"verify_aud": False})
    assert bot_claims["sub"] == "interviewer-bot"
    assert token_file.read_text() not in " ".join(argv)
    assert (await instance.wait_state(body["id"], "running"))["state"] == "running"


async def test_daily_session_creates_room_and_tokens(launcher) -> None:  # type: ignore[no-untyped-def]
    async with FakeDailyServer("daily-key") as server:
        instance = launcher(daily_api_key="daily-key", daily_api_url=server.base_url)
        response = await instance.client.post(
            "/sessions", json={"transport": "daily", "interview": "qualitative_research"}, headers=AUTH
        )
    body = response.json()
    assert response.status_code == 201, response.text
    assert body["join_url"] == f"{body['room']}?t={body['candidate_token']}"
    argv = instance.argv[0]
    assert argv[argv.index("--room-url") + 1] == body["room"]
    contract = json.loads(Path(argv[argv.index("--contract") + 1]).read_text())
    assert contract["interview"] == "qualitative_research"
    assert server.tokens[1]["user_id"] == contract["candidate_identity"]
    assert "--token" not in argv
    token_file = Path(argv[argv.index("--token-file") + 1])
    assert token_file.stat().st_mode & 0o777 == 0o600 and token_file.read_text().strip()


async def test_children_do_not_inherit_the_launchers_own_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A child holding LAUNCHER_API_KEY could start and stop every session."""
    monkeypatch.setenv("LAUNCHER_API_KEY", "the-launchers-key")
    monkeypatch.setenv("DEEPGRAM_MODEL", "kept")  # a bot setting: on the allow-list
    s = settings(tmp_path)
    show_env = [
        sys.executable,
        "-c",
        "import os; print('Session ready'); print('ENV', os.environ.get('LAUNCHER_API_KEY'), os.environ.get('DEEPGRAM_MODEL'), flush=True)",
    ]
    app = create_app(s, command_for=lambda *a: show_env)
    supervisor: Supervisor = app.state.supervisor
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://launcher") as client:
        body = (
            await client.post(
                "/sessions", json={"transport": "websocket", "interview": "senior_backend_engineer"}, headers=AUTH
            )
        ).json()
        for _ in range(200):
            if supervisor.sessions[body["id"]].state in ("ended", "failed"):
                break
            await asyncio.sleep(0.05)
    await supervisor.shutdown()
    log = Path(body["log"]).read_text()
    assert "ENV None kept" in log, log


async def test_concurrency_limit_returns_429_and_frees_up_when_a_session_ends(launcher) -> None:  # type: ignore[no-untyped-def]
    instance = launcher()
    request = {"transport": "websocket", "interview": "senior_backend_engineer"}
    first = (await instance.client.post("/sessions", json=request, headers=AUTH)).json()
    await instance.client.post("/sessions", json=request, headers=AUTH)
    full = await instance.client.post("/sessions", json=request, headers=AUTH)
    assert full.status_code == 429 and "limit of 2 concurrent sessions" in full.json()["detail"]
    assert (await instance.client.delete(f"/sessions/{first['id']}", headers=AUTH)).status_code == 202
    ended = await instance.wait_state(first["id"], "ended", "failed")
    assert ended["state"] == "ended" and ended["exit_code"] == 15
    assert (await instance.client.post("/sessions", json=request, headers=AUTH)).status_code == 201
    listing = (await instance.client.get("/sessions", headers=AUTH)).json()
    assert listing["active"] == 2 and len(listing["sessions"]) == 3


async def test_a_bot_that_hangs_past_its_timeout_is_killed(launcher) -> None:  # type: ignore[no-untyped-def]
    instance = launcher(fake_bot(ignore_term=True), launcher_grace_seconds=0.3)
    body = (
        await instance.client.post(
            "/sessions", json={"transport": "websocket", "interview": tiny_interview(0.6)}, headers=AUTH
        )
    ).json()
    started = time.monotonic()
    ended = await instance.wait_state(body["id"], "ended", "failed", timeout=10)
    assert ended["state"] == "failed" and ended["exit_reason"] == "session_timeout_exceeded"
    assert ended["exit_code"] == -9 and 0.8 <= time.monotonic() - started < 5


async def test_a_late_joiner_keeps_the_whole_session(launcher) -> None:  # type: ignore[no-untyped-def]
    """The bot's clock starts at the join: joining 1.5 s in (past timeout + grace from the start) is fine."""
    instance = launcher(fake_bot(exit_code=0, join_after=1.5, run_for=0.7), launcher_grace_seconds=0.3)
    body = (
        await instance.client.post(
            "/sessions", json={"transport": "websocket", "interview": tiny_interview(0.6)}, headers=AUTH
        )
    ).json()
    ended = await instance.wait_state(body["id"], "ended", "failed", timeout=10)
    assert ended["state"] == "ended" and ended["exit_code"] == 0, ended
    assert ended["joined_at"] is not None and ended["killed"] is None


async def test_a_bot_whose_candidate_never_joins_is_killed_after_the_join_window(launcher) -> None:  # type: ignore[no-untyped-def]
    instance = launcher(fake_bot(ignore_term=True, join_after=None), launcher_grace_seconds=0.3)
    body = (
        await instance.client.post(
            "/sessions", json={"transport": "websocket", "interview": tiny_interview(0.6)}, headers=AUTH
        )
    ).json()
    started = time.monotonic()
    ended = await instance.wait_state(body["id"], "ended", "failed", timeout=15)
    assert ended["exit_reason"] == "session_timeout_exceeded"
    assert JOIN_WINDOW + 0.6 + AFTER_INTERVIEW + 0.3 - 0.2 <= time.monotonic() - started < JOIN_WINDOW + 5


async def test_delete_kills_a_bot_that_ignores_sigterm_after_the_grace(launcher) -> None:  # type: ignore[no-untyped-def]
    instance = launcher(fake_bot(ignore_term=True), launcher_grace_seconds=0.3)
    body = (
        await instance.client.post(
            "/sessions", json={"transport": "websocket", "interview": "senior_backend_engineer"}, headers=AUTH
        )
    ).json()
    await instance.wait_state(body["id"], "running")
    await instance.client.delete(f"/sessions/{body['id']}", headers=AUTH)
    ended = await instance.wait_state(body["id"], "ended", "failed")
    assert ended["exit_code"] == -9 and ended["exit_reason"] == "deleted" and ended["state"] == "ended"


async def test_exit_status_and_record_reason_are_recorded(launcher, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    record = tmp_path / "sessions" / "20990101-000000-aaaaa1"  # a record folder of this launcher's SESSIONS_DIR
    instance = launcher(fake_bot(exit_code=10, record=record, reason="candidate_left"))
    body = (
        await instance.client.post(
            "/sessions", json={"transport": "websocket", "interview": "senior_backend_engineer"}, headers=AUTH
        )
    ).json()
    ended = await instance.wait_state(body["id"], "ended", "failed")
    assert ended["state"] == "ended" and ended["exit_code"] == 10
    assert ended["exit_reason"] == "candidate_left" and ended["record"] == str(record)
    failed = launcher(fake_bot(exit_code=3))
    body = (
        await failed.client.post(
            "/sessions", json={"transport": "websocket", "interview": "senior_backend_engineer"}, headers=AUTH
        )
    ).json()
    ended = await failed.wait_state(body["id"], "ended", "failed")
    assert ended["state"] == "failed" and ended["exit_reason"] == "contract_error"
    assert "Session ready" in Path(ended["log"]).read_text()


async def test_launcher_shutdown_ends_its_children(launcher) -> None:  # type: ignore[no-untyped-def]
    instance = launcher()
    async with instance.app.router.lifespan_context(instance.app):
        body = (
            await instance.client.post(
                "/sessions", json={"transport": "websocket", "interview": "senior_backend_engineer"}, headers=AUTH
            )
        ).json()
        await instance.wait_state(body["id"], "running")
    session = instance.supervisor.sessions[body["id"]]
    assert session.state == "ended" and session.exit_code == 15 and session.killed == "launcher_shutdown"


async def test_report_endpoint_serves_report_html_or_404_saying_why(launcher, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    record = tmp_path / "sessions" / "20990101-000000-aaaaa2"
    instance = launcher(fake_bot(exit_code=0, record=record, reason="completed"))
    assert (await instance.client.get("/sessions/nope/report", headers=AUTH)).status_code == 404
    body = (
        await instance.client.post(
            "/sessions", json={"transport": "websocket", "interview": "senior_backend_engineer"}, headers=AUTH
        )
    ).json()
    assert (await instance.client.get(f"/sessions/{body['id']}/report")).status_code == 401
    await instance.wait_state(body["id"], "ended", "failed")
    missing = await instance.client.get(f"/sessions/{body['id']}/report", headers=AUTH)
    assert missing.status_code == 404 and "no report.html yet" in missing.json()["detail"]
    (record / "report.html").write_text("<!doctype html><title>r</title>", encoding="utf-8")
    served = await instance.client.get(f"/sessions/{body['id']}/report", headers=AUTH)
    assert served.status_code == 200 and served.headers["content-type"].startswith("text/html")
    assert served.text.startswith("<!doctype html>")


async def test_a_request_cannot_name_a_file_and_the_422_quotes_nothing_of_it(launcher, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    secret = tmp_path / "secrets.yaml"
    secret.write_text("password: hunter2-SECRET\nbroken: [unclosed\n", encoding="utf-8")
    instance = launcher()
    for name in (str(secret), "../../etc/passwd", "interview/configs/senior_backend_engineer.yaml"):
        response = await instance.client.post(
            "/sessions", json={"transport": "websocket", "interview": name}, headers=AUTH
        )
        assert response.status_code == 422 and "not a bundled interview" in response.json()["detail"], response.text
        assert "hunter2" not in response.text
    assert instance.argv == []
