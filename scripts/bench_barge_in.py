"""Barge-in: how fast the interviewer stops when talked over, and whether its own echo stops it.

Starts ``bot.py --transport websocket`` (offline engines, an interview of many questions and
no follow-ups) and holds one session per microphone condition with the barge-in caller
(scripts/barge_in_caller.py): a clean microphone, and a speakerphone whose microphone hears
the interviewer back 40 ms late at each ``--echo-db`` level. In every session the candidate
talks over every other reply 1 s after it starts, and listens to the others in full.
Printed side by side, in one run, per condition:

  * time to interruption: the candidate's first audible chunk sent -> the server's
    interruption arriving at the client (p50 / p95); over Twilio (``--transport twilio``,
    the Media Streams caller of scripts/twilio_barge_in.py) the interruption is ``clear``;
  * time until interviewer audio stops playing at the client (p50 / p95);
  * barge-ins that never interrupted;
  * self-interruptions per minute of interviewer speech (interruptions while the candidate
    had been silent for 1.5 s).

    .venv/bin/python scripts/bench_barge_in.py [--barge-ins 6] [--echo-db -6 -12 -18] [--transport websocket twilio]
                                               [--compare ../other] [--details]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from interview.loader import load_interview_config  # noqa: E402
from scripts.barge_in_caller import BargeInCaller, BargeInReport, WebSocketBargeInCaller, percentile  # noqa: E402
from scripts.bench_concurrent_sessions import BotUnderTest  # noqa: E402
from scripts.twilio_barge_in import TwilioBargeInCaller  # noqa: E402

PHONE_ACCOUNT, PHONE_TOKEN, PHONE_HOST = "AC" + "7" * 32, "bench-auth-token", "interviews.example.test"


def many_questions_interview(directory: Path, questions: int) -> Path:
    """One long phase of the example's questions (repeated as needed), no follow-ups."""
    # Only what differs from the defaults: a compared checkout reads it with its own defaults and keys.
    config = load_interview_config("senior_backend_engineer").model_dump(mode="json", exclude_defaults=True)
    bank = [q for phase in config["phases"] for q in phase["questions"]]
    first = config["phases"][0]
    first["questions"] = [{**bank[i % len(bank)], "follow_up": ""} for i in range(questions)]
    first["duration_seconds"] = 3000
    config["phases"] = [first]
    config["follow_ups"] = {"max_per_question": 0}
    config["duration_minutes"] = 60
    config["timeouts"] = {**config.get("timeouts", {}), "session_timeout_seconds": 3600}
    path = directory / "barge-in.json"
    path.write_text(json.dumps(config))  # JSON: repeated questions would become YAML aliases
    return path


def caller(transport: str, url: str, voice: object, echo_db: float | None, barge_ins: int, n: int) -> BargeInCaller:
    if transport == "websocket":
        return WebSocketBargeInCaller(url, voice, echo_db=echo_db, barge_ins=barge_ins)
    server = "http://" + url.split("//", 1)[1].split("/", 1)[0]
    return TwilioBargeInCaller(
        server, voice, public_host=PHONE_HOST, account_sid=PHONE_ACCOUNT, auth_token=PHONE_TOKEN,
        call_sid=f"CA{n:032d}", echo_db=echo_db, barge_ins=barge_ins,
    )  # fmt: skip


