"""A scripted LLM judge: the OpenAI emulator answering the evaluator's JSON requests with varying scores.

Why (issue #34, scoring consistency): measuring how much a judge's scores spread needs a judge whose
spread is known. `ScriptedJudge` is a `FakeOpenAIServer` responder that answers every evaluator
request (``response_format: json_object``) with `emulators.scripted.neutral_verdict` — every
requested area, a quote from the candidate's first answer as evidence — but with each area's score
taken from a script: the n-th request about one transcript gets the n-th score of each area's
list (cycling), so every session record sees the same sequence whatever order they are judged in.
Areas without a script keep the neutral mid-scale score; ``None`` in a list means "no score".
Other requests fall through to the server's usual replies.

    python -m emulators.scripted_judge --scores system_design=2,4,3,5,6 --scores communication=7 --port 8999

prints the URL to put in ``OPENAI_BASE_URL``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from emulators.openai import FakeOpenAIServer, FakeResponse
from emulators.scripted import neutral_verdict
from emulators.server import run_cli

Scores = Mapping[str, Sequence[int | None]]


class ScriptedJudge:
    """OpenAI responder: evaluator requests get `scores[area][n % len]` on the n-th request per transcript."""

    def __init__(self, scores: Scores) -> None:
        empty = [area for area, seq in scores.items() if not seq]
        if empty:
            raise ValueError(f"no scores scripted for {', '.join(empty)}")
        self.scores = {area: list(seq) for area, seq in scores.items()}
        self.calls: Counter[str] = Counter()  # requests seen per transcript (digest of the user message)

    def __call__(self, body: dict[str, Any]) -> FakeResponse | None:
        if (body.get("response_format") or {}).get("type") != "json_object":
            return None
        messages = [m for m in body.get("messages", []) if isinstance(m, dict)]
        user = next((str(m.get("content", "")) for m in messages if m.get("role") == "user"), "")
        key = hashlib.sha256(user.encode()).hexdigest()[:16]
        n = self.calls[key]
        self.calls[key] += 1
        verdict = neutral_verdict(body)
        for area, judged in verdict["areas"].items():
            if area in self.scores:
                judged["score"] = self.scores[area][n % len(self.scores[area])]
        return FakeResponse(text=json.dumps(verdict))


def parse_scores(specs: Sequence[str]) -> dict[str, list[int | None]]:
    """``AREA=3,4,none`` items -> {area: [3, 4, None]}; ValueError naming the bad item."""
    out: dict[str, list[int | None]] = {}
    for spec in specs:
        area, sep, values = spec.partition("=")
        if not sep or not area.strip() or not values.strip():
            raise ValueError(f"--scores {spec!r}: expected AREA=N[,N...]")
        try:
            out[area.strip()] = [None if v.strip().lower() == "none" else int(v) for v in values.split(",")]
        except ValueError:
            raise ValueError(f"--scores {spec!r}: scores are whole numbers or none") from None
    return out


def _arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--scores", action="append", default=[], metavar="AREA=N,N,...",
                   help="an area's scores, one per judge request about a transcript, cycling (repeatable)")  # fmt: skip


def _server(args: argparse.Namespace, plan: Any) -> FakeOpenAIServer:
    try:
        judge = ScriptedJudge(parse_scores(args.scores))
    except ValueError as exc:
        raise SystemExit(str(exc)) from None
    return FakeOpenAIServer(responder=judge, api_key=args.api_key, faults=plan, host=args.host, port=args.port)


def main(argv: list[str] | None = None) -> None:
    run_cli(
        _server,
        description="OpenAI emulator whose judge replies carry scripted, varying rubric scores.",
        port=8999,
        setting="OPENAI_BASE_URL",
        argv=argv,
        add_arguments=_arguments,
    )


if __name__ == "__main__":
    main()
