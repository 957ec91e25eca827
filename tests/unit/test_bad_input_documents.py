"""Config files, inline configs and session contracts: every corpus case is a one-line error (item 11)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from interview.loader import ConfigError, config_from_json, load_interview_config
from interview.session_contract import ContractError, load_session, parse_session_contract
from tests.bad_inputs import CONTRACT_FIELDS, JSON_DOCUMENTS, NOT_UTF8, YAML_DOCUMENTS


def _one_line(message: str) -> None:
    assert "\n" not in message and len(message) < 600, message[:600]


@pytest.mark.parametrize(("name", "text"), YAML_DOCUMENTS, ids=[n for n, _ in YAML_DOCUMENTS])
def test_bad_yaml_files_are_one_line_config_errors(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_interview_config(path)
    _one_line(str(info.value))


def test_a_yaml_bomb_is_refused_before_it_expands(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(YAML_DOCUMENTS[0][1], encoding="utf-8")
    with pytest.raises(ConfigError, match="aliases"):
        load_interview_config(path)


@pytest.mark.parametrize(("name", "text"), JSON_DOCUMENTS, ids=[n for n, _ in JSON_DOCUMENTS])
def test_bad_json_configs_and_contracts_are_one_line_errors(tmp_path: Path, name: str, text: str) -> None:
    with pytest.raises(ConfigError) as info:
        config_from_json(text)
    _one_line(str(info.value))
    with pytest.raises(ContractError) as info:
        load_session(text)
    _one_line(str(info.value))
    path = tmp_path / "bad.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError):
        load_interview_config(path)


def test_a_file_that_is_not_utf8_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "latin.yaml"
    path.write_bytes(NOT_UTF8)
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_interview_config(path)


def test_an_oversize_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    with path.open("wb") as f:
        f.truncate(50 * 1024 * 1024)  # sparse: 50 MB of nothing
    with pytest.raises(ConfigError, match="larger than"):
        load_interview_config(path)


@pytest.mark.parametrize(("name", "fields"), CONTRACT_FIELDS, ids=[n for n, _ in CONTRACT_FIELDS])
def test_bad_contract_fields_name_the_field(name: str, fields: dict) -> None:
    with pytest.raises(ContractError) as info:
        load_session(json.dumps(fields))
    _one_line(str(info.value))
    assert "room metadata: " in str(info.value)


def test_metadata_that_is_not_text_or_empty_is_a_contract_error() -> None:
    for text in (None, "", "   ", "\x00"):
        with pytest.raises(ContractError):
            parse_session_contract(text)
