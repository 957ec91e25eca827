"""Turn-taking on a thinking-pause corpus: silence timeout vs Smart Turn vs the interview strategy.

Each strategy gets the same short interview (one question per corpus answer, no
follow-ups) on the offline engines, and the simulated candidate speaks the corpus in real
time with its Piper voice: answers with 0.8-4 s pauses after conjunctions, mid-clause,
after fillers and between complete sentences, and complete answers of every length.
Printed side by side, in one run:

  * answers cut off: an answer split in two (more candidate lines in the transcript than
    answers), two interviewer replies in a row, or interviewer audio during an answer that is
    neither a listening cue nor a recovered false end;
  * false ends: the turn ended, the interviewer began, the candidate went on - the reply was
    stopped and the answer kept as one (``answer_resumed`` events), with how long the
    interviewer had been talking;
  * reply delay after the real end of the answer (client side, p50 / p95), over the answers
    that were not cut off; and the system's own share of it (server side, from latency.json:
    endpointing + text aggregation + transport, i.e. without STT, LLM and TTS time);
  * backchannel cues said.

    .venv/bin/python scripts/bench_turn_taking.py [--strategies silence smart_turn interview]
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import itertools
import json
import os
import shutil
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
    (
        "complete, long",
        [
            "Every request carries an idempotency key, and we store it in the same transaction as the payment, so a retry just returns the first result."
        ],
    ),
    (
        "between sentences 0.8 s",
        ["We store the key in one transaction.", 0.8, "That way a retry never charges the customer twice."],
    ),
    (
        "after a conjunction 1.5 s",
        ["I'd put a queue in front of the payment service, and", 1.5, "then scale the workers behind it."],
    ),
    ("mid-clause 1.0 s", ["The first thing I would do is", 1.0, "add an idempotency key to every request."]),
    ("after a filler 2.0 s", ["Hmm, let me think.", 2.0, "I'd probably start with the read path and add a cache."]),
    (
        "after a conjunction 2.5 s",
        ["We moved the reconciliation to a nightly job because", 2.5, "the bank only sends statements once a day."],
    ),
    (
        "mid-clause 3.0 s",
        ["We could shard the payments table by", 3.0, "merchant, since most queries are per merchant."],
    ),
    ("complete, medium", ["Honestly, I'd start with monitoring and alerting on the stuck payments."]),
    ("after 'um' 1.5 s", ["The tricky part is, um,", 1.5, "keeping the ledger and the card network in step."]),
    ("mid-sentence 4.0 s", ["What I would look at first is", 4.0, "the slow queries on the primary database."]),
    (
        "between sentences 1.2 s",
        ["The database would break first.", 1.2, "Every payment writes to it, so the connection pool runs out."],
    ),
    (
        "long sentence, then 1.0 s",
        [
            "Every payment goes through the ledger service before it reaches the bank.",
            1.0,
            "That keeps the two in step.",
        ],
    ),
    ("complete, two sentences", ["I would start with the metrics. Then I'd look at the slow queries on the primary."]),
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
    first["questions"] = [{**copy.deepcopy(questions[i % len(questions)]), "follow_up": ""} for i in range(len(CORPUS))]
    config["phases"] = [first]
    config["follow_ups"]["max_per_question"] = 0
    config["duration_minutes"] = 60
    config["timeouts"]["session_timeout_seconds"] = 3600
    config["turn_taking"]["stop_strategy"] = strategy
    config["turn_taking"]["silence_timeout_secs"] = 1.3
    path = directory / f"corpus-{strategy}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def run_strategy(strategy: str, keep: Path | None = None) -> dict[str, object]:
    from scripts.simulate_candidate import run_candidate

    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        sessions = directory / "sessions"
        env = {
            **os.environ,
            "SESSIONS_DIR": str(sessions),
            "STT_PROVIDER": "local",
            "LLM_PROVIDER": "local",
            "TTS_PROVIDER": "local",
        }
        log = keep / f"{strategy}.log" if keep is not None else None
        if log is not None:
            log.parent.mkdir(parents=True, exist_ok=True)
        bot = BotUnderTest(ROOT, corpus_interview(directory, strategy), env, log=log)
        try:
            report = asyncio.run(run_candidate(bot.wait_ready(), corpus_script(directory / "corpus.yaml"), timeout=900))
        finally:
            bot.stop()
        record = next(sessions.iterdir())
        lines = [json.loads(x) for x in (record / "transcript.jsonl").read_text().splitlines() if x.strip()]
        events = [json.loads(x) for x in (record / "events.jsonl").read_text().splitlines() if x.strip()]
        latency = json.loads((record / "latency.json").read_text())
        if keep is not None:
            shutil.copytree(record, keep / strategy, dirs_exist_ok=True)
    cues = sum(1 for e in events if e["type"] == "backchannel")
    resumed = [e for e in events if e["type"] == "answer_resumed"]
    candidate_lines = sum(1 for e in lines if e["speaker"] == "candidate")
    speakers = [e["speaker"] for e in lines][:-1]  # the closing words follow the last acknowledgement
    replies_in_a_row = sum(1 for a, b in itertools.pairwise(speakers) if a == b == "interviewer")
    answered = [t for t in report.turns if t.finished]
    overlapped = sum(1 for t in answered if t.overlapped)
    cut = max(candidate_lines - len(answered), 0) + replies_in_a_row + max(0, overlapped - cues - len(resumed))
    delays = [t.latency_ms for t in answered if t.latency_ms is not None and not t.overlapped]
    system = [_system_share_ms(turn) for turn in latency.get("turns", []) if turn.get("status") == "complete"]
    return {
        "strategy": strategy, "answers": len(answered), "cut_off": cut, "backchannels": cues,
        "false_ends": len(resumed), "talk_over_ms": [round(1000 * e["interviewer_spoke_secs"]) for e in resumed],
        "delay": p50_p95(delays), "system": p50_p95([v for v in system if v is not None]),
        "per_answer": [(CORPUS[t.index][0] if t.index < len(CORPUS) else "?", t.latency_ms, t.overlapped) for t in answered],
    }  # fmt: skip


def _system_share_ms(turn: dict[str, object]) -> float | None:
    """The server's own time in a turn: everything but the STT, LLM and TTS stages."""
    stages = turn.get("stages_ms") or {}
    assert isinstance(stages, dict)
    if stages.get("endpointing") is None:
        return None
    return sum(stages.get(k) or 0.0 for k in ("endpointing", "function_calls", "text_aggregation", "transport"))


