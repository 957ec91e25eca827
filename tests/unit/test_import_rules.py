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
