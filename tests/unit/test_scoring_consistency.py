"""Scoring consistency (issue #34, item 3): statistics and flags, bad input, and the command against the emulator."""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from emulators.openai import FakeOpenAIServer
from emulators.scripted_judge import ScriptedJudge, parse_scores
from interview.config import InterviewConfig
from interview.scoring import AreaJudgement, QAPair, ScoringError, ScoringRun
from regression import __main__ as cli
from regression.consistency import BoundedScorer, exit_status, measure, render
from regression.records import load_session, record_folders
from tests.fakes.session_records import write_record

ROOT = Path(__file__).resolve().parents[2]
# Judge scores per request about one transcript; an evaluation takes two requests (its two runs).
SCRIPT = {
    "system_design": [3, 7, 5, 7, 3, 5, 6, 4, 5, 5],  # evaluations 5, 6, 4, 5, 5: σ 0.71; runs 4 apart once
    "communication": [7, 7, 8, 7, 7, 8, 7, 7, 7, 8],  # 7, 7.5, 7.5, 7, 7.5: σ 0.27
    "technical_depth": [2, 9, 9, 2],  # 5.5 every time (σ 0), but the two runs are 7 apart in every evaluation
}  # coding_proficiency: the neutral verdict's mid-scale 5 throughout
EXPECTED = {
    "system_design": ([5, 6, 4, 5, 5], True, 1),  # (scores, flagged, evaluations whose runs disagreed)
    "coding_proficiency": ([5, 5, 5, 5, 5], False, 0),
    "communication": ([7, 7.5, 7.5, 7, 7.5], False, 0),
    "technical_depth": ([5.5] * 5, False, 5),
}


class ListScorer:
    """Scores from a list, one run after another, quoting the candidate so the evidence rules pass."""

    name = "scripted"
    model: str | None = None
    note: str | None = None
    confidence_ceiling = 1.0

    def __init__(self, scores: Sequence[float | None], delay: float = 0.0) -> None:
        self.scores = list(scores)
        self.delay = delay
        self.calls = 0

    async def evaluate(self, config: InterviewConfig, pairs: Sequence[QAPair], *, areas=None) -> ScoringRun:
        await asyncio.sleep(self.delay)
        score = self.scores[self.calls % len(self.scores)]
        self.calls += 1
        if score is None:
            raise ScoringError("scripted failure")
        quote = " ".join(pairs[0].answer.split()[:4])
        return ScoringRun({a: AreaJudgement(score, (quote,), "scripted") for a in config.rubric_area_ids})


@pytest.fixture
def record(tmp_path: Path) -> Path:
    return write_record(tmp_path / "sessions" / "20260105-100000-abc123")


async def test_mean_sigma_flag_and_disagreement_per_area(record: Path) -> None:
    session = await load_session(record)
    assert session.answers == 4 and session.config.disagreement_tolerance == 2.0
    # evaluations: (4,6)=5 agree, (2,8)=5 disagree, (9,9)=9 agree -> 5, 5, 9: σ 2.31 flagged, 1 of 3 disagreed
    result = await measure(session, ListScorer([4, 6, 2, 8, 9, 9]), runs=3, max_sigma=0.5)
    for row in result.areas:
        assert row.scores == [5, 5, 9]
        assert (row.mean, row.sigma, row.flagged) == (6.33, 2.31, True)
        assert (row.compared, row.disagreed) == (3, 1)
    assert result.total.scores == [5, 5, 9] and result.total.flagged
    assert result.judge_runs == 6 and not result.failed_runs
    assert exit_status([result]) == 1


