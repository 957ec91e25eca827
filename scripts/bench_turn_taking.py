"""Turn-taking on a thinking-pause corpus: silence timeout vs Smart Turn vs the interview strategy.

Each strategy gets the same short interview (one question per corpus answer, no
follow-ups) on the offline engines, and the simulated candidate speaks the corpus in real
time with its Piper voice: answers with 0.8-4 s pauses after conjunctions, mid-clause,
after fillers and between complete sentences, and complete answers of every length.
Printed side by side, in one run:

  * answers cut off: the candidate's turn ended inside an answer (more candidate lines in
    the transcript than answers, or interviewer audio during an answer that is not a cue);
  * reply delay after the real end of the answer (client side, p50 / p95), over the answers
    that were not cut off;
  * backchannel cues said.

    .venv/bin/python scripts/bench_turn_taking.py [--strategies silence smart_turn interview]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from interview.loader import load_interview_config  # noqa: E402
from scripts.bench_concurrent_sessions import BotUnderTest  # noqa: E402

# (kind, segments): a string is said, a number is a pause in seconds inside the answer.
CORPUS: list[tuple[str, list[str | float]]] = [
    ("complete, short", ["I'd keep the ledger in Postgres."]),
    ("complete, long", ["Every request carries an idempotency key, and we store it in the same transaction as the payment, so a retry just returns the first result."]),
    ("between sentences 0.8 s", ["We store the key in one transaction.", 0.8, "That way a retry never charges the customer twice."]),
    ("after a conjunction 1.5 s", ["I'd put a queue in front of the payment service, and", 1.5, "then scale the workers behind it."]),
    ("mid-clause 1.0 s", ["The first thing I would do is", 1.0, "add an idempotency key to every request."]),
    ("after a filler 2.0 s", ["Hmm, let me think.", 2.0, "I'd probably start with the read path and add a cache."]),
    ("after a conjunction 2.5 s", ["We moved the reconciliation to a nightly job because", 2.5, "the bank only sends statements once a day."]),
    ("mid-clause 3.0 s", ["We could shard the payments table by", 3.0, "merchant, since most queries are per merchant."]),
    ("complete, medium", ["Honestly, I'd start with monitoring and alerting on the stuck payments."]),
    ("after 'um' 1.5 s", ["The tricky part is, um,", 1.5, "keeping the ledger and the card network in step."]),
    ("mid-sentence 4.0 s", ["What I would look at first is", 4.0, "the slow queries on the primary database."]),
    ("between sentences 1.2 s", ["The database would break first.", 1.2, "Every payment writes to it, so the connection pool runs out."]),
]


def corpus_script(path: Path) -> Path:
    answers = []
    for _kind, segments in CORPUS:
        parts = [{"say": s} if isinstance(s, str) else {"pause": s} for s in segments]
        answers.append({"think_pause": 0.8, "segments": parts})
    path.write_text(yaml.safe_dump({"name": "thinking-pause corpus", "answers": answers}))
    return path


def corpus_interview(directory: Path, strategy: str) -> Path:
    """One phase, one open question per corpus answer, no follow-ups, the given stop strategy."""
    config = load_interview_config("senior_backend_engineer").model_dump(mode="json")
    questions = [q for phase in config["phases"] for q in phase["questions"]]
    first = config["phases"][0]
    first["questions"] = [{**questions[i % len(questions)], "follow_up": ""} for i in range(len(CORPUS))]
    config["phases"] = [first]
    config["follow_ups"]["max_per_question"] = 0
    config["duration_minutes"] = 60
    config["timeouts"]["session_timeout_seconds"] = 3600
    config["turn_taking"]["stop_strategy"] = strategy
    config["turn_taking"]["silence_timeout_secs"] = 1.3
    path = directory / f"corpus-{strategy}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def run_strategy(strategy: str) -> dict[str, object]:
    from scripts.simulate_candidate import run_candidate

    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        sessions = directory / "sessions"
        env = {**os.environ, "SESSIONS_DIR": str(sessions), "STT_PROVIDER": "local", "LLM_PROVIDER": "local", "TTS_PROVIDER": "local"}
        bot = BotUnderTest(ROOT, corpus_interview(directory, strategy), env)
        try:
            report = asyncio.run(run_candidate(bot.wait_ready(), corpus_script(directory / "corpus.yaml"), timeout=900))
        finally:
            bot.stop()
        record = next(sessions.iterdir())
        lines = [json.loads(x) for x in (record / "transcript.jsonl").read_text().splitlines() if x.strip()]
        events = [json.loads(x) for x in (record / "events.jsonl").read_text().splitlines() if x.strip()]
    cues = sum(1 for e in events if e["type"] == "backchannel")
    candidate_lines = sum(1 for e in lines if e["speaker"] == "candidate")
    answered = [t for t in report.turns if t.finished]
    overlapped = sum(1 for t in answered if t.overlapped)
    cut = max(candidate_lines - len(answered), max(0, overlapped - cues))
    delays = sorted(t.latency_ms for t in answered if t.latency_ms is not None and not t.overlapped)
    return {
        "strategy": strategy, "answers": len(answered), "cut_off": cut, "backchannels": cues,
        "p50_ms": statistics.median(delays) if delays else float("nan"),
        "p95_ms": delays[min(len(delays) - 1, round(0.95 * (len(delays) - 1)))] if delays else float("nan"),
        "per_answer": [(CORPUS[t.index][0] if t.index < len(CORPUS) else "?", t.latency_ms, t.overlapped) for t in answered],
    }  # fmt: skip


def main() -> None:
    from loguru import logger

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strategies", nargs="+", default=["silence", "smart_turn", "interview"])
    parser.add_argument("--details", action="store_true", help="print every answer's delay")
    args = parser.parse_args()
    logger.remove()
    logger.add(sys.stderr, level="WARNING")
    rows = [run_strategy(s) for s in args.strategies]
    print(f"\nthinking-pause corpus: {len(CORPUS)} answers, spoken in real time; reply delay = end of answer -> first interviewer audio")
    print(f"{'strategy':<12} {'answers':>8} {'cut off':>8} {'reply p50 / p95 (ms)':>22} {'backchannels':>13}")
    for row in rows:
        print(f"{row['strategy']:<12} {row['answers']:>8} {row['cut_off']:>8} {row['p50_ms']:>12.0f} / {row['p95_ms']:<7.0f} {row['backchannels']:>13}")
    if args.details:
        for row in rows:
            print(f"\n{row['strategy']}:")
            for kind, delay, overlapped in row["per_answer"]:  # type: ignore[union-attr]
                print(f"  {kind:<28} {'-' if delay is None else f'{delay:.0f} ms':>9} {'CUT/overlap' if overlapped else ''}")


if __name__ == "__main__":
    main()
