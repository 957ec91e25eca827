"""InterviewConfig validation: the bundled examples load, and each bad input names its field."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from interview.config import InterviewConfig, InterviewType
from interview.loader import (
    BUNDLED_CONFIGS_DIR,
    ConfigError,
    bundled_config_names,
    config_from_data,
    config_from_json,
    load_interview_config,
)

EXAMPLES = ["senior_backend_engineer", "qualitative_research"]


def example_data(name: str = "senior_backend_engineer") -> dict[str, Any]:
    return yaml.safe_load((BUNDLED_CONFIGS_DIR / f"{name}.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", EXAMPLES)
def test_bundled_examples_load(name: str) -> None:
    config = load_interview_config(name)
    assert isinstance(config, InterviewConfig)
    assert config.phases and all(q.text for p in config.phases for q in p.questions)
    assert name in bundled_config_names()


def test_bundled_example_loads_by_path() -> None:
    config = load_interview_config(BUNDLED_CONFIGS_DIR / "senior_backend_engineer.yaml")
    assert config.id == "senior_backend_engineer"


def test_qualitative_research_example_shape() -> None:
    config = load_interview_config("qualitative_research")
    assert config.interview_type is InterviewType.qualitative_research
    assert config.phase_ids == ["rapport", "core", "closing"]
    assert all(q.follow_up for p in config.phases for q in p.questions)
    assert 15 <= config.duration_minutes <= 25
    assert sum(p.duration_seconds for p in config.phases) == pytest.approx(config.duration_minutes * 60)
    assert sum(a.weight for a in config.rubric) == pytest.approx(1.0)
    lo, hi = config.score_scale.minimum, config.score_scale.maximum
    assert all(lo <= anchor.score <= hi for area in config.rubric for anchor in area.anchors)


def test_json_string_path_matches_yaml() -> None:
    data = example_data()
    assert config_from_json(json.dumps(data)) == load_interview_config("senior_backend_engineer")


def test_json_file_path(tmp_path: Path) -> None:
    path = tmp_path / "interview.json"
    path.write_text(json.dumps(example_data("qualitative_research")), encoding="utf-8")
    assert load_interview_config(path) == load_interview_config("qualitative_research")


def _set(path: list[Any], value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return mutate


def _duplicate_phase_id(data: dict[str, Any]) -> None:
    data["phases"][1]["id"] = data["phases"][0]["id"]


BAD_CASES: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "weights do not sum to 1": (_set(["rubric", 0, "weight"], 0.9), "rubric: weights must sum to 1"),
    "duplicate phase ids": (_duplicate_phase_id, "phases.1.id: duplicate id"),
    "zero duration": (_set(["phases", 0, "duration_seconds"], 0), "phases.0.duration_seconds"),
    "negative duration": (_set(["phases", 2, "duration_seconds"], -5), "phases.2.duration_seconds"),
    "non-positive interview length": (_set(["duration_minutes"], 0), "duration_minutes"),
    "anchor score above scale": (_set(["rubric", 1, "anchors", 2, "score"], 11), "rubric.1.anchors.2.score"),
    "anchor score below scale": (_set(["rubric", 0, "anchors", 0, "score"], 0), "rubric.0.anchors.0.score"),
    "unknown top-level key": (_set(["colour"], "blue"), "colour: unknown key"),
    "unknown nested key": (_set(["company", "hq"], "Berlin"), "company.hq: unknown key"),
    "unknown deeply nested key": (_set(["phases", 1, "questions", 0, "hint"], "x"), "phases.1.questions.0.hint"),
    "unknown rubric area in a question": (
        _set(["phases", 0, "questions", 0, "rubric_areas"], ["charisma"]),
        "phases.0.questions.0.rubric_areas",
    ),
    "bad interview type": (_set(["interview_type"], "chat"), "interview_type"),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_config_names_the_field(case: str) -> None:
    mutate, expected = BAD_CASES[case]
    data = copy.deepcopy(example_data())
    mutate(data)
    with pytest.raises(ConfigError) as info:
        config_from_data(data)
    assert expected in str(info.value)


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_config_fails_the_same_way_from_json(case: str) -> None:
    mutate, expected = BAD_CASES[case]
    data = copy.deepcopy(example_data())
    mutate(data)
    with pytest.raises(ConfigError, match="JSON") as info:
        config_from_json(json.dumps(data))
    assert expected in str(info.value)


def test_bad_yaml_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("id: x\nphases: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="invalid YAML") as info:
        load_interview_config(path)
    assert "line 3" in str(info.value) or "line 2" in str(info.value)


def test_yaml_errors_never_quote_the_files_lines(tmp_path: Path) -> None:
    """PyYAML's message shows the offending lines; a config error must not (it may reach a client)."""
    path = tmp_path / "leaky.yaml"
    path.write_text("token: SECRET-TOKEN-123\nrole: [unclosed\nother: SECRET-TWO\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="invalid YAML") as info:
        load_interview_config(path)
    assert "SECRET" not in str(info.value) and "\n" not in str(info.value)


def test_bad_json_string() -> None:
    with pytest.raises(ConfigError, match="invalid JSON"):
        config_from_json('{"id": "x",')


@pytest.mark.parametrize("payload", ["[1, 2]", '"text"', "42", "null"])
def test_non_mapping_json(payload: str) -> None:
    with pytest.raises(ConfigError, match="expected a mapping"):
        config_from_json(payload)


def test_non_mapping_yaml_file(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_interview_config(path)


def test_missing_file_lists_bundled_configs() -> None:
    with pytest.raises(ConfigError, match="senior_backend_engineer"):
        load_interview_config("does_not_exist")


def test_unsupported_extension(tmp_path: Path) -> None:
    path = tmp_path / "interview.toml"
    path.write_text("id = 'x'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="unsupported file type"):
        load_interview_config(path)
