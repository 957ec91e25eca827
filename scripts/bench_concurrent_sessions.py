"""Sessions side by side on one bot process: memory per added session, CPU, and latency.

Starts ``bot.py --transport websocket`` (offline engines) once, then runs N simulated
candidates at the same time for each N given (a short interview each), sampling the bot's
RSS and CPU from /proc while they talk. Prints, per N: peak RSS, RSS added per session
over N = 1, bot CPU per session-second, and the candidates' voice-to-voice latency
(median / p95 over all their answers).

    .venv/bin/python scripts/bench_concurrent_sessions.py [--sessions 1 2 3]
    .venv/bin/python scripts/bench_concurrent_sessions.py --compare ../other-checkout

With --compare the other checkout's bot (its own code and .venv) is measured the same way,
right after this one, with this checkout's candidate (same voice, same answers).
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
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from scripts.bench_processors import short_config  # noqa: E402

LISTENING = re.compile(r"listening on (ws://\S+)")
ANSWERS = [
    "I'm a backend engineer with about eight years of experience, mostly payment services in Python and Postgres.",
    "Every payment request carries an idempotency key that we store in the same transaction as the payment record.",
    "Well, the record and the key roll back together, so the client can just send the same request again.",
    "How big is the platform team, and how does the on-call rotation work?",
    "No, that answers my questions. Thanks for your time today.",
]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class BotUnderTest:
    """The bot as a child process of ``tree``, with /proc sampling of its RSS."""

    def __init__(
        self, tree: Path, config: Path, env: dict[str, str], transport: str = "websocket", log: Path | None = None
    ) -> None:
        python = tree / ".venv" / "bin" / "python"
        self._log = open(log, "w") if log is not None else subprocess.DEVNULL  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            [str(python), str(tree / "bot.py"), "--transport", transport, "--port", "0", "--config", str(config)],
            cwd=tree, env=env, stdout=subprocess.PIPE, stderr=self._log, text=True,
        )  # fmt: skip
        self.url: str | None = None
        self._ready = threading.Event()
        self.peak_rss_mb = 0.0
        self._sampling = True
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._sample, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if match := LISTENING.search(line):
                self.url = match.group(1)
                self._ready.set()
        self._ready.set()

    def _sample(self) -> None:
        while self._sampling and self.process.poll() is None:
            self.peak_rss_mb = max(self.peak_rss_mb, self.rss_mb())
            time.sleep(0.1)

    def rss_mb(self) -> float:
        try:
            for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def wait_ready(self) -> str:
        self._ready.wait(180)
        if not self.url:
            raise SystemExit("bot did not start")
        return self.url

    def stop(self) -> None:
        self._sampling = False
        self.process.terminate()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
        if self._log is not subprocess.DEVNULL:
            self._log.close()


async def run_round(url: str, script: Path, sessions: int) -> list[float]:
    from scripts.simulate_candidate import run_candidate

    reports = await asyncio.gather(*(run_candidate(url, script, timeout=400) for _ in range(sessions)))
    return [t.latency_ms for r in reports for t in r.turns if t.latency_ms is not None]


def measure_tree(tree: Path, counts: list[int]) -> list[dict[str, float]]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        script = directory / "candidate.yaml"
        script.write_text(yaml.safe_dump({"default_think_pause": 0.6, "answers": ANSWERS}))
        env = {**os.environ, "SESSIONS_DIR": str(directory / "sessions"), "STT_PROVIDER": "local",
               "LLM_PROVIDER": "local", "TTS_PROVIDER": "local", "MAX_SESSIONS": "50"}  # fmt: skip
        bot = BotUnderTest(tree, short_config(directory), env)
        try:
            url = bot.wait_ready()
            idle_rss = bot.rss_mb()
            for n in counts:
                bot.peak_rss_mb = bot.rss_mb()
                cpu0, t0 = bot.cpu_seconds(), time.monotonic()
                latencies = asyncio.run(run_round(url, script, n))
                cpu, wall = bot.cpu_seconds() - cpu0, time.monotonic() - t0
                ordered = sorted(latencies)
                rows.append({
                    "sessions": n, "idle_rss_mb": idle_rss, "peak_rss_mb": bot.peak_rss_mb,
                    "cpu_ms_per_session_s": 1000 * cpu / (wall * n), "cpu_cores": cpu / wall,
                    "p50_ms": statistics.median(ordered) if ordered else float("nan"),
                    "p95_ms": ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] if ordered else float("nan"),
                    "replies": len(ordered),
                })  # fmt: skip
        finally:
            bot.stop()
    return rows


def show(label: str, rows: list[dict[str, float]]) -> None:
    print(f"\n{label}: idle bot RSS {rows[0]['idle_rss_mb']:.0f} MB")
    print(
        f"{'N':>3} {'peak RSS':>9} {'+RSS/session':>13} {'CPU ms/session-s':>17} {'cores':>6} {'v2v p50 / p95 (ms)':>20} {'replies':>8}"
    )
    base = rows[0]["peak_rss_mb"]
    for row in rows:
        n = row["sessions"]
        per = (row["peak_rss_mb"] - base) / (n - rows[0]["sessions"]) if n != rows[0]["sessions"] else float("nan")
        print(f"{n:>3} {row['peak_rss_mb']:>7.0f} MB {per:>10.1f} MB {row['cpu_ms_per_session_s']:>17.0f} "
              f"{row['cpu_cores']:>6.2f} {row['p50_ms']:>11.0f} / {row['p95_ms']:<7.0f} {int(row['replies']):>8}", flush=True)  # fmt: skip


def main() -> None:
    from loguru import logger

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--compare", type=Path, help="another checkout (with .venv) to measure the same way")
    args = parser.parse_args()
    logger.remove()
    logger.add(sys.stderr, level="WARNING")
    show(f"this checkout ({ROOT.name})", measure_tree(ROOT, args.sessions))
    if args.compare:
        show(f"compared checkout ({args.compare.resolve().name})", measure_tree(args.compare.resolve(), args.sessions))


if __name__ == "__main__":
    main()
