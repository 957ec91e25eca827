"""Measure POST /sessions -> the bot ready to speak, cold and from the warm pool, and where the time goes.

    python scripts/bench_launcher.py [--sessions 12]

Runs the launcher in process with the real `bot.py` child (websocket transport,
embedded engines, no keys), twice in one run: `LAUNCHER_WARM_POOL=0` (each session a new
process) and `=1` (each session handed to a child that is already loaded; the bench waits
until the pool has one ready before each POST, so every session is a pool hit — the
replacement warms up while the previous session runs). Sessions run one at a time.
Per session:
  listening  POST -> the child serves ws:// (interpreter, imports, settings, config, server)
  ready      POST -> the first audio frame of the bot's greeting reaches a connected client
             (listening + connect + session assembly: services, VAD/turn models, pipeline + first TTS chunk)
Then, for the breakdown, cold child processes that stop after each step: interpreter only, and
interpreter + the imports a session needs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from launcher.app import ROOT, create_app
from scripts.candidate_protocol import BotAudio, decode, encode_message, open_connection, rtvi_client_ready
from settings import Settings

AUTH = {"Authorization": "Bearer bench"}


def child_env(sessions_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_API_SECRET", "_BASE_URL"))}
    env.update(
        SESSIONS_DIR=str(sessions_dir),
        STT_PROVIDER="local",
        LLM_PROVIDER="local",
        TTS_PROVIDER="local",
        LOG_LEVEL="WARNING",
        OPENBLAS_NUM_THREADS="1",
    )
    return env


async def one_session(client: httpx.AsyncClient, warm: bool) -> tuple[float, float]:
    while warm and (await client.get("/sessions", headers=AUTH)).json()["warm_pool"]["ready"] < 1:  # noqa: ASYNC110 - polls state that has no event to await
        await asyncio.sleep(0.02)
    t0 = time.perf_counter()
    created = await client.post(
        "/sessions", json={"transport": "websocket", "interview": "senior_backend_engineer"}, headers=AUTH
    )
    created.raise_for_status()
    session_id = created.json()["id"]
    if created.json()["warm"] != warm:
        raise RuntimeError(f"session {session_id}: expected warm={warm}, got {created.json()['warm']}")
    while (state := (await client.get(f"/sessions/{session_id}", headers=AUTH)).json())["state"] == "starting":  # noqa: ASYNC110 - polls state that has no event to await
        await asyncio.sleep(0.005)
    if state["state"] != "running":
        raise RuntimeError(f"session {session_id} {state['state']}: see {state['log']}")
    listening = time.perf_counter() - t0
    ws = await open_connection(state["ws_url"])
    await ws.send(encode_message(rtvi_client_ready()))
    async for payload in ws:
        if isinstance(decode(payload), BotAudio):
            break
    ready = time.perf_counter() - t0
    await ws.close()
    while (await client.get(f"/sessions/{session_id}", headers=AUTH)).json()["state"] == "running":  # noqa: ASYNC110 - polls state that has no event to await
        await asyncio.sleep(0.05)
    return listening, ready


def child_seconds(code: str, runs: int = 5) -> list[float]:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, check=True, env={**os.environ, "OPENBLAS_NUM_THREADS": "1"}
        )
        times.append(time.perf_counter() - t0)
    return times


def summary(name: str, values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return (
        f"{name:<44} median {statistics.median(values) * 1000:7.0f} ms   p95 {p95 * 1000:7.0f} ms   (n={len(values)})"
    )


async def measure(pool_size: int, sessions: int) -> tuple[list[float], list[float]]:
    """POST -> listening and POST -> first greeting audio for each of ``sessions``, with this pool size."""
    label = "cold" if pool_size == 0 else "warm"
    with tempfile.TemporaryDirectory() as tmp:
        values: dict[str, object] = dict(
            launcher_api_key="bench", sessions_dir=Path(tmp), launcher_grace_seconds=5, launcher_warm_pool=pool_size
        )
        settings = Settings(_env_file=None, **values)  # type: ignore[call-arg,arg-type]
        app = create_app(settings, child_env=child_env(Path(tmp)))
        listening, ready = [], []
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://launcher") as client,
        ):
            for i in range(sessions):
                heard, spoke = await one_session(client, warm=pool_size > 0)
                listening.append(heard)
                ready.append(spoke)
                print(
                    f"{label} session {i + 1:2d}: listening {heard * 1000:6.0f} ms, "
                    f"first greeting audio {spoke * 1000:6.0f} ms",
                    flush=True,
                )
    return listening, ready


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=12, help="sessions per side (cold, warm pool)")
    args = parser.parse_args()
    sides = {"cold (LAUNCHER_WARM_POOL=0)": await measure(0, args.sessions)}
    sides["warm pool (LAUNCHER_WARM_POOL=1)"] = await measure(1, args.sessions)
    for name, (listening, ready) in sides.items():
        print(f"\n{name}")
        print(summary("POST -> bot listening", listening))
        print(summary("POST -> bot ready to speak (first audio)", ready))
        print(summary("  of which: after listening (session build)", [r - h for r, h in zip(ready, listening)]))
    print()
    print(summary("cold child: python interpreter only", child_seconds("pass")))
    print(
        summary(
            "cold child: + imports for a session",
            child_seconds("import bots.runners, services.factory, pipelines.interview"),
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
