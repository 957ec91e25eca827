"""LLMScorer against a local OpenAI-compatible server: request shape, two runs, retries, evidence rules."""

from __future__ import annotations

import json
from typing import Any

import pytest

from emulators.openai import FakeOpenAIServer, FakeResponse
from interview.heuristic_scorer import HeuristicScorer
from interview.loader import load_interview_config
from interview.prompts import PromptBuilder
from interview.scoring import FLAG_FABRICATED, FLAG_NO_EVIDENCE, QAPair, ScoringError, evaluate_interview, score_answer
from services.scorers import LLMScorer, ScorerConfigError, create_scorer
from settings import Settings

CONFIG = load_interview_config("senior_backend_engineer")
PAIRS = [
    QAPair("Could you tell me about yourself?", "I lead the ledger service. We moved to streaming.", "introduction",
           1.0, 9.5, ("communication",)),
    QAPair("How would you design a payment service?", "Each payment carries an idempotency key stored in one "
           "transaction. Retries return the first result.", "system_design", 12.0, 30.0, ("system_design",)),
    QAPair("Tell me about a hard bug.", "I reproduced the race with a load test and added a regression test.",
           "coding", 40.0, 55.0, ("coding_proficiency",)),
]  # fmt: skip
EVIDENCE = {
    "system_design": ["Each payment carries an idempotency key stored in one transaction."],
    "coding_proficiency": ["I reproduced the race with a load test"],
    "communication": ["I lead the ledger service."],
    "technical_depth": ["stored in one transaction"],
}


def reply(
    scores: dict[str, int | None], evidence: dict[str, list[str]] | None = None, recommendation: str = "yes"
) -> str:
    evidence = EVIDENCE if evidence is None else evidence
    return json.dumps({
        "areas": {a: {"score": s, "evidence": evidence.get(a, []), "rationale": f"{a} rationale"} for a, s in scores.items()},
        "overall": {"recommendation": recommendation, "confidence": 0.8, "summary": "Solid."},
    })  # fmt: skip


ALL_SEVEN = {a: 7 for a in CONFIG.rubric_area_ids}


def scorer_for(server: FakeOpenAIServer, **kwargs: Any) -> LLMScorer:
    return LLMScorer(model="judge-model", api_key="test-key", base_url=server.base_url, http_retries=0, **kwargs)


def is_retry(body: dict[str, Any]) -> bool:
    return any("could not be used" in str(m.get("content")) for m in body["messages"] if m["role"] == "user")


# --- (a) consistent runs and the request itself ---------------------------------------------


async def test_consistent_runs_score_every_area_and_request_is_the_contract() -> None:
    async with FakeOpenAIServer([reply(ALL_SEVEN), reply(ALL_SEVEN)], api_key="test-key") as server:
        scorer = scorer_for(server)
        evaluation = await evaluate_interview(CONFIG, PAIRS, scorer)
        await scorer.aclose()
    assert len(server.requests) == 2
    for body in server.requests:
        assert body["model"] == "judge-model"
        assert body["temperature"] == 0.3
        assert body["response_format"] == {"type": "json_object"}
        assert not body.get("stream")
        system, user = body["messages"]
        assert system == {"role": "system", "content": PromptBuilder(CONFIG).evaluator_prompt().text}
        assert "Score 10:" in system["content"] and "Example answer:" in system["content"]  # anchors calibrate
        assert user["role"] == "user"
        assert "[system_design] Interviewer: How would you design a payment service?" in user["content"]
        assert "[introduction] Candidate: I lead the ledger service. We moved to streaming." in user["content"]
    assert evaluation.scorer == "llm" and evaluation.model == "judge-model"
    assert evaluation.missing_areas == {}
    assert all(a.score == 7 and not a.flags for a in evaluation.areas.values())
    assert evaluation.weighted_total == 7 and evaluation.recommendation == "yes"
    assert evaluation.confidence == 1.0
    assert [r["overall"]["recommendation"] for r in evaluation.runs] == ["yes", "yes"]


