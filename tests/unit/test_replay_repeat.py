"""`replay --repeat K`: a regression is what more than half of the runs show (regression/replay_repeat.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from regression.__main__ import main
from regression.replay_answers import Observation
from regression.replay_compare import SessionComparison, Thresholds, compare, render_suite
from regression.replay_repeat import RepeatedComparison, render_repeated


def obs(cut: bool = False, delay: float | None = 800.0, heard: str = "I would use a queue") -> Observation:
    return Observation(heard, cut, delay, [], [])


THEN = [obs(), obs(), obs(cut=True, delay=0.0)]
DEFAULTS = Thresholds()


def run(*now: Observation, thresholds: Thresholds = DEFAULTS) -> SessionComparison:
    return compare("sessions/original", "replay", THEN, list(now), thresholds)


def test_a_cut_off_in_a_minority_of_runs_is_not_a_regression_and_is_shown() -> None:
    repeated = RepeatedComparison([run(obs(), obs(cut=True), obs(cut=True)), run(obs(), obs(), obs()), run(*THEN)])
    assert [repeated.cut_off_now(i) for i in (1, 2, 3)] == [0, 1, 2]
    assert repeated.new_cut_offs == [] and repeated.regressions == []
    text = render_repeated(repeated)
    assert "no regression (new cut-offs in a minority of runs: answer 2 in 1 of 3)" in text
    assert "ok" in render_suite([repeated])


def test_a_cut_off_in_most_runs_is_a_regression() -> None:
    cut = run(obs(), obs(cut=True, delay=0.0), obs(cut=True))
    repeated = RepeatedComparison([cut, cut, run(*THEN)])
    assert repeated.new_cut_offs == [2]
    assert repeated.regressions == ["answer 2: cut off now, not then, in 2 of 3 runs"]
    assert "2 NEW" in render_repeated(repeated).splitlines()[3]
    assert "REGRESSION" in render_suite([repeated])


def test_reply_delay_and_recognition_thresholds_apply_to_the_median_of_runs() -> None:
    limits = Thresholds(max_slower_ms=300, max_wer_points=10)
    fast, slow = obs(delay=900.0), obs(delay=1500.0)
    repeated = RepeatedComparison(
        [run(slow, slow, THEN[2], thresholds=limits), run(fast, fast, THEN[2], thresholds=limits),
         run(slow, slow, THEN[2], thresholds=limits)]
    )  # fmt: skip
    assert repeated.slower_ms == 700.0
    assert repeated.regressions == ["reply p50 slower by 700 ms, median of 3 runs (more than 300)"]
    garbled = obs(heard="a cue")
    mostly_heard = RepeatedComparison(
        [run(garbled, obs(), THEN[2], thresholds=limits), run(*THEN, thresholds=limits), run(*THEN, thresholds=limits)]
    )
    assert mostly_heard.wer_points == 0.0 and mostly_heard.regressions == []


def test_an_interview_that_ended_early_in_most_runs_is_a_regression() -> None:
    short = run(obs())
    assert RepeatedComparison([short, run(*THEN)]).regressions == [], "1 of 2 is not more than half"
    assert RepeatedComparison([short, run(*THEN), run(*THEN)]).regressions == []
    assert RepeatedComparison([short, short, run(*THEN)]).regressions == [
        "the interview ended before every answer was played in 2 of 3 runs"
    ]


@pytest.mark.parametrize("repeat", ["0", "6"])
def test_repeat_out_of_range_is_bad_input(repeat: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", str(tmp_path), "--repeat", repeat]) == 2
    assert f"--repeat {repeat}: give 1 to 5 runs per record" in capsys.readouterr().err
