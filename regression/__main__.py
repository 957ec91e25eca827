"""`python -m regression consistency sessions/<id> [more ids or folders] [--runs K] [--json]`,
`python -m regression replay sessions/<id> [more ids or folders] [--out DIR] [--config-override KEY=VALUE]`.

Exit status: 0 all within bounds; 1 a rubric area's scores spread more than CONSISTENCY_MAX_SIGMA
(or the judge failed every run), or a replay crossed a regression threshold; 2 bad input (one line
naming the problem); 3 a replay could not run (the bot did not start or wrote no record).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from regression.consistency import (
    DEFAULT_RUN_TIMEOUT,
    DEFAULT_RUNS,
    MAX_RUN_TIMEOUT,
    MAX_RUNS,
    MAX_SESSIONS,
    BoundedScorer,
    SessionConsistency,
    exit_status,
    measure,
    render,
)
from regression.records import RecordError, SessionInput, load_session, record_folders
from regression.replay_compare import DEFAULT_MAX_SLOWER_MS, DEFAULT_MAX_WER_POINTS

BAD_INPUT = 2
REPLAY_FAILED = 3


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]  # one line, exit 2, as any bad input
        raise RecordError(f"{self.prog}: {message}")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="python -m regression",
        description="Regression checks over recorded sessions.",
        formatter_class=argparse.RawDescriptionHelpFormatter,  # the epilog's lines as written (flags never split)
        epilog="consistency RECORD... [--runs K] [--timeout S] [--json]\n"
        "    the judge's score spread per rubric area (python -m regression consistency --help)\n"
        "replay RECORD... [--out DIR] [--max-slower-ms MS] [--max-wer-points P] [--config-override KEY=VALUE]\n"
        "    [--repeat K]\n"
        "    play the recorded candidate into a fresh bot and compare (python -m regression replay --help)\n"
        "Exit 0 ok, 1 flagged or regressed, 2 bad input, 3 a replay could not run.",
    )
    commands = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    c = commands.add_parser(
        "consistency",
        help="evaluate session records several times with the configured judge; report each area's spread",
        description="Evaluate each session record K times with the configured judge (OPENAI_BASE_URL / "
        "OPENAI_API_KEY, else the offline heuristic) and print per session and rubric area the mean and "
        "standard deviation of the score, flagging σ above CONSISTENCY_MAX_SIGMA, and how often the "
        "evaluator's two runs disagreed beyond tolerance.",
    )
    c.add_argument("records", nargs="+", help="session record folders, folders of them, or session ids")
    c.add_argument("--runs", type=int, default=DEFAULT_RUNS, help=f"evaluations per session (2..{MAX_RUNS})")
    c.add_argument("--timeout", type=float, default=DEFAULT_RUN_TIMEOUT,
                   help=f"seconds one judge run may take before it counts as failed (max {MAX_RUN_TIMEOUT:g})")  # fmt: skip
    c.add_argument("--json", action="store_true", help="print the results as JSON instead of the table")
    r = commands.add_parser(
        "replay",
        help="play a recorded session's candidate into a fresh bot in real time; compare then and now",
        description="Start a fresh bot (bot.py --transport websocket --once, the record's interview config, this "
        "environment's engines), play the candidate's answers from recording.wav answer by answer in real time, "
        "and compare per answer: cut off or not, reply delay, what the recogniser heard, tool calls and phase "
        "moves. The new record gets comparison.json. Exit 1 on a new cut-off, a slower reply p50, recognition "
        "differing, or an interview that ended early.",
    )
    r.add_argument("records", nargs="+", help="session record folders, folders of them (a suite), or session ids")
    r.add_argument("--out", type=Path, help="where the new session records go (default: setting SESSIONS_DIR)")
    r.add_argument("--max-slower-ms", type=float, default=DEFAULT_MAX_SLOWER_MS,
                   help=f"regression when the reply p50 is slower by more than this (default {DEFAULT_MAX_SLOWER_MS:g})")  # fmt: skip
    r.add_argument("--max-wer-points", type=float, default=DEFAULT_MAX_WER_POINTS,
                   help="regression when what is heard now differs from then by more than this many WER points "
                   f"(default {DEFAULT_MAX_WER_POINTS:g})")  # fmt: skip
    r.add_argument("--config-override", action="append", default=[], metavar="KEY=VALUE",
                   help="change the interview config the new bot runs with, e.g. "
                   "turn_taking.interview.done_wait_secs=0.1 (repeatable)")  # fmt: skip
    r.add_argument("--repeat", type=int, default=1, metavar="K",
                   help="replay each record K times (1..5) and call a regression only what more than half of "
                   "the runs show (a cut-off at a pause near its wait can go either way run to run)")  # fmt: skip
    return p


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


async def _consistency(args: argparse.Namespace) -> int:
    from services.errors import ProviderConfigError
    from services.scorers import create_scorer
    from settings import Settings

    if not 2 <= args.runs <= MAX_RUNS:
        raise RecordError(f"--runs {args.runs}: give 2 to {MAX_RUNS} evaluations per session")
    if not 0 < args.timeout <= MAX_RUN_TIMEOUT:
        raise RecordError(f"--timeout {args.timeout:g}: give more than 0 and at most {MAX_RUN_TIMEOUT:g} seconds")
    try:
        settings = Settings()
    except ValueError as exc:
        raise RecordError(f"settings: {str(exc).splitlines()[0]}") from None
    folders = record_folders(args.records, settings.sessions_dir)
    if len(folders) > MAX_SESSIONS:
        raise RecordError(f"{len(folders)} session records given: at most {MAX_SESSIONS} per command")
    sessions: list[SessionInput] = [await load_session(folder) for folder in folders]  # all checked before judging
    results: list[SessionConsistency] = []
    for session in sessions:
        try:
            scorer = create_scorer(session.config, settings)
        except ProviderConfigError as exc:
            raise RecordError(f"{session.directory}: {exc}") from None
        _say(f"{session.name}: {args.runs} evaluations with the {scorer.name} judge ({session.answers} answers)")
        try:
            results.append(
                await measure(
                    session,
                    BoundedScorer(scorer, args.timeout),
                    runs=args.runs,
                    max_sigma=settings.consistency_max_sigma,
                    progress=_say,
                )
            )
        finally:
            close = getattr(scorer, "aclose", None)
            if close is not None:
                await close()
    if args.json:
        document = {"runs": args.runs, "max_sigma": settings.consistency_max_sigma,
                    "sessions": [r.to_dict() for r in results], "exit_status": exit_status(results)}  # fmt: skip
        print(json.dumps(document, indent=2))
    else:
        print(render(results, runs=args.runs, max_sigma=settings.consistency_max_sigma))
    return exit_status(results)


async def _replay(args: argparse.Namespace) -> int:
    from regression.replay import replay_inputs, replay_one
    from regression.replay_compare import ComparisonSummary, Thresholds, render, render_suite
    from regression.replay_repeat import MAX_REPEAT, RepeatedComparison, render_repeated
    from settings import Settings

    if not 0 <= args.max_slower_ms <= 60_000:
        raise RecordError(f"--max-slower-ms {args.max_slower_ms:g}: give 0 to 60000 ms")
    if not 0 <= args.max_wer_points <= 100:
        raise RecordError(f"--max-wer-points {args.max_wer_points:g}: give 0 to 100 points")
    if not 1 <= args.repeat <= MAX_REPEAT:
        raise RecordError(f"--repeat {args.repeat}: give 1 to {MAX_REPEAT} runs per record")
    try:
        settings = Settings()
    except ValueError as exc:
        raise RecordError(f"settings: {str(exc).splitlines()[0]}") from None
    inputs = replay_inputs(args.records, settings.sessions_dir, args.config_override)  # all checked first
    thresholds = Thresholds(args.max_slower_ms, args.max_wer_points)
    out = args.out or settings.sessions_dir
    results: list[ComparisonSummary] = []
    for item in inputs:
        runs = []
        for run in range(1, args.repeat + 1):
            of = f" (run {run} of {args.repeat})" if args.repeat > 1 else ""
            _say(f"{item.record.directory.name}: replaying {len(item.answers)} answers in real time{of}")
            comparison = await replay_one(item, out, thresholds, args.config_override, _say)
            _say(f"new record: {comparison.replay}")
            print(f"{item.record.directory} → {comparison.replay}{of}")
            print(render(comparison), flush=True)
            runs.append(comparison)
        if args.repeat > 1:
            repeated = RepeatedComparison(runs)
            print(render_repeated(repeated), flush=True)
            results.append(repeated)
        else:
            results.append(runs[0])
    if len(results) > 1:
        print()
        print(render_suite(results))
    return 1 if any(c.regressions for c in results) else 0


def main(argv: Sequence[str] | None = None) -> int:
    from regression.replay_run import ReplayFailed

    try:
        args = _parser().parse_args(argv)
        return asyncio.run(_replay(args) if args.command == "replay" else _consistency(args))
    except RecordError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return BAD_INPUT
    except ReplayFailed as exc:
        print(f"error: replay failed: {exc}", file=sys.stderr)
        return REPLAY_FAILED


if __name__ == "__main__":
    sys.exit(main())
