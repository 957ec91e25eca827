"""The launcher's warm pool and `bot.py --warm`: hand-over, replacement, crashes, bad hand-over lines.

The pool's own logic runs against small stand-in children (they print the ready line and
echo what they are handed); the real `bot.py --warm` is exercised here for its errors and
end to end in tests/e2e/test_launcher.py.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bots.warm_start import WARM_READY_LINE, HandOverError, parse_hand_over
from launcher.warm_pool import WarmPool

ROOT = Path(__file__).resolve().parents[2]


def stand_in(*, die_before_ready: bool = False) -> list[str]:
    """A warm child: announces it is ready, then prints the hand-over it got and exits 0."""
    code = (
        "import sys\n"
        + ("print('no model here', flush=True); sys.exit(3)\n" if die_before_ready else "")
        + f"print({WARM_READY_LINE!r}, flush=True)\n"
        "line = sys.stdin.readline()\n"
        "print('handed: ' + line.strip(), flush=True)\n"
    )
    return [sys.executable, "-c", code, "--warm"]


def pool_of(size: int, command: list[str]) -> WarmPool:
    return WarmPool(size, command=command, env={"PATH": "/usr/bin:/bin"}, cwd=ROOT, replace_after_seconds=0.3)


async def eventually(condition: Callable[[], bool], timeout: float = 10) -> None:
    async with asyncio.timeout(timeout):
        while not condition():  # noqa: ASYNC110 - polls child processes' state, which has no event
            await asyncio.sleep(0.02)


async def wait_ready(pool: WarmPool, count: int) -> None:
    await eventually(lambda: pool.ready >= count)


async def test_a_ready_child_gets_the_session_flags_and_is_replaced() -> None:
    command = stand_in()
    pool = pool_of(1, command)
    pool.fill()
    try:
        await wait_ready(pool, 1)
        session_command = [*command[:-1], "--transport", "websocket", "--port", "4321"]
        flags = pool.session_flags(session_command)
        assert flags == ["--transport", "websocket", "--port", "4321"]
        bot = pool.take()
        assert bot is not None and bot.warm_seconds is not None
        assert pool.status() == {"size": 1, "ready": 0, "warming": 0}  # its replacement waits for the session
        await eventually(lambda: pool.status()["warming"] + pool.ready == 1)
        assert await bot.hand_over(flags)
        assert bot.process.stdout is not None
        handed = (await bot.process.stdout.readline()).decode()
        assert json.loads(handed.removeprefix("handed: ")) == {"argv": flags}
        assert await bot.process.wait() == 0
        await wait_ready(pool, 1)
    finally:
        await pool.shutdown()


async def test_only_this_pools_bot_is_handed_over_and_size_zero_never_warms() -> None:
    pool = pool_of(1, stand_in())
    assert pool.session_flags([sys.executable, "-c", "print('another program')"]) is None
    empty = pool_of(0, stand_in())
    empty.fill()
    assert empty.take() is None and empty.status() == {"size": 0, "ready": 0, "warming": 0}
    assert empty.session_flags(stand_in()[:-1]) is None


async def test_a_child_that_dies_warming_is_retried_and_the_pool_offers_none_meanwhile() -> None:
    from loguru import logger

    messages: list[str] = []
    sink = logger.add(messages.append, level="WARNING")
    pool = pool_of(1, stand_in(die_before_ready=True))
    pool.fill()
    try:
        await eventually(lambda: bool(messages))
        assert pool.take() is None  # a session now starts cold
        assert "exited 3 before its session" in messages[0] and "no model here" in messages[0]
    finally:
        await pool.shutdown()
        logger.remove(sink)


async def test_an_idle_child_killed_from_outside_is_replaced() -> None:
    pool = pool_of(1, stand_in())
    pool.fill()
    try:
        await wait_ready(pool, 1)
        first = pool._ready[0].process
        first.kill()
        await first.wait()
        await eventually(lambda: pool.ready == 1 and pool._ready[0].process is not first)
    finally:
        await pool.shutdown()


async def test_shutdown_ends_idle_children() -> None:
    pool = pool_of(2, stand_in())
    pool.fill()
    await wait_ready(pool, 2)
    processes = [bot.process for bot in pool._ready]
    await pool.shutdown()
    assert [p.returncode for p in processes] == [0, 0]  # end of input: the stand-in exits 0
    pool.fill()
    assert pool.status()["warming"] == 0  # a closed pool starts nothing


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not json", "not JSON"),
        ('["--port", "1"]', '{"argv": [flag, ...]}'),
        ('{"argv": ["--port", 1]}', "string flags"),
        ('{"argv": ["--warm"]}', "--warm again"),
        ('{"argv": ["' + "x" * 70000 + '"]}', "over 65536 bytes"),
    ],
)
def test_a_bad_hand_over_line_is_refused_naming_what_is_wrong(line: str, message: str) -> None:
    with pytest.raises(HandOverError) as error:
        parse_hand_over(line)
    assert message in str(error.value)


def test_the_real_warm_bot_refuses_other_flags_and_a_bad_line(tmp_path: Path) -> None:
    bot = [sys.executable, str(ROOT / "bot.py")]
    mixed = subprocess.run([*bot, "--warm", "--port", "1"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert mixed.returncode == 2 and "--warm takes no other flags" in mixed.stderr
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_API_SECRET", "_BASE_URL"))}
    env.update(SESSIONS_DIR=str(tmp_path / "sessions"), LOG_LEVEL="WARNING", OPENBLAS_NUM_THREADS="1")
    bad = subprocess.run(
        [*bot, "--warm"], cwd=tmp_path, input="{argv}\n", capture_output=True, text=True, timeout=120, env=env
    )
    assert WARM_READY_LINE in bad.stdout, bad.stderr[-2000:]
    assert bad.returncode == 2 and "--warm: hand-over line is not JSON" in bad.stderr
    unused = subprocess.run(
        [*bot, "--warm"], cwd=tmp_path, input="", capture_output=True, text=True, timeout=120, env=env
    )
    assert unused.returncode == 0  # the pool closed it unused
