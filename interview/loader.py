"""Load an `InterviewConfig` from a file, a bundled name, a dict or a JSON string.

One parser for every source (YAML/JSON files, the room-metadata JSON contract,
inline configs sent to the launcher) so validation rules and error messages are
identical wherever a config comes from. Errors are one line naming the field.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from interview.config import InterviewConfig
from interview.safe_parsing import MAX_TEXT_BYTES, InputLimitError, parse_json, parse_yaml

BUNDLED_CONFIGS_DIR = Path(__file__).parent / "configs"


class ConfigError(ValueError):
    """An interview config that cannot be used; the message names the source and field."""


def bundled_config_names() -> list[str]:
    return sorted(p.stem for p in BUNDLED_CONFIGS_DIR.glob("*.yaml"))


def load_interview_config(source: str | Path) -> InterviewConfig:
    """Load from a path (.yaml/.yml/.json) or the name of a bundled config.

    Paths are for the operator (`--config FILE`, settings); anything a client or a room
    can set goes through `load_bundled_config` instead.
    """
    path = Path(source)
    if not path.exists() and path.suffix == "" and (BUNDLED_CONFIGS_DIR / f"{source}.yaml").exists():
        path = BUNDLED_CONFIGS_DIR / f"{source}.yaml"
    if not path.exists():
        names = ", ".join(bundled_config_names())
        raise ConfigError(f"interview config '{source}': no such file or bundled config (bundled: {names})")
    return _load_file(path)


def load_bundled_config(name: str) -> InterviewConfig:
    """A bundled interview by its name, never a path: what untrusted sources (contracts) may pick."""
    if name not in bundled_config_names():
        names = ", ".join(bundled_config_names())
        raise ConfigError(f"interview {_shown(name)}: not a bundled interview (bundled: {names}); send a config inline")
    return _load_file(BUNDLED_CONFIGS_DIR / f"{name}.yaml")


def _load_file(path: Path) -> InterviewConfig:
    suffix = path.suffix.lower()
    if suffix not in (".yaml", ".yml", ".json"):
        raise ConfigError(f"interview config {path}: unsupported file type '{path.suffix}' (use .yaml or .json)")
    if path.stat().st_size > MAX_TEXT_BYTES:
        raise ConfigError(f"interview config {path}: larger than the {MAX_TEXT_BYTES} bytes allowed")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"interview config {path}: not UTF-8 text (byte {exc.start})") from exc
    if suffix == ".json":
        return config_from_data(parse_json_text(text, f"interview config {path}"), str(path))
    try:
        data = parse_yaml(text)
    except InputLimitError as exc:
        raise ConfigError(f"interview config {path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"interview config {path}: invalid YAML{_yaml_position(exc)}") from exc
    return config_from_data(data, str(path))


def config_from_json(text: str, source: str = "JSON") -> InterviewConfig:
    """Parse the JSON string contract (room metadata, launcher requests)."""
    return config_from_data(parse_json_text(text, f"interview config {source}"), source)


def config_from_data(data: Any, source: str = "config") -> InterviewConfig:
    if not isinstance(data, dict):
        raise ConfigError(f"interview config {source}: expected a mapping at the top level, got {type(data).__name__}")
    try:
        return InterviewConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"interview config {source}: {describe_validation_error(exc)}") from exc


def describe_validation_error(exc: ValidationError) -> str:
    """First error as `field.path: message` (plus a count of the others)."""
    errors = exc.errors()
    first = errors[0]
    location = ".".join(str(part) for part in first["loc"])
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "unknown key"
    text = f"{location}: {message}" if location else message
    if len(errors) > 1:
        text += f" (and {len(errors) - 1} more error(s))"
    return text


def parse_json_text(text: str, where: str, error: type[ConfigError] = ConfigError) -> Any:
    """JSON within the input limits; any problem is `error` starting with `where`."""
    try:
        return parse_json(text)
    except InputLimitError as exc:
        raise error(f"{where}: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise error(f"{where}: invalid JSON: {exc}") from exc


def _yaml_position(exc: yaml.YAMLError) -> str:
    """Where and what, never the file's lines (PyYAML's message quotes them)."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    return f"{where}: {problem}" if problem else where


def _shown(value: str, limit: int = 60) -> str:
    """A client-supplied name quoted safely in an error: repr, cut to `limit` characters."""
    return repr(value if len(value) <= limit else value[:limit] + "...")