def measure_tree(tree: Path, transport: str, conditions: list[float | None], barge_ins: int) -> list[BargeInReport]:
    from scripts.candidate_voice import default_candidate_synthesizer

    voice = default_candidate_synthesizer()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        env = {**os.environ, "SESSIONS_DIR": str(directory / "sessions"), "STT_PROVIDER": "local", "LLM_PROVIDER": "local",
               "TTS_PROVIDER": "local", "FILLER_AFTER_MS": "0", "OPENBLAS_NUM_THREADS": "1",
               "TWILIO_ACCOUNT_SID": PHONE_ACCOUNT, "TWILIO_AUTH_TOKEN": PHONE_TOKEN, "PUBLIC_HOST": PHONE_HOST,
               "TWILIO_STREAM_TOKEN_SECRET": "bench-barge-in"}  # fmt: skip
        bot = BotUnderTest(tree, many_questions_interview(directory, 2 * barge_ins + 4), env, transport=transport)
        try:
            url = bot.wait_ready()
            reports = []
            for n, echo_db in enumerate(conditions):

                async def one(echo_db: float | None = echo_db, n: int = n) -> BargeInReport:
                    return await caller(transport, url, voice, echo_db, barge_ins, n).run(timeout=60 + 25 * barge_ins)

                reports.append(asyncio.run(one()))
                print(
                    f"  {condition_name(echo_db)}: done{' (' + reports[-1].error + ')' if reports[-1].error else ''}",
                    flush=True,
                )
        finally:
            bot.stop()
    return reports


def condition_name(echo_db: float | None) -> str:
    return "clean microphone" if echo_db is None else f"speakerphone echo {echo_db:g} dB"


def show(label: str, reports: list[BargeInReport], details: bool = False) -> None:
    print(f"\n{label}")
    print(
        f"{'microphone':<27}{'barge-ins':>10}{'interruption p50 / p95':>24}{'audio stops p50 / p95':>23}{'missed':>8}{'self-int./min':>15}"
    )
    for r in reports:
        hits = [b.interruption_ms for b in r.barge_ins if b.interruption_ms is not None]
        stops = [b.audio_stop_ms for b in r.barge_ins if b.audio_stop_ms is not None]
        print(
            f"{condition_name(r.echo_db):<27}{len(r.barge_ins):>10}{percentile(hits, 50):>12.0f} / {percentile(hits, 95):<9.0f}"
            f"{percentile(stops, 50):>11.0f} / {percentile(stops, 95):<9.0f}{len(r.barge_ins) - len(hits):>6}"
            f"{r.self_interruptions_per_minute:>10.2f} ({len(r.self_interruptions)} in {r.interviewer_speech_secs / 60:.1f} min)"
        )
        if details:
            each = ", ".join("missed" if b.interruption_ms is None else f"{b.interruption_ms:.0f}" for b in r.barge_ins)
            print(
                f"    interruptions (ms): {each}; self-interruptions at {r.self_interruptions} s{'; ' + r.error if r.error else ''}"
            )


def main() -> None:
    from loguru import logger

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--barge-ins", type=int, default=6, help="barge-ins per microphone condition")
    parser.add_argument(
        "--echo-db", type=float, nargs="*", default=[-6.0, -12.0, -18.0], help="speakerphone echo levels"
    )
    parser.add_argument(
        "--transport",
        nargs="+",
        choices=["websocket", "twilio"],
        default=["websocket"],
        help="twilio: the same calls over Twilio Media Streams (interruption = the server's clear)",
    )
    parser.add_argument("--details", action="store_true", help="print every barge-in")
    parser.add_argument(
        "--compare", type=Path, help="another checkout (with .venv) measured the same way, after this one"
    )
    args = parser.parse_args()
    logger.remove()
    logger.add(sys.stderr, level="WARNING")
    conditions: list[float | None] = [None, *args.echo_db]
    trees = [ROOT, *([args.compare.resolve()] if args.compare else [])]
    results = []
    for transport in args.transport:
        for tree in trees:
            results.append((f"{tree.name} over {transport}", measure_tree(tree, transport, conditions, args.barge_ins)))
            show(results[-1][0], results[-1][1], args.details)  # as soon as measured
    print(
        f"\n=== all: {args.barge_ins} barge-ins per condition, 1 s into a reply; times from the candidate's first audible chunk (ms)"
    )
    for label, reports in results:
        show(label, reports, args.details)


if __name__ == "__main__":
    main()
