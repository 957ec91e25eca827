"""YAML and JSON from outside, parsed within limits: size, nesting depth, no YAML aliases.

Why: configs and session contracts arrive from files, launcher requests and room metadata.
`yaml.safe_load` is safe from code execution but not from a billion-laughs alias bomb (a few
hundred bytes expanding to gigabytes); `json.loads` raises RecursionError, not a decode
error, on deep nesting; and an unbounded text is an unbounded allocation. Here the text is
measured first, YAML is checked event by event (linear in its length) before it is built,
and every refusal is a one-line `InputLimitError` that quotes nothing of the input.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

MAX_TEXT_BYTES = 1024 * 1024  # far above any real interview config (the examples are ~10 KB)
MAX_DEPTH = 32  # the config schema nests 5 deep


class InputLimitError(ValueError):
    """Text refused before parsing; the message says which limit, never the content."""


def parse_yaml(text: str) -> Any:
    """`yaml.safe_load`, after refusing oversize text, aliases and deep nesting."""
    _check_size(text)
    depth = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent):
                raise InputLimitError("YAML aliases (*name) are not allowed")
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    raise InputLimitError(f"nested deeper than {MAX_DEPTH} levels")
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
    except RecursionError:
        raise InputLimitError(f"nested deeper than {MAX_DEPTH} levels") from None
    return yaml.safe_load(text)


def parse_json(text: str | bytes) -> Any:
    """`json.loads`, after refusing oversize text; deep nesting is a limit error, not a crash."""
    _check_size(text)
    try:
        data = json.loads(text)
    except RecursionError:
        raise InputLimitError(f"nested deeper than {MAX_DEPTH} levels") from None
    if _depth(data) > MAX_DEPTH:
        raise InputLimitError(f"nested deeper than {MAX_DEPTH} levels")
    return data


def _check_size(text: str | bytes) -> None:
    size = len(text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text)
    if size > MAX_TEXT_BYTES:
        raise InputLimitError(f"{size} bytes, more than the {MAX_TEXT_BYTES} allowed")


def _depth(value: Any) -> int:
    """Nesting depth without recursion (the value may be as deep as json allowed)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((child, level + 1) for child in children)
    return deepest
