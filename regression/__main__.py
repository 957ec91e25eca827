"""`python -m regression consistency sessions/<id> [more ids or folders] [--runs K] [--json]`.

Exit status: 0 all within bounds, 1 a rubric area's scores spread more than CONSISTENCY_MAX_SIGMA
(or the judge failed every run), 2 bad input (one line naming the problem).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence

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

BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]  # one line, exit 2, as any bad input
        raise RecordError(f"{self.prog}: {message}")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="python -m regression",
        description="Regression checks over recorded sessions.",
        epilog="consistency RECORD... [--runs K] [--timeout S] [--json]: the judge's score spread per rubric area "
        "(python -m regression consistency --help). Exit 0 stable, 1 flagged, 2 bad input.",
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


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
        return asyncio.run(_consistency(args))
    except RecordError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