def p50_p95(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    if not ordered:
        return float("nan"), float("nan")
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    from loguru import logger

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strategies", nargs="+", default=["silence", "smart_turn", "interview"])
    parser.add_argument("--details", action="store_true", help="print every answer's delay")
    parser.add_argument(
        "--keep",
        type=Path,
        help="copy each strategy's session record here (DIR/<strategy>) and its bot log (DIR/<strategy>.log)",
    )
    args = parser.parse_args()
    logger.remove()
    logger.add(sys.stderr, level="WARNING")
    rows = [run_strategy(s, args.keep) for s in args.strategies]
    print(
        f"\nthinking-pause corpus: {len(CORPUS)} answers, spoken in real time; reply delay = end of answer -> first interviewer audio"
    )
    print(f"{'strategy':<12} {'answers':>8} {'cut off':>8} {'false ends (talk-over ms)':>26} {'reply p50 / p95 (ms)':>22} "
          f"{'system share p50 / p95':>23} {'backchannels':>13}")  # fmt: skip
    for row in rows:
        (d50, d95), (s50, s95) = row["delay"], row["system"]  # type: ignore[misc]
        false_ends = f"{row['false_ends']} {row['talk_over_ms']}" if row["false_ends"] else "0"
        print(f"{row['strategy']:<12} {row['answers']:>8} {row['cut_off']:>8} {false_ends:>26} {d50:>12.0f} / {d95:<7.0f} "
              f"{s50:>13.0f} / {s95:<7.0f} {row['backchannels']:>13}")  # fmt: skip
    if args.details:
        for row in rows:
            print(f"\n{row['strategy']}:")
            for kind, delay, overlapped in row["per_answer"]:  # type: ignore[union-attr]
                print(
                    f"  {kind:<28} {'-' if delay is None else f'{delay:.0f} ms':>9} {'CUT/overlap' if overlapped else ''}"
                )


if __name__ == "__main__":
    main()
