"""Turn-taking in real time over the WebSocket transport: strategies side by side on one corpus.

Each strategy gets an interview of one question per corpus answer (no follow-ups) on the offline
engines, and the simulated candidate speaks the answers in real time with its Piper voice, each in
its own delivery style. ``--corpus test`` (the default) is the test half of the generated corpus
(``scripts/turn_corpus.py``; tune on ``dev``, report on ``test``), one session per interview kind
(technical: ``senior_backend_engineer``'s turn-taking; research: ``qualitative_research``'s);
``--corpus legacy`` is the 14 hand-written answers this strategy was first tuned on. Strategies:
``interview`` (words by rule and by the end-of-turn model, Smart Turn, habits), ``rules`` (the
same without the model), and Pipecat's ``smart_turn`` and ``silence``. Printed per category and
kind, and in total:

  * answers cut off: interviewer audio during the answer that is not a listening cue (a short burst
    right after a ``backchannel`` event) — whether or not the answer was later kept as one;
  * reply delay after the real end of the answer (client side, p50 / p95), over answers not cut off;
  * backchannel cues said.

    .venv/bin/python scripts/bench_turn_taking.py [--corpus test|dev|legacy] [--strategies interview rules]
        [--kinds technical research] [--limit N] [--details]
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import os
import shutil
import statistics
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from interview.loader import load_interview_config  # noqa: E402
from scripts.bench_concurrent_sessions import BotUnderTest  # noqa: E402
from scripts.candidate_report import CandidateReport, TurnRecord  # noqa: E402
from scripts.turn_corpus import CorpusAnswer, build_corpus, split  # noqa: E402

CONFIG_FOR_KIND = {"technical": "senior_backend_engineer", "research": "qualitative_research"}
CUE_AUDIO_SECS = 2.0  # a listening cue is shorter than this; interviewer audio past it is a reply

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


def legacy_answers() -> list[CorpusAnswer]:
    """The 14 hand-written answers above, as corpus answers (technical, measured delivery)."""
    question = "How would you approach it?"
    return [
        CorpusAnswer(
            f"legacy-{i}",
            "long_multi_pause",
            "technical",
            "legacy",
            question,
            tuple(segments),
            "measured",
            "dev",
            False,
        )  # type: ignore[arg-type]
        for i, (_kind, segments) in enumerate(CORPUS)
    ]


def corpus_interview(directory: Path, kind: str, answers: list[CorpusAnswer], strategy: str) -> Path:
    """One phase asking exactly the answers' questions, in order, no follow-ups, the given stop strategy."""
    config = load_interview_config(CONFIG_FOR_KIND[kind]).model_dump(mode="json")
    first = config["phases"][0]
    template = first["questions"][0]
    first["questions"] = [{**copy.deepcopy(template), "text": a.question, "follow_up": ""} for a in answers]
    first["duration_seconds"] = 5400
    config["phases"] = [first]
    config["follow_ups"]["max_per_question"] = 0
    config["duration_minutes"] = 90
    config["timeouts"]["session_timeout_seconds"] = 5400
    turn_taking = config["turn_taking"]
    turn_taking["stop_strategy"] = "interview" if strategy == "rules" else strategy
    turn_taking["interview"]["end_of_turn_model"] = strategy != "rules"
    turn_taking["silence_timeout_secs"] = 1.3
    path = directory / f"corpus-{kind}-{strategy}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


class StyledVoice:
    """The candidate's voice with each answer's own delivery style (looked up by the text said)."""

    def __init__(self, answers: list[CorpusAnswer]) -> None:
        from scripts.candidate_voice import candidate_synthesizer

        self._voice = candidate_synthesizer
        self._style = {s: a.style for a in answers for s in a.segments if isinstance(s, str)}

    def synthesize(self, text: str, sample_rate: int) -> bytes:
        return self._voice(self._style.get(text, "measured")).synthesize(text, sample_rate)


@dataclass
class AnswerResult:
    answer: CorpusAnswer
    cut_off: bool
    delay_ms: float | None
    cues: int


def run_session(kind: str, answers: list[CorpusAnswer], strategy: str, keep: Path | None) -> list[AnswerResult]:
    """One real-time interview of these answers; what happened to each."""
    from scripts.simulate_candidate import run_candidate
    from scripts.turn_corpus import as_candidate_script

    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        sessions = directory / "sessions"
        env = {**os.environ, "SESSIONS_DIR": str(sessions), "STT_PROVIDER": "local", "LLM_PROVIDER": "local",
               "TTS_PROVIDER": "local", "OPENBLAS_NUM_THREADS": "1"}  # fmt: skip
        name = f"{kind}-{strategy}"
        log = keep / f"{name}.log" if keep is not None else None
        if log is not None:
            log.parent.mkdir(parents=True, exist_ok=True)
        script = directory / "candidate.yaml"
        script.write_text(yaml.safe_dump(as_candidate_script(answers)))
        bot = BotUnderTest(ROOT, corpus_interview(directory, kind, answers, strategy), env, log=log)
        timeout = 60 + sum(20 + sum(s if isinstance(s, float) else 0.0 for s in a.segments) for a in answers)
        try:
            report = asyncio.run(
                run_candidate(
                    bot.wait_ready(),
                    script,
                    synthesizer=StyledVoice(answers),
                    timeout=timeout,
                    listening_cue_secs=CUE_AUDIO_SECS,
                )
            )
        finally:
            bot.stop()
        record = next(sessions.iterdir())
        events = [json.loads(x) for x in (record / "events.jsonl").read_text().splitlines() if x.strip()]
        if keep is not None:
            shutil.copytree(record, keep / name, dirs_exist_ok=True)
    return judge_answers(answers, report, events)