async def test_temperature_and_retries_come_from_the_config() -> None:
    config = CONFIG.model_copy(
        update={"evaluation": CONFIG.evaluation.model_copy(update={"temperature": 0.0, "max_retries": 0})}
    )
    async with FakeOpenAIServer(default_text="nope") as server:
        scorer = scorer_for(server)
        evaluation = await evaluate_interview(config, PAIRS, scorer)
        await scorer.aclose()
    assert [b["temperature"] for b in server.requests] == [0.0, 0.0]  # no retries: one request per run
    assert all("1 time(s)" in r for r in evaluation.missing_areas.values())


# --- (b) divergent runs ---------------------------------------------------------------------


async def test_divergent_runs_are_averaged_and_flagged_for_review() -> None:
    first = reply({**ALL_SEVEN, "system_design": 3, "communication": 6})
    second = reply({**ALL_SEVEN, "system_design": 9, "communication": 8})
    async with FakeOpenAIServer([first, second]) as server:
        evaluation = await evaluate_interview(CONFIG, PAIRS, scorer_for(server))
    design, comms = evaluation.areas["system_design"], evaluation.areas["communication"]
    assert design.score == 6 and design.spread == 6 and design.needs_human_review
    assert comms.score == 7 and comms.spread == 2 and not comms.needs_human_review
    assert evaluation.to_dict()["needs_human_review"] == ["system_design"]
    assert evaluation.confidence < 1.0


# --- (c) invalid output: retry with the error fed back, then give up -----------------------


async def test_invalid_json_is_retried_with_the_error_fed_back() -> None:
    def responder(body: dict[str, Any]) -> str:
        if is_retry(body) or sum(1 for b in server.requests if not is_retry(b)) > 1:
            return reply(ALL_SEVEN)
        return "Sure! Here are the scores: {areas: ..."

    async with FakeOpenAIServer(responder=responder) as server:
        evaluation = await evaluate_interview(CONFIG, PAIRS, scorer_for(server))
    assert len(server.requests) == 3
    retry = next(b for b in server.requests if is_retry(b))
    assert retry["messages"][-2] == {"role": "assistant", "content": "Sure! Here are the scores: {areas: ..."}
    assert "invalid JSON" in retry["messages"][-1]["content"]
    assert retry["temperature"] == 0.3 and retry["response_format"] == {"type": "json_object"}
    assert evaluation.missing_areas == {} and all(a.score == 7 for a in evaluation.areas.values())


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        (
            json.dumps({"areas": {a: {"score": "high", "evidence": []} for a in CONFIG.rubric_area_ids}}),
            "schema error at areas",
        ),
        (reply({a: 7 for a in CONFIG.rubric_area_ids if a != "communication"}), "missing communication"),
        (reply({**ALL_SEVEN, "technical_depth": 11}), "outside 1..10"),
        (json.dumps({"areas": ALL_SEVEN, "overall": {"recommendation": "hire", "confidence": 2}}), "schema error"),
    ],
)
async def test_schema_errors_are_retried_with_the_problem_named(bad: str, problem: str) -> None:
    async with FakeOpenAIServer(responder=lambda body: reply(ALL_SEVEN) if is_retry(body) else bad) as server:
        scorer = scorer_for(server)
        run = await scorer.evaluate(CONFIG, PAIRS)
    assert len(server.requests) == 2
    assert problem in server.requests[1]["messages"][-1]["content"]
    assert {a: j.score for a, j in run.areas.items()} == ALL_SEVEN


async def test_always_invalid_gives_up_and_every_area_is_missing_with_the_reason() -> None:
    async with FakeOpenAIServer(default_text="I cannot produce JSON today.") as server:
        evaluation = await evaluate_interview(CONFIG, PAIRS, scorer_for(server))
    assert len(server.requests) == 2 * (CONFIG.evaluation.max_retries + 1)
    assert set(evaluation.missing_areas) == set(CONFIG.rubric_area_ids)
    for reason in evaluation.missing_areas.values():
        assert "judge returned unusable output 3 time(s)" in reason and "invalid JSON" in reason
    assert evaluation.weighted_total is None and evaluation.recommendation is None
    assert [r["ok"] for r in evaluation.to_dict()["runs"]] == [False, False]


async def test_code_fenced_json_is_accepted() -> None:
    async with FakeOpenAIServer(["```json\n" + reply(ALL_SEVEN) + "\n```"]) as server:
        run = await scorer_for(server).evaluate(CONFIG, PAIRS)
    assert len(server.requests) == 1 and run.areas["system_design"].score == 7


