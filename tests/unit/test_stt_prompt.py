"""The recogniser prompt names the interview's own terms, within Whisper's budget."""

from __future__ import annotations

import pytest

from interview.loader import bundled_config_names, load_interview_config
from interview.stt_prompt import MAX_PROMPT_WORDS, interview_terms, stt_prompt


@pytest.mark.parametrize("name", bundled_config_names())
def test_prompt_is_short_and_names_the_company_and_candidate(name: str) -> None:
    config = load_interview_config(name)
    prompt = stt_prompt(config, "Ada Lovelace")
    assert len(prompt.split()) <= MAX_PROMPT_WORDS
    assert config.company.name in prompt and "Ada Lovelace" in prompt


def test_rubric_triggers_come_first_then_names_from_the_text() -> None:
    config = load_interview_config("senior_backend_engineer")
    terms = interview_terms(config)
    triggers = list(dict.fromkeys(t for area in config.rubric for t in area.follow_up_triggers))
    kept = [t for t in triggers if t in terms]
    assert len(kept) >= len(triggers) - 3, "only everyday words are left out"
    assert terms[: len(kept)] == kept
    prompt = stt_prompt(config)
    for word in ("idempotency", "shard", "cache", "Kafka", "PostgreSQL", "Kubernetes"):
        assert word in prompt
    assert len({t.lower() for t in terms}) == len(terms), "no duplicates"