def judge_answers(
    answers: list[CorpusAnswer], report: CandidateReport, events: list[dict[str, Any]]
) -> list[AnswerResult]:
    """Cut off = interviewer audio during the answer beyond a listening cue after a backchannel event."""
    cue_times = [_client_time(e["t"], report) for e in events if e["type"] == "backchannel"]
    results = []
    by_index: dict[int, TurnRecord] = {t.index: t for t in report.turns}
    for i, answer in enumerate(answers):
        turn = by_index.get(i)
        if turn is None or not turn.finished:
            results.append(AnswerResult(answer, cut_off=True, delay_ms=None, cues=0))  # never said in full
            continue
        cues = [c for c in cue_times if turn.answer_start_time <= c <= turn.answer_end_time]
        bursts = turn.overlap_bursts()
        cut = any(
            seconds > CUE_AUDIO_SECS or not any(c - 0.3 <= start <= c + 1.5 for c in cues) for start, seconds in bursts
        )
        results.append(AnswerResult(answer, cut, None if cut else turn.latency_ms, len(cues)))
    return results


def _client_time(iso: str, report: CandidateReport) -> float:
    return datetime.fromisoformat(iso).timestamp() - report.wall_start


def p50_p95(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    if not ordered:
        return float("nan"), float("nan")
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _row(label: str, results: list[AnswerResult]) -> str:
    delays = [r.delay_ms for r in results if r.delay_ms is not None]
    d50, d95 = p50_p95(delays)
    cut = sum(r.cut_off for r in results)
    return f"{label:<34} {len(results):>7} {cut:>8} {d50:>10.0f} / {d95:<7.0f} {sum(r.cues for r in results):>5}"


def print_results(results: dict[str, list[AnswerResult]], details: bool) -> None:
    print(f"\n{'strategy / kind / category':<34} {'answers':>7} {'cut off':>8} {'reply p50 / p95 ms':>20} {'cues':>5}")
    for strategy, rows in results.items():
        print(_row(strategy, rows))
        groups: dict[tuple[str, str], list[AnswerResult]] = defaultdict(list)
        for r in rows:
            groups[(r.answer.interview, "all")].append(r)
            groups[(r.answer.interview, r.answer.category)].append(r)
        for (kind, category), group in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1] != "all", kv[0][1])):
            print(_row(f"  {kind} {category}", group))
    if details:
        for strategy, rows in results.items():
            print(f"\n{strategy}:")
            for r in rows:
                delay = "-" if r.delay_ms is None else f"{r.delay_ms:.0f} ms"
                print(f"  {r.answer.id:<28} {r.answer.style:<9} {delay:>9} {'CUT' if r.cut_off else ''}")


def main() -> None:
    from loguru import logger

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", choices=["test", "dev", "legacy"], default="test")
    parser.add_argument("--strategies", nargs="+", default=["interview", "rules"],
                        choices=["interview", "rules", "smart_turn", "silence"])  # fmt: skip
    parser.add_argument("--kinds", nargs="+", default=["technical", "research"], choices=list(CONFIG_FOR_KIND))
    parser.add_argument("--limit", type=int, default=0, help="at most N answers per kind (0: all)")
    parser.add_argument("--details", action="store_true", help="print every answer's outcome")
    parser.add_argument("--keep", type=Path, help="copy each session record and bot log here")
    args = parser.parse_args()
    logger.remove()
    logger.add(sys.stderr, level="WARNING")
    if args.corpus == "legacy":
        sets = {"technical": legacy_answers()}
    else:
        corpus = split(build_corpus(), args.corpus)
        sets = {k: [a for a in corpus if a.interview == k] for k in args.kinds}
    if args.limit:
        sets = {k: v[: args.limit] for k, v in sets.items()}
    results: dict[str, list[AnswerResult]] = {}
    for strategy in args.strategies:
        results[strategy] = []
        for kind, answers in sets.items():
            print(f"{strategy}: {kind}, {len(answers)} answers in real time...", file=sys.stderr, flush=True)
            results[strategy].extend(run_session(kind, answers, strategy, args.keep))
    n = sum(len(v) for v in sets.values())
    print(
        f"\ncorpus '{args.corpus}': {n} answers, spoken in real time; reply delay = end of answer -> first interviewer audio"
    )
    print_results(results, args.details)


if __name__ == "__main__":
    main()