async def test_http_errors_give_a_clear_reason() -> None:
    async with FakeOpenAIServer(api_key="right-key") as server:
        scorer = LLMScorer(model="judge-model", api_key="wrong-key", base_url=server.base_url, http_retries=0)
        with pytest.raises(ScoringError, match="judge request failed: AuthenticationError"):
            await scorer.evaluate(CONFIG, PAIRS)
    async with FakeOpenAIServer([FakeResponse(status=500, error_message="overloaded")] * 2) as server:
        evaluation = await evaluate_interview(CONFIG, PAIRS, scorer_for(server))
    assert all("InternalServerError" in r and "overloaded" in r for r in evaluation.missing_areas.values())


# --- (d) fabricated evidence ----------------------------------------------------------------


async def test_fabricated_quotes_are_dropped_and_the_area_flagged() -> None:
    invented = {
        **EVIDENCE,
        "system_design": EVIDENCE["system_design"] + ["We shard the ledger by merchant id."],
        "technical_depth": ["I would use serializable isolation everywhere."],
        "communication": ["How would you design a payment service?"],  # the interviewer's words
    }
    async with FakeOpenAIServer([reply(ALL_SEVEN, invented)] * 2) as server:
        evaluation = await evaluate_interview(CONFIG, PAIRS, scorer_for(server))
    design = evaluation.areas["system_design"]
    assert design.score == 7 and FLAG_FABRICATED in design.flags
    assert design.runs[0].evidence == EVIDENCE["system_design"]
    assert design.runs[0].dropped_evidence == ["We shard the ledger by merchant id."]
    for area_id in ("technical_depth", "communication"):
        area = evaluation.areas[area_id]
        assert area.score is None and FLAG_FABRICATED in area.flags and FLAG_NO_EVIDENCE in area.flags
        assert "no verbatim evidence" in evaluation.missing_areas[area_id]
    assert not evaluation.areas["coding_proficiency"].flags


# --- per-answer scoring ---------------------------------------------------------------------


async def test_score_answer_asks_only_for_the_targeted_areas() -> None:
    answer = json.dumps(
        {"areas": {"system_design": {"score": 8, "evidence": EVIDENCE["system_design"], "rationale": "ok"}}}
    )
    async with FakeOpenAIServer([answer]) as server:
        scores = await score_answer(PAIRS[1], CONFIG, scorer_for(server), index=1)
    user = server.requests[0]["messages"][1]["content"]
    assert "Score only these areas: system_design" in user
    assert "I lead the ledger service" not in user  # only this answer
    assert [(s.area, s.score, s.pair_index) for s in scores] == [("system_design", 8, 1)]


# --- choosing a scorer ----------------------------------------------------------------------


def with_scorer(choice: str):
    return CONFIG.model_copy(update={"evaluation": CONFIG.evaluation.model_copy(update={"scorer": choice})})


def no_llm_settings() -> Settings:
    return Settings(_env_file=None, openai_api_key=None, openai_base_url=None)  # type: ignore[call-arg]


def test_create_scorer_auto_prefers_a_configured_llm(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    assert isinstance(create_scorer(with_scorer("auto"), no_llm_settings()), HeuristicScorer)
    local = Settings(_env_file=None, openai_base_url="http://127.0.0.1:11434/v1", openai_model="llama3")  # type: ignore[call-arg]
    scorer = create_scorer(with_scorer("auto"), local)
    assert isinstance(scorer, LLMScorer) and scorer.model == "llama3"
    judge = with_scorer("llm").model_copy(
        update={"evaluation": with_scorer("llm").evaluation.model_copy(update={"model": "gpt-judge"})}
    )
    assert create_scorer(judge, local).model == "gpt-judge"  # type: ignore[union-attr]
    assert isinstance(create_scorer(with_scorer("heuristic"), local), HeuristicScorer)


def test_create_scorer_llm_without_endpoint_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(ScorerConfigError, match=r"evaluation\.scorer is 'llm'.*OPENAI_API_KEY or OPENAI_BASE_URL"):
        create_scorer(with_scorer("llm"), no_llm_settings())
