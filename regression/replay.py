"""`python -m regression replay RECORD... [--out DIR] [--config-override KEY=VALUE]...`: the command's steps.

Every record is read and cut into answers first (bad input stops the command before any bot starts,
exit 2); then each is replayed into its own fresh bot, the new record gets `comparison.json`, and the
per-answer table is printed (a suite adds one summary row per session). Exit 0 no regression,
1 a threshold crossed (`regression.replay_compare`), 2 bad input, 3 a replay could not run.

`--config-override` changes the interview config the new bot runs with (a dotted key of the
interview config, a YAML value), e.g. `turn_taking.interview.done_wait_secs=0.1`: "what would this
build do with that setting" without editing a file; the result is validated as any interview config.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from interview.loader import ConfigError, config_from_data
from regression.records import RecordError, record_folders
from regression.replay_answers import RecordedAnswer, SessionRecordView, observe_original, observe_replayed, read_record
from regression.replay_answers import recorded_answers as cut_answers
from regression.replay_compare import SessionComparison, Thresholds, compare
from regression.replay_run import ReplayFailed, replay
from report.render import write_report

COMPARISON = "comparison.json"
MAX_OVERRIDES = 50
MAX_SESSIONS = 50


@dataclass(frozen=True)
class ReplayInput:
    record: SessionRecordView
    answers: list[RecordedAnswer]
    interview: dict[str, Any]  # with the overrides applied


def apply_overrides(interview: dict[str, Any], overrides: Sequence[str], where: str) -> dict[str, Any]:
    """The interview config with each KEY=VALUE applied; `RecordError` for an unknown key or an invalid result."""
    if len(overrides) > MAX_OVERRIDES:
        raise RecordError(f"{len(overrides)} --config-override given: at most {MAX_OVERRIDES}")
    changed = json.loads(json.dumps(interview))
    for override in overrides:
        key, sep, raw = override.partition("=")
        if not sep or not key.strip():
            raise RecordError(
                f"--config-override {override!r}: expected KEY=VALUE (e.g. turn_taking.interview.done_wait_secs=0.1)"
            )
        *parents, leaf = key.strip().split(".")
        node: Any = changed
        for part in parents:
            node = node.get(part) if isinstance(node, dict) else None
        if not isinstance(node, dict) or leaf not in node:
            raise RecordError(f"--config-override {key}: no such setting in the interview config")
        try:
            node[leaf] = yaml.safe_load(raw)
        except yaml.YAMLError:
            raise RecordError(f"--config-override {key}: the value {raw!r} is not a YAML value") from None
    try:
        config_from_data(changed, f"{where} with --config-override")
    except ConfigError as exc:
        raise RecordError(str(exc)) from None
    return changed


def replay_inputs(arguments: Sequence[str], sessions_dir: Path, overrides: Sequence[str]) -> list[ReplayInput]:
    """Each record checked and cut into answers; a replay's own record (it has comparison.json) is skipped
    when a folder of records is given, so a suite never replays its replays."""
    folders = record_folders(arguments, sessions_dir)
    named = {Path(a).resolve() for a in arguments}
    folders = [f for f in folders if f.resolve() in named or not (f / COMPARISON).is_file()]
    if not folders:
        raise RecordError("no session records to replay (only replays found)")
    if len(folders) > MAX_SESSIONS:
        raise RecordError(f"{len(folders)} session records given: at most {MAX_SESSIONS} per command")
    inputs = []
    for folder in folders:
        record = read_record(folder)
        inputs.append(
            ReplayInput(record, cut_answers(record), apply_overrides(record.interview, overrides, str(folder)))
        )
    return inputs


async def replay_one(
    item: ReplayInput, out: Path, thresholds: Thresholds, overrides: Sequence[str], say: Callable[[str], None]
) -> SessionComparison:
    """Replay one record; the new record folder gets comparison.json."""
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "SESSIONS_DIR": str(out.resolve())}  # the bot runs in the repository, maybe elsewhere
    with tempfile.TemporaryDirectory(prefix="replay-") as scratch:
        config = Path(scratch) / "interview.json"
        config.write_text(json.dumps(item.interview))
        run = await replay(item.record, item.answers, config, env, say)
    try:
        new = read_record(run.record)
    except RecordError as exc:
        raise ReplayFailed(f"the new session's record is unusable: {exc}") from None
    then = observe_original(item.record, item.answers)
    now = observe_replayed(new, [p.speech for p in run.played], run.interviewer)
    comparison = compare(str(item.record.directory.resolve()), str(run.record.resolve()), then, now, thresholds)
    played = [{"answer": p.index, "speech_s": [p.speech.start, p.speech.end]} for p in run.played]
    heard = [[s.start, s.end] for s in run.interviewer]
    document = {**comparison.to_dict(), "config_overrides": list(overrides),
                "candidate_clock": {"answers": played, "interviewer_heard_s": heard}}  # fmt: skip
    (run.record / COMPARISON).write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    try:  # the bot wrote report.html before the comparison existed: again, with its replay section
        write_report(run.record)
    except Exception as exc:  # the comparison stands without the page
        say(f"report.html not rewritten: {type(exc).__name__}: {exc}")
    return comparison