async def test_steady_scores_are_not_flagged_and_the_threshold_is_exclusive(record: Path) -> None:
    session = await load_session(record)
    steady = await measure(session, ListScorer([5, 5, 6, 6]), runs=2, max_sigma=0.71)  # 5, 6: σ 0.707 -> 0.71
    assert [(row.sigma, row.flagged) for row in steady.rows] == [(0.71, False)] * 5
    assert exit_status([steady]) == 0
    assert "flag" in render([steady], runs=2, max_sigma=0.71).splitlines()[3]
    assert "σ > " not in "\n".join(render([steady], runs=2, max_sigma=0.71).splitlines()[4:9])


async def test_failed_runs_are_counted_and_a_judge_that_always_fails_is_an_error(record: Path) -> None:
    session = await load_session(record)
    # evaluation 1: one run failed -> a single-run score, no agreement check; evaluation 2: both scored
    partial = await measure(session, ListScorer([None, 6, 6, 6]), runs=2, max_sigma=0.5)
    row = partial.areas[0]
    assert row.scores == [6, 6] and (row.compared, row.disagreed) == (1, 0)
    assert partial.failed_runs == ["scripted failure"]
    dead = await measure(session, ListScorer([None]), runs=2, max_sigma=0.5)
    assert all(not r.scores and r.sigma is None and not r.flagged for r in dead.rows)
    assert exit_status([dead]) == 1
    assert "judge runs failed: 4/4 (first: scripted failure)" in render([dead], runs=2, max_sigma=0.5)


async def test_a_late_judge_run_fails_at_the_deadline(record: Path) -> None:
    session = await load_session(record)
    result = await measure(session, BoundedScorer(ListScorer([5], delay=5), timeout=0.05), runs=2, max_sigma=0.5)
    assert len(result.failed_runs) == 4 and "did not finish within 0.05s" in result.failed_runs[0]


async def test_pairs_come_from_the_transcript_by_the_sessions_own_pairing(record: Path) -> None:
    session = await load_session(record)
    assert [p.phase for p in session.pairs] == ["introduction", "system_design", "system_design", "coding"]
    assert session.pairs[1].question.startswith("How would you design a service")
    assert session.pairs[1].rubric_areas  # the planned question's areas, as the evaluator tags them


def test_folders_of_records_and_bare_ids_are_expanded(tmp_path: Path) -> None:
    sessions = tmp_path / "sessions"
    a, b = write_record(sessions / "a"), write_record(sessions / "b", kind="hung_up")
    (sessions / "notes").mkdir()
    assert record_folders([str(sessions)], sessions) == [a, b]
    assert record_folders(["b", str(b)], sessions) == [b]  # an id under SESSIONS_DIR; duplicates once


async def test_the_sessions_own_length_feeds_the_recommendation_gate_and_a_broken_evaluation_is_ignored(
    record: Path,
) -> None:
    assert (await load_session(record)).interview_seconds == 87.0
    (record / "evaluation.json").write_text("{")
    assert (await load_session(record)).interview_seconds is None


# --- bad input: one line naming the problem, exit 2 ------------------------------------------------------


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("INTERVIEWER_ENV_FILE", "none")
    monkeypatch.setenv("SESSIONS_DIR", str(tmp_path / "sessions"))
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def _breaks(record: Path, how: str) -> None:
    if how == "no transcript":
        (record / "transcript.jsonl").unlink()
    elif how == "no config":
        (record / "config.json").unlink()
    elif how == "bad transcript line":
        with (record / "transcript.jsonl").open("a") as f:
            f.write("{not json\n")
    elif how == "no answers":
        lines = (record / "transcript.jsonl").read_text().splitlines()
        (record / "transcript.jsonl").write_text("\n".join(x for x in lines if '"candidate"' not in x) + "\n")
    elif how == "invalid interview":
        data = json.loads((record / "config.json").read_text())
        data["interview"]["score_scale"] = {"minimum": 5, "maximum": 1}
        (record / "config.json").write_text(json.dumps(data))
    elif how == "config not json":
        (record / "config.json").write_text("{")


