"""The session contract (room metadata JSON): valid, malformed, invalid — errors name the field."""

from __future__ import annotations

import json

import pytest

from interview.loader import load_interview_config
from interview.session_contract import ContractError, load_session, parse_session_contract


def contract(**fields: object) -> str:
    return json.dumps({"interview": "senior_backend_engineer", **fields})


def test_bundled_interview_with_every_override_applied() -> None:
    base = load_interview_config("senior_backend_engineer")
    text = contract(
        candidate_name="Ada",
        candidate_identity="cand-1",
        provider="local",
        model="gpt-4.1-mini",
        voice="en-us+klatt2",
        instructions="Keep questions short.",
        vad_config={"confidence": 0.6, "stop_secs": 0.4},
        phases=[{"id": "intro", "name": "Intro", "duration_seconds": 300, "prompt_suffix": "Warm up."}],
        budget_limit_usd=2.5,
        session_timeout_seconds=base.duration_minutes * 60 + 120,
        created_at="2026-01-02T03:04:05Z",
    )
    parsed, config = load_session(text)
    assert parsed.candidate_identity == "cand-1" and parsed.instructions == "Keep questions short."
    assert parsed.created_at is not None and parsed.created_at.year == 2026
    assert config.candidate_name == "Ada"
    assert (config.providers.stt, config.providers.llm, config.providers.tts) == ("local", "local", "local")
    assert config.providers.llm_model == "gpt-4.1-mini" and config.providers.tts_voice == "en-us+klatt2"
    assert config.turn_taking.vad_confidence == 0.6 and config.turn_taking.vad_stop_secs == 0.4
    assert config.turn_taking.vad_start_secs == base.turn_taking.vad_start_secs
    assert [p.id for p in config.phases] == ["intro"] and config.phases[0].prompt_suffix == "Warm up."
    assert config.budget.limit_usd == 2.5
    assert config.timeouts.session_timeout_seconds == base.duration_minutes * 60 + 120
    assert config.rubric == base.rubric


def test_inline_interview_goes_through_the_config_loader() -> None:
    inline = load_interview_config("qualitative_research").model_dump(mode="json")
    _, config = load_session(json.dumps({"interview": inline}))
    assert config.id == inline["id"]
    inline["rubric"][0]["weight"] = 0.99
    with pytest.raises(ContractError, match=r"interview.*rubric: weights must sum to 1"):
        load_session(json.dumps({"interview": inline}))


def test_round_trip_through_json() -> None:
    parsed = parse_session_contract(contract(candidate_name="Ada", budget_limit_usd=1))
    assert parse_session_contract(parsed.to_json()) == parsed


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", r"room metadata: empty"),
        ("{not json", r"room metadata: invalid JSON"),
        ("[1, 2]", r"expected a JSON object, got list"),
        (json.dumps({"candidate_name": "Ada"}), r"room metadata: interview: Field required"),
        (contract(budget_limit_usd=-1), r"budget_limit_usd: Input should be greater than 0"),
        (contract(provider="carrier"), r"provider: Input should be 'auto', 'cloud' or 'local'"),
        (contract(surprise=1), r"surprise: unknown key"),
        (contract(vad_config={"threshold": 1}), r"vad_config.threshold: unknown key"),
        (contract(phases=[{"id": "Bad Id", "name": "x", "duration_seconds": 60}]), r"phases.0.id"),
        (contract(interview="no_such_interview"), r"not a bundled interview"),
        (contract(session_timeout_seconds=10), r"timeouts.session_timeout_seconds: must be at least"),
        (contract(vad_config={"confidence": 7}), r"turn_taking.vad_confidence"),
    ],
)
def test_malformed_or_invalid_contract_names_the_field(text: str, message: str) -> None:
    with pytest.raises(ContractError, match=message) as info:
        load_session(text)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "name",
    [
        "/etc/passwd",
        "../interview/configs/senior_backend_engineer.yaml",
        "interview/configs/qualitative_research.yaml",
        "SENIOR_BACKEND_ENGINEER",
        "",
    ],
)
def test_the_interview_field_names_a_bundled_interview_never_a_path(name: str) -> None:
    with pytest.raises(ContractError, match="interview") as info:
        load_session(contract(interview=name))
    assert "root:" not in str(info.value)


def test_a_contract_naming_a_readable_file_gets_nothing_of_it(tmp_path) -> None:  # type: ignore[no-untyped-def]
    secret = tmp_path / "leak.yaml"
    secret.write_text("api_key: sk-SECRET-VALUE\nphases: [unclosed\n", encoding="utf-8")
    with pytest.raises(ContractError, match="not a bundled interview") as info:
        load_session(contract(interview=str(secret)))
    assert "SECRET" not in str(info.value)


def test_a_long_name_is_cut_in_the_error() -> None:
    with pytest.raises(ContractError) as info:
        load_session(contract(interview="x" * 5000))
    assert len(str(info.value)) < 400
