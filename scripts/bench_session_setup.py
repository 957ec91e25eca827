"""What a new session costs the process: services built per connection, time and memory.

Every connection builds its session's STT/LLM/TTS (``services.factory.create_session_services``)
on the server's event loop, so whatever that takes, every live session on the process waits
for. This times N builds in a row (median / p95) and reports RSS after each, so "RSS per added
session" and "freeze per connection" are measured, not guessed. The first build is reported
apart: it includes loading whatever was not preloaded at startup.

    .venv/bin/python scripts/bench_session_setup.py [--sessions 8]
    .venv/bin/python scripts/bench_session_setup.py --compare ../other-checkout   # both sides, one run

With --compare, the same measurement runs in the other checkout (with its own .venv) right
after this one and both are printed side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def measure(sessions: int) -> dict[str, object]:
    """Run inside the checkout being measured (imports its code)."""
    sys.path.insert(0, os.getcwd())
    from loguru import logger

    logger.remove()
    from interview.loader import load_interview_config
    from services import factory
    from settings import Settings

    settings = Settings(_env_file=None, stt_provider="local", llm_provider="local", tts_provider="local")
    config = load_interview_config("senior_backend_engineer")
    baseline = rss_mb()
    started = time.perf_counter()
    preload = getattr(factory, "preload_local_models", None)
    if preload is not None:  # what the server does once at startup
        preload(settings, [config])
    startup_s = time.perf_counter() - started
    after_startup = rss_mb()
    kept, times, rss = [], [], []
    for _ in range(sessions):
        t = time.perf_counter()
        kept.append(
            factory.create_session_services(
                settings, config, persona="interviewer", input_sample_rate=16000, output_sample_rate=24000
            )
        )
        times.append(1000 * (time.perf_counter() - t))
        rss.append(rss_mb())
    per_session = (rss[-1] - rss[0]) / max(1, sessions - 1)
    return {
        "providers": kept[0].providers,
        "startup_preload_s": round(startup_s, 2),
        "rss_start_mb": round(baseline),
        "rss_after_startup_mb": round(after_startup),
        "first_build_ms": round(times[0]),
        "later_builds_ms": [round(x) for x in times[1:]],
        "rss_per_added_session_mb": round(per_session, 1),
        "rss_final_mb": round(rss[-1]),
    }


def run_side(tree: Path, sessions: int) -> dict[str, object]:
    python = tree / ".venv" / "bin" / "python"
    out = subprocess.run(
        [str(python), str(Path(__file__).resolve()), "--child", "--sessions", str(sessions)],
        cwd=tree, capture_output=True, text=True, timeout=600, env={**os.environ, "PYTHONPATH": str(tree)},
    )  # fmt: skip
    if out.returncode != 0:
        raise SystemExit(f"measurement in {tree} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def show(label: str, r: dict[str, object]) -> None:
    later = r["later_builds_ms"] or [float("nan")]
    ordered = sorted(later)  # type: ignore[arg-type]
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    print(f"{label}: {r['providers']}")
    print(f"  startup preload {r['startup_preload_s']} s, RSS {r['rss_start_mb']} -> {r['rss_after_startup_mb']} MB")
    print(f"  per-connection build (blocks the event loop): first {r['first_build_ms']} ms, "
          f"then median {statistics.median(later):.0f} ms / p95 {p95:.0f} ms")  # fmt: skip
    print(f"  RSS per added session {r['rss_per_added_session_mb']} MB (final {r['rss_final_mb']} MB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=8)
    parser.add_argument("--compare", type=Path, help="another checkout (with .venv) to measure the same way")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.sessions)))
        return
    show(f"this checkout ({ROOT.name})", run_side(ROOT, args.sessions))
    if args.compare:
        show(f"compared checkout ({args.compare.resolve().name})", run_side(args.compare.resolve(), args.sessions))


if __name__ == "__main__":
    main()