@pytest.mark.parametrize(
    ("how", "named"),
    [
        ("no transcript", "transcript.jsonl is missing"),
        ("no config", "config.json is missing"),
        ("bad transcript line", "transcript.jsonl line 9: not valid JSON"),
        ("no answers", "transcript.jsonl: no candidate answers to score"),
        ("invalid interview", "config.json: score_scale"),
        ("config not json", "config.json: not valid JSON"),
    ],
)
def test_a_broken_record_is_one_line_and_exit_2(
    offline: None, record: Path, how: str, named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _breaks(record, how)
    assert cli.main(["consistency", str(record)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and named in err and str(record) in err, err


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["nowhere"], "nowhere: no such session record folder"),
        (["{tmp}"], "not a session record (no config.json, transcript.jsonl, events.jsonl)"),
        (["{record}/config.json"], "not a folder"),
        (["{record}", "--runs", "1"], "--runs 1: give 2 to 50"),
        (["{record}", "--runs", "51"], "--runs 51: give 2 to 50"),
        (["{record}", "--timeout", "0"], "--timeout 0"),
        (["{record}", "--runs", "many"], "invalid int value"),
        ([], "the following arguments are required: records"),
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(
    offline: None, record: Path, tmp_path: Path, args: list[str], named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "empty").mkdir()
    argv = [a.format(tmp=tmp_path / "empty", record=record) for a in args]
    assert cli.main(["consistency", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and named in err, err


def test_too_many_records_is_refused_before_judging(
    offline: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("a", "b", "c"):
        write_record(tmp_path / "sessions" / name)
    monkeypatch.setattr(cli, "MAX_SESSIONS", 2)
    assert cli.main(["consistency", str(tmp_path / "sessions")]) == 2
    assert "3 session records given: at most 2 per command" in capsys.readouterr().err


def test_scripted_scores_are_parsed_and_checked() -> None:
    assert parse_scores(["a=1,2,none", "b=3"]) == {"a": [1, 2, None], "b": [3]}
    for bad in ("a", "a=", "=1", "a=1,x"):
        with pytest.raises(ValueError, match="--scores"):
            parse_scores([bad])


# --- the real command against the OpenAI emulator ----------------------------------------------------------


async def _command(base_url: str, *args: str) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_BASE_URL"))}
    env.update(INTERVIEWER_ENV_FILE="none", OPENAI_BASE_URL=base_url, OPENAI_API_KEY="test")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "regression", "consistency", *args,
        cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_the_command_against_the_emulator_flags_the_scripted_spread(record: Path) -> None:
    async with FakeOpenAIServer(responder=ScriptedJudge(SCRIPT), api_key="test") as server:
        status, out, err = await _command(server.base_url, str(record), "--runs", "5", "--json")
        assert status == 1, err
        assert len(server.requests) == 10  # 5 evaluations x the evaluator's 2 runs
        table_status, table, _ = await _command(server.base_url, str(record))
    assert "evaluation 5/5" in err
    result = json.loads(out)["sessions"][0]
    assert result["scorer"] == "llm" and result["evaluations"] == 5 and result["failed_judge_runs"] == 0
    for area, (scores, flagged, disagreed) in EXPECTED.items():
        row = result["areas"][area]
        assert row["scores"] == scores, area
        assert row["mean"] == round(statistics.fmean(scores), 2)
        assert row["sigma"] == round(statistics.stdev(scores), 2)
        assert (row["flagged"], row["runs_disagreed"], row["runs_compared"]) == (flagged, disagreed, 5), area
    assert not result["weighted_total"]["flagged"]

    assert table_status == 1
    rows = {line.split()[0]: line for line in table.splitlines() if line.startswith("  ") and line.split()}
    assert rows["system_design"].endswith("1/5  σ > 0.5")
    assert rows["technical_depth"].endswith("5/5") and "σ > 0.5" not in rows["communication"]
    assert "1 of 5 rows flagged" in table and "disagreed beyond tolerance in 6 of 20 area evaluations (30 %)" in table
