"""The bad-input corpus: what each surface must refuse with a clear error, never a crash.

One place for the cases so every surface's tests draw on the same list (issue #13, item 11).
Each case is (name, payload); the tests say what the answer must be.
"""

from __future__ import annotations

import json

# --- text documents: config files, inline configs, session contracts ---------------------

BILLION_LAUGHS_YAML = "\n".join(
    ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    + [f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]" for i in range(8)]
)
DEEP_YAML = "a: " + "[" * 5000 + "]" * 5000
DEEP_JSON = "[" * 100_000 + "]" * 100_000
DEEP_JSON_OBJECT = '{"a": ' * 50_000 + "1" + "}" * 50_000
HUGE_STRING_JSON = json.dumps({"interview": "senior_backend_engineer", "instructions": "x" * 2_000_000})
NOT_UTF8 = b"\xff\xfe\x00id: x\n"

YAML_DOCUMENTS: list[tuple[str, str]] = [
    ("billion laughs", BILLION_LAUGHS_YAML),
    ("deep nesting", DEEP_YAML),
    ("huge string", "role: " + "x" * 2_000_000),
    ("not a mapping", "- just\n- a list\n"),
    ("unclosed", "phases: [unclosed\n"),
    ("tab indentation", "id: x\n\tphases: []\n"),
    ("empty", ""),
]

JSON_DOCUMENTS: list[tuple[str, str]] = [
    ("deep arrays", DEEP_JSON),
    ("deep objects", DEEP_JSON_OBJECT),
    ("huge string", HUGE_STRING_JSON),
    ("truncated", '{"interview": "senior_backend_engineer",'),
    ("not an object", "[1, 2, 3]"),
    ("null", "null"),
    ("NaN", '{"interview": "senior_backend_engineer", "budget_limit_usd": NaN}'),
]

CONTRACT_FIELDS: list[tuple[str, dict]] = [
    ("interview is a number", {"interview": 42}),
    ("interview is a list", {"interview": ["senior_backend_engineer"]}),
    ("interview is a path", {"interview": "/etc/passwd"}),
    ("candidate name is an object", {"interview": "senior_backend_engineer", "candidate_name": {"first": "Ada"}}),
    ("huge instructions", {"interview": "senior_backend_engineer", "instructions": "x" * 100_000}),
    ("huge name", {"interview": "senior_backend_engineer", "candidate_name": "A" * 10_000}),
    ("negative budget", {"interview": "senior_backend_engineer", "budget_limit_usd": -1}),
    ("budget is a string", {"interview": "senior_backend_engineer", "budget_limit_usd": "lots"}),
    ("unknown field", {"interview": "senior_backend_engineer", "favourite_colour": "blue"}),
    ("phases empty", {"interview": "senior_backend_engineer", "phases": []}),
    ("version 2", {"interview": "senior_backend_engineer", "version": 2}),
]

# --- launcher request bodies (raw bytes) --------------------------------------------------

LAUNCHER_BODIES: list[tuple[str, bytes]] = [
    ("not JSON", b"transport=websocket"),
    ("not UTF-8", b'{"transport": "\xff"}'),
    ("a list", b'["websocket"]'),
    ("a string", b'"websocket"'),
    ("transport is a number", b'{"transport": 5, "interview": "senior_backend_engineer"}'),
    ("transport is null", b'{"transport": null, "interview": "senior_backend_engineer"}'),
    ("deep nesting", ('{"transport": "websocket", "interview": ' + DEEP_JSON + "}").encode()),
    ("empty", b""),
    *((f"contract: {name}", json.dumps({"transport": "websocket", **fields}).encode()) for name, fields in CONTRACT_FIELDS),
]
