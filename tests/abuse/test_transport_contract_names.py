"""Finding 10 (contract strings): `voice` and `model` from a session contract must be plain names.

Whoever writes a room's metadata (or a launcher request) is not the operator. A voice id is put
into ElevenLabs' URL path and a model name into request bodies and the record, so a contract
voice like `x/../../v1/user?` would rewrite the provider URL. Both the contract's own fields and
an inline interview's `providers` / `evaluation` names are checked; the error names the field.
"""

from __future__ import annotations

import json

import pytest

from interview.loader import load_bundled_config
from interview.session_contract import ContractError, load_session

BAD_VOICES = ["x/../../v1/user", "abc?optimize_streaming_latency=0", "a#b", "voice id", "é", "a" * 65, ""]
BAD_MODELS = ["gpt-4o mini", "../../etc/passwd", "m\nINJECTED", "m?x=1", "m&x", "a" * 129]


@pytest.mark.parametrize("voice", BAD_VOICES)
def test_a_contract_voice_that_is_not_a_plain_id_is_refused(voice: str) -> None:
    with pytest.raises(ContractError, match="voice"):
        load_session(json.dumps({"interview": "senior_backend_engineer", "voice": voice}))


@pytest.mark.parametrize("model", BAD_MODELS)
def test_a_contract_model_that_is_not_a_plain_name_is_refused(model: str) -> None:
    with pytest.raises(ContractError, match="model"):
        load_session(json.dumps({"interview": "senior_backend_engineer", "model": model}))


@pytest.mark.parametrize(
    ("section", "field", "value"),
    [("providers", "tts_voice", "a/b?c"), ("providers", "llm_model", "x y"), ("evaluation", "model", "../x")],
)
def test_an_inline_interviews_provider_names_are_held_to_the_same_rules(section: str, field: str, value: str) -> None:
    interview = load_bundled_config("senior_backend_engineer").model_dump(mode="json")
    interview[section][field] = value
    with pytest.raises(ContractError, match=f"{section}.{field}"):
        load_session(json.dumps({"interview": interview}))


def test_real_names_pass() -> None:
    contract, config = load_session(
        json.dumps(
            {
                "interview": "senior_backend_engineer",
                "voice": "21m00Tcm4TlvDq8ikWAM",
                "model": "meta-llama/Llama-3.1-8B:q4",
            }
        )
    )
    assert config.providers.tts_voice == "21m00Tcm4TlvDq8ikWAM" and contract.model == "meta-llama/Llama-3.1-8B:q4"
