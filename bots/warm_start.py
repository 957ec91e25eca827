"""`bot.py --warm`: a bot process that is ready before its session exists (the launcher's warm pool).

Why: a cold `bot.py` spends seconds before it can speak — the interpreter, Pipecat's and the
providers' imports, the embedded models — and a candidate who clicked "start" waits through
all of it. A warm bot does that work first, prints :data:`WARM_READY_LINE`, then blocks on
stdin for one line of JSON, ``{"argv": [...]}``: the flags it would have been started with
(never secrets: a join token stays in its 0600 ``--token-file``). It then runs exactly as
``bot.py <argv>`` would, in this process, with everything already loaded. End of input
without a line (the pool shutting down) exits 0.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import TextIO

from loguru import logger

from bots.exit_codes import EXIT_OK, EXIT_USAGE

WARM_READY_LINE = "Warm bot ready: waiting for a session on stdin"
MAX_LINE_BYTES = 64 * 1024  # a handful of flags and paths; anything bigger is not a hand-over


class HandOverError(ValueError):
    """The line on stdin is not a session's flags; the message names what is wrong."""


def parse_hand_over(line: str) -> list[str]:
    """The ``argv`` list from one hand-over line; HandOverError naming what is wrong."""
    if len(line.encode()) > MAX_LINE_BYTES:
        raise HandOverError(f"hand-over line over {MAX_LINE_BYTES} bytes")
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise HandOverError(f"hand-over line is not JSON ({exc})") from None
    argv = data.get("argv") if isinstance(data, dict) else None
    if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
        raise HandOverError('hand-over line must be {"argv": [flag, ...]} with string flags')
    if "--warm" in argv:
        raise HandOverError("hand-over argv must not ask for --warm again")
    return argv


def warm_up(default_config: str) -> None:
    """Imports a session needs and the embedded models of the default interview, loaded once.

    Best effort: a failure here (bad settings, a missing model) is reported by the session's own
    startup checks once its flags arrive, as for a cold start, so it is only logged.
    """
    try:
        from settings import Settings

        settings = Settings()
        logger.remove()
        logger.add(sys.stderr, level=settings.log_level)
        import bots.runners  # noqa: F401 (the imports are the point)
        import pipelines.interview  # noqa: F401
        from bots.startup_checks import check_sessions_can_start
        from interview.loader import load_interview_config

        check_sessions_can_start(settings, [load_interview_config(default_config)])
    except Exception as exc:  # reported again, properly, by the session's own startup checks
        logger.warning(f"warm-up incomplete ({type(exc).__name__}: {exc}); the session loads what it needs")


def run_when_handed_over(run: Callable[[list[str]], int], *, default_config: str, stdin: TextIO = sys.stdin) -> int:
    """Warm up, say so, wait for the hand-over line, then ``run`` its argv (EXIT_USAGE on a bad line)."""
    warm_up(default_config)
    print(WARM_READY_LINE, flush=True)
    line = stdin.readline(MAX_LINE_BYTES + 1)
    if not line.strip():
        return EXIT_OK  # the pool let this bot go unused
    try:
        argv = parse_hand_over(line)
    except HandOverError as exc:
        print(f"bot.py: error: --warm: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return run(argv)
