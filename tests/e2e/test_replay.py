"""`python -m regression replay`: a session this test records, replayed into fresh bots in real time.

The session is made here (never a committed recording): the real bot with the simulated candidate,
offline engines, a one-question interview whose answer pauses 4 s mid-sentence ("The first thing I
would do is ..."; the interview turn-stop strategy waits for unfinished words, so the original is not
cut off). Replayed
against the same build it shows no regression (exit 0); replayed with the turn-stop waits cut to
a fraction of a second (`--config-override`), the interviewer replies inside that pause: the new
cut-off is reported and the command exits 1.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from scripts.simulate_candidate import run_candidate

from .conftest import ROOT, BotServer, offline_bot_env, one_question_interview, write_yaml

pytestmark = pytest.mark.e2e

PAUSED_ANSWER = {"segments": [{"say": "The first thing I would do is"}, {"pause": 4.0},
                              {"say": "write the payment and its key in one database transaction, so that a retry "
                                      "of the same request finds the first result."}]}  # fmt: skip
SHORT_WAITS = [
    "turn_taking.interview.done_wait_secs=0.2",
    "turn_taking.interview.unsure_wait_secs=0.2",
    "turn_taking.interview.unfinished_wait_secs=0.3",
]
# No timed assertion (DESIGN: performance is measured by scripts, not tests): on this shared 2-core machine
# one reply of the same build took 0.7 s and the next 5.4 s (the bot's own endpointing). The p50 threshold's
# maths are unit tests; the cut-off, the recognition and the actions are what this test holds.
NOISE_MS = "60000"
# Whisper tiny.en mishears ~15 % of Piper's words, and which ones moves with where the VAD cut the audio:
# two passes over the same answer disagreed by up to 19 WER points here. (The cut-off case, where the half
# said after the cut-off is never heard, measured 56-76.)
WER_POINTS = "30"


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("replay")
    config = one_question_interview("replay_screen")
    # Waits long enough for the pause whatever the machine's load (the recogniser's words come late under load).
    config["turn_taking"]["interview"].update(unfinished_wait_secs=6.0, max_wait_secs=8.0)
    script = folder / "candidate.yaml"
    script.write_text(yaml.safe_dump({"name": "e2e", "default_think_pause": 0.5, "answers": [PAUSED_ANSWER]}))
    bot = BotServer(
        ["--config", str(write_yaml(folder / "interview.yaml", config))], offline_bot_env(folder / "sessions")
    )
    try:
        report = asyncio.run(run_candidate(bot.wait_ready(), script, timeout=180))
        assert bot.wait_exit() == 0, "\n".join(bot.output[-40:])
    finally:
        bot.stop()
    assert report.completed, report.to_dict()
    return bot.record_dir()


def replay(record: Path, out: Path, *extra: str) -> tuple[int, str, dict]:
    done = subprocess.run(
        [sys.executable, "-m", "regression", "replay", str(record), "--out", str(out), "--max-slower-ms", NOISE_MS,
         "--max-wer-points", WER_POINTS, *extra],
        cwd=ROOT, env=offline_bot_env(out), capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    replays = [p for p in out.iterdir() if (p / "comparison.json").is_file()]
    assert len(replays) == 1, done.stdout + done.stderr
    return done.returncode, done.stdout + done.stderr, json.loads((replays[0] / "comparison.json").read_text())


async def test_the_same_build_replays_without_regression(recorded: Path, tmp_path: Path) -> None:
    status, output, comparison = await asyncio.to_thread(replay, recorded, tmp_path / "same")
    assert status == 0, output
    summary = comparison["summary"]
    assert summary["played"] == summary["answers"] == 1 and summary["cut_offs_then"] == 0, comparison
    assert summary["new_cut_offs"] == [] and summary["wer_points"] <= float(WER_POINTS), comparison
    answer = comparison["answers"][0]
    assert answer["then"]["reply_delay_ms"] is not None and answer["now"]["reply_delay_ms"] is not None
    assert answer["then"]["tools"] == answer["now"]["tools"] and "end_interview" in answer["now"]["tools"]
    assert "no regression" in output


async def test_a_shortened_turn_stop_wait_shows_the_new_cut_off(recorded: Path, tmp_path: Path) -> None:
    overrides = [arg for o in SHORT_WAITS for arg in ("--config-override", o)]
    status, output, comparison = await asyncio.to_thread(replay, recorded, tmp_path / "short", *overrides)
    assert status == 1, output
    assert comparison["summary"]["new_cut_offs"] == [1], comparison
    assert "answer 1: cut off now, not then" in comparison["regressions"]
    assert comparison["config_overrides"] == SHORT_WAITS
    assert "REGRESSION" in output and "NEW" in output
