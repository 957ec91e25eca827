"""RubricEvaluator: QA pairs with phases from transcript lines, background scoring, evaluation.json."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from bots.session_record import SessionRecord
from interview.config import InterviewConfig
from interview.evaluator import RubricEvaluator
from interview.heuristic_scorer import HeuristicScorer
from interview.interruptions import CUT_NOTE
from interview.loader import load_interview_config
from interview.scoring import AreaJudgement, QAPair, ScoringRun

CONFIG = load_interview_config("senior_backend_engineer")

INTRO_Q = [
    "Welcome, I'm Alex.",
    "Could you tell me about yourself and the backend systems you have worked on recently?",
]
INTRO_A = ["I lead the ledger service at a payments company.", "We moved from nightly batches to streaming."]
DESIGN_Q = "How would you design a service that accepts payments and must never charge a customer twice?"
DESIGN_A = "Each payment carries an idempotency key stored with the ledger entry in one transaction."
BUG_Q = "Tell me about a hard bug you found in production and how you fixed it."
BUG_A = "I reproduced the race with a load test and added a regression test."

Line = tuple[str, str, str]  # (speaker, text, phase), as TranscriptLines hands them on


def script() -> list[Line]:
    """Three turns, as the transcript writes them (the greeting is two interviewer lines)."""
    return [
        ("interviewer", INTRO_Q[0], "introduction"), ("interviewer", INTRO_Q[1], "introduction"),
        ("candidate", " ".join(INTRO_A), "introduction"),
        ("interviewer", DESIGN_Q, "system_design"), ("candidate", DESIGN_A, "system_design"),
        ("interviewer", BUG_Q, "coding"), ("candidate", BUG_A, "coding"),
    ]  # fmt: skip


def feed(evaluator: RubricEvaluator, lines: Sequence[Line]) -> None:
    for speaker, text, phase in lines:
        evaluator.on_line(speaker, text, phase)


def events_of(record: SessionRecord, kind: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in record.events_path.read_text().splitlines()]
    return [line for line in lines if line["type"] == kind]


def make(tmp_path: Path, scorer: Any, config: InterviewConfig = CONFIG, **kwargs: Any):
    record = SessionRecord.create(tmp_path, "t")
    ticks = itertools.count()
    evaluator = RubricEvaluator(config, scorer, events=record, clock=lambda: float(next(ticks)), **kwargs)
    return evaluator, record


class GatedScorer:
    """Per-answer scoring blocks until `gate` is set (a deliberately slow scorer)."""

    name = "gated"
    model = None
    note = None
    confidence_ceiling = 1.0

    def __init__(self, block_final: bool = False) -> None:
        self.gate = asyncio.Event()
        self.started = 0
        self.block_final = block_final
        self.heuristic = HeuristicScorer()

    async def evaluate(self, config, pairs, *, areas: Sequence[str] | None = None) -> ScoringRun:
        if areas is not None or self.block_final:
            self.started += 1
            await self.gate.wait()
        return await self.heuristic.evaluate(config, pairs, areas=areas)


class FailingScorer:
    name = "failing"
    model = "broken-judge"
    note = None
    confidence_ceiling = 1.0

    async def evaluate(self, config, pairs, *, areas=None) -> ScoringRun:
        raise RuntimeError("judge exploded")


# --- QA pairs from lines -------------------------------------------------------------------


async def test_lines_become_phase_tagged_qa_pairs(tmp_path: Path) -> None:
    evaluator, record = make(tmp_path, HeuristicScorer())
    feed(evaluator, script())
    pairs = evaluator.pairs
    assert [(p.phase, p.question, p.answer) for p in pairs] == [
        ("introduction", " ".join(INTRO_Q), " ".join(INTRO_A)),
        ("system_design", DESIGN_Q, DESIGN_A),
        ("coding", BUG_Q, BUG_A),
    ]
    assert [p.rubric_areas for p in pairs] == [
        ("communication",),
        ("system_design", "technical_depth"),
        ("coding_proficiency", "technical_depth"),
    ]
    for earlier, later in itertools.pairwise(pairs):
        assert earlier.answered_at < later.asked_at  # type: ignore[operator]
    assert all(p.asked_at < p.answered_at for p in pairs)  # type: ignore[operator]
    await evaluator.finalize(timeout=10)
    record.close()


async def test_a_cut_question_keeps_what_was_heard_and_an_answer_without_a_question_counts(tmp_path: Path) -> None:
    evaluator, record = make(tmp_path, HeuristicScorer())
    feed(
        evaluator,
        [
            ("candidate", "Hello?", "introduction"),  # the candidate speaks first: no question
            ("interviewer", "Hi!", "introduction"),
            ("interviewer", f"Tell me about yourself— {CUT_NOTE}", "introduction"),  # talked over
            ("candidate", "   ", "introduction"),  # nothing: no pair
            ("candidate", "I build payment systems.", "introduction"),
            ("interviewer", CUT_NOTE, "introduction"),  # nothing of it heard: no question
        ],
    )
    assert [(p.question, p.answer) for p in evaluator.pairs] == [
        ("", "Hello?"),
        ("Hi! Tell me about yourself—", "I build payment systems."),
    ]
    await evaluator.finalize(timeout=10)
    record.close()


# --- scoring in the background ---------------------------------------------------------------


async def test_slow_scoring_never_delays_the_transcript(tmp_path: Path) -> None:
    scorer = GatedScorer()
    evaluator, record = make(tmp_path, scorer)
    feed(evaluator, script())  # returns at once: the gate opens only afterwards
    assert len(evaluator.pairs) == 3
    await asyncio.sleep(0.05)
    assert scorer.started == CONFIG.evaluation.max_concurrency  # bounded: the third waits its turn
    assert events_of(record, "answer_scored") == []

    scorer.gate.set()
    evaluation = await evaluator.finalize(timeout=10)
    scored = events_of(record, "answer_scored")
    assert sorted(e["index"] for e in scored) == [0, 1, 2]
    second = next(e for e in scored if e["index"] == 1)
    assert second["phase"] == "system_design" and second["rubric_areas"] == ["system_design", "technical_depth"]
    assert {s["area"] for s in second["scores"]} == {"system_design", "technical_depth"}
    assert all(s["score"] is not None and s["evidence"] for s in second["scores"])
    assert len(evaluation.answer_scores) == 1 + 2 + 2
    record.close()


async def test_finalize_writes_evaluation_json(tmp_path: Path) -> None:
    evaluator, record = make(tmp_path, HeuristicScorer())
    feed(evaluator, script())
    evaluation = await evaluator.finalize(timeout=10)
    data = json.loads((record.directory / "evaluation.json").read_text())
    assert data == json.loads(json.dumps(evaluation.to_dict()))
    assert data["scorer"] == "heuristic" and "heuristic" in data["note"].lower()
    assert set(data["areas"]) == set(CONFIG.rubric_area_ids)
    for area in data["areas"].values():
        assert len(area["runs"]) == 2
    assert data["areas"]["system_design"]["score"] is not None
    # A scripted interview lasts a second: too short for any recommendation, and the heuristic never gives one.
    assert (
        data["recommendation"] == "insufficient_evidence" and "interview ended after" in data["recommendation_reason"]
    )
    assert data["indicative"] is True and data["interview_seconds"] < 60
    assert 0 <= data["confidence"] <= 0.5
    assert [p["phase"] for p in data["qa_pairs"]] == ["introduction", "system_design", "coding"]
    assert {s["pair_index"] for s in data["answer_scores"]} == {0, 1, 2}
    assert {m["area"] for m in data["missing_areas"]} == set(data["areas"]) - {
        a for a, v in data["areas"].items() if v["score"] is not None
    }
    written = events_of(record, "evaluation_written")
    assert len(written) == 1 and written[0]["recommendation"] == data["recommendation"]
    assert await evaluator.finalize() is evaluation  # idempotent
    record.close()


async def test_failing_scorer_still_writes_a_file_listing_missing_areas(tmp_path: Path) -> None:
    evaluator, record = make(tmp_path, FailingScorer())
    feed(evaluator, script())
    evaluation = await evaluator.finalize(timeout=10)
    data = json.loads((record.directory / "evaluation.json").read_text())
    assert {m["area"] for m in data["missing_areas"]} == set(CONFIG.rubric_area_ids)
    assert all("RuntimeError: judge exploded" in m["reason"] for m in data["missing_areas"])
    assert data["weighted_total"] is None and data["confidence"] == 0
    assert data["recommendation"] == "insufficient_evidence"  # the scripted interview is a second long
    assert data["scorer"] == "failing" and data["model"] == "broken-judge"
    assert len(data["qa_pairs"]) == 3
    failures = events_of(record, "answer_scoring_failed")
    assert sorted(f["index"] for f in failures) == [0, 1, 2]
    assert all("judge exploded" in f["reason"] for f in failures)
    assert evaluation.missing_areas.keys() == set(CONFIG.rubric_area_ids)
    record.close()


async def test_finalize_timeout_cancels_pending_work_and_still_writes(tmp_path: Path) -> None:
    scorer = GatedScorer(block_final=True)  # never released
    evaluator, record = make(tmp_path, scorer, answer_grace_secs=0.1)
    feed(evaluator, script())
    evaluation = await asyncio.wait_for(evaluator.finalize(timeout=0.5), timeout=5)
    assert all("did not finish within 0.5s" in r for r in evaluation.missing_areas.values())
    data = json.loads((record.directory / "evaluation.json").read_text())
    assert len(data["missing_areas"]) == len(CONFIG.rubric_area_ids)
    cancelled = events_of(record, "answer_scoring_cancelled")
    assert cancelled and cancelled[0]["count"] == 3
    record.close()


async def test_cancelled_finalize_leaves_a_partial_file(tmp_path: Path) -> None:
    scorer = GatedScorer(block_final=True)
    evaluator, record = make(tmp_path, scorer, answer_grace_secs=0.01)
    feed(evaluator, [("interviewer", DESIGN_Q, "system_design"), ("candidate", DESIGN_A, "system_design")])
    task = asyncio.create_task(evaluator.finalize(timeout=30))
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    data = json.loads((record.directory / "evaluation.json").read_text())
    assert all("cancelled" in m["reason"] for m in data["missing_areas"])
    assert data["qa_pairs"][0]["question"] == DESIGN_Q
    record.close()


async def test_no_answers_at_all(tmp_path: Path) -> None:
    evaluator, record = make(tmp_path, HeuristicScorer())
    feed(evaluator, [("interviewer", "Hello, can you hear me?", "introduction")])
    evaluation = await evaluator.finalize(timeout=5)
    assert evaluator.pairs == [] and evaluation.weighted_total is None
    assert all("no candidate answers" in r for r in evaluation.missing_areas.values())
    record.close()


def test_scripted_pairs_are_plain_data() -> None:
    pair = QAPair("q", "a", "intro", 1.0, 2.0, ("communication",))
    assert pair.to_dict() == {"question": "q", "answer": "a", "phase": "intro", "asked_at": 1.0,
                              "answered_at": 2.0, "rubric_areas": ["communication"]}  # fmt: skip
    assert AreaJudgement(None).evidence == ()
