"""The abuse suite's launcher: the real app (in process, over ASGI) running real `bot.py` children.

Shared with tests/unit/test_launcher.py (its settings and stand-in children) and tests/e2e
(the offline bot environment), so an attack here runs the very code a deployment runs.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest

from launcher.app import bot_command, create_app
from launcher.sessions import Supervisor
from tests.e2e.conftest import bot_env, one_question_interview  # noqa: F401 - bot_env is a fixture
from tests.unit.test_launcher import AUTH, settings

__all__ = ["AUTH", "RealLauncher", "one_question_interview"]


class RealLauncher:
    """`create_app` with the real `bot_command` (argv recorded), an ASGI client and polling helpers."""

    def __init__(self, tmp_path: Path, child_env: dict[str, str] | None, **overrides: object) -> None:
        self.settings = settings(tmp_path, **overrides)
        self.argv: list[list[str]] = []

        def command_for(*args):  # type: ignore[no-untyped-def]
            self.argv.append(bot_command(*args))
            return self.argv[-1]

        self.app = create_app(self.settings, child_env=child_env, command_for=command_for)
        self.supervisor: Supervisor = self.app.state.supervisor
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://launcher")

    async def post(self, body: dict) -> httpx.Response:
        return await self.client.post("/sessions", json=body, headers=AUTH)

    async def get(self, session_id: str) -> dict:
        return (await self.client.get(f"/sessions/{session_id}", headers=AUTH)).json()

    async def wait_state(self, session_id: str, *states: str, timeout: float = 30) -> dict:
        """The session once it is in one of `states` (or as it is at the deadline)."""
        deadline = time.monotonic() + timeout
        while (body := await self.get(session_id))["state"] not in states and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        return body

    async def wait_warm(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while self.app.state.warm_pool.ready < 1:
            assert time.monotonic() < deadline, "the warm bot never became ready"
            await asyncio.sleep(0.1)


@pytest.fixture
async def real_launcher(tmp_path: Path, bot_env: dict[str, str]) -> AsyncIterator[Callable[..., RealLauncher]]:  # noqa: F811
    """Make launchers whose children are real offline bots writing under tmp_path/sessions; all shut down after."""
    made: list[tuple[RealLauncher, object]] = []

    async def make(*, os_environ: bool = False, **overrides: object) -> RealLauncher:
        """`os_environ`: the children's environment is built from this process's, as in a deployment."""
        instance = RealLauncher(tmp_path, None if os_environ else bot_env, **overrides)
        lifespan = instance.app.router.lifespan_context(instance.app)
        await lifespan.__aenter__()
        made.append((instance, lifespan))
        return instance

    yield make  # type: ignore[misc]
    for instance, lifespan in reversed(made):
        await lifespan.__aexit__(None, None, None)  # type: ignore[attr-defined]
        await instance.client.aclose()


def pid_alive(pid: int) -> bool:
    """True while `pid` runs (a zombie waiting for its reaper counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def proc_environ(pid: int) -> dict[str, str]:
    """A live process's environment as the kernel holds it."""
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    return dict(item.split("=", 1) for item in raw.decode(errors="replace").split("\0") if "=" in item)
