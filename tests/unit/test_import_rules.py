"""The house rules the layout depends on, checked on the source itself (no imports run)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at any depth (also inside functions)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


DOMAIN_FILES = sorted((ROOT / "interview").rglob("*.py"))


@pytest.mark.parametrize("path", DOMAIN_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_interview_domain_never_imports_the_framework_or_the_rest_of_the_app(path: Path) -> None:
    """interview/ is plain Python: Pipecat, transports, services and processors stay out of it."""
    forbidden = (
        "pipecat",
        "processors",
        "pipelines",
        "transports",
        "services",
        "bots",
        "launcher",
        "latency",
        "turn_taking",
    )
    offending = sorted(m for m in imported_modules(path) if m.split(".")[0] in forbidden)
    assert not offending, f"{path.relative_to(ROOT)} imports {offending}"


def test_the_rule_sees_imports_inside_functions(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from pipecat.frames.frames import Frame\n    import pipecat.audio\n")
    assert imported_modules(sample) == {"pipecat.frames.frames", "pipecat.audio"}


def test_the_domain_has_files_to_check() -> None:
    assert len(DOMAIN_FILES) > 10


TRANSPORT_KIND_NAMES = {"websocket", "twilio", "daily", "livekit"}
# The one table of kinds, and the room that knows the transports exist.
KIND_TABLE = ROOT / "bots" / "serving.py"
PRODUCT_ROOMS = (
    "bots",
    "launcher",
    "pipelines",
    "processors",
    "services",
    "interview",
    "latency",
    "report",
    "turn_taking",
    "frames",
)


def kind_branches(path: Path) -> list[str]:
    """`x == "daily"`, `x in ("websocket", "twilio")`, `case "livekit":` — a decision on a transport kind's name."""
    found: list[str] = []
    where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        names: list[ast.expr] = []
        if isinstance(node, ast.Compare):
            names = [node.left, *node.comparators]
            names += [e for c in node.comparators if isinstance(c, (ast.Tuple, ast.List, ast.Set)) for e in c.elts]
        elif isinstance(node, ast.MatchValue):
            names = [node.value]
        for name in names:
            if isinstance(name, ast.Constant) and name.value in TRANSPORT_KIND_NAMES:
                found.append(f"{where}:{node.lineno}: {name.value!r}")
    return found


def product_files() -> list[Path]:
    files = [ROOT / "bot.py", ROOT / "settings.py"]
    for room in PRODUCT_ROOMS:
        files += sorted((ROOT / room).rglob("*.py"))
    return [f for f in files if f != KIND_TABLE]


def test_no_transport_kind_is_branched_on_outside_the_table_and_transports() -> None:
    """Transport differences stop at transports/ and the one table (bots/serving.py)."""
    offending = [branch for path in product_files() for branch in kind_branches(path)]
    assert not offending, "branches on a transport kind outside transports/ and bots/serving.py:\n" + "\n".join(
        offending
    )


def test_the_kind_rule_sees_comparisons_memberships_and_match(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        'if kind == "daily":\n    pass\nif kind in ("websocket", "x"):\n    pass\n'
        'match kind:\n    case "livekit":\n        pass\nlabel = "twilio"\n'
    )
    assert [b.split(": ")[1] for b in kind_branches(sample)] == ["'daily'", "'websocket'", "'livekit'"]
