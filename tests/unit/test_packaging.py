"""What ships in the package imports only what ships (issue #13, item 10).

`tests/` is not installed, so a script or module that imports `tests.*` works in a checkout
and breaks for everyone who installed the project (scripts/simulate_phone_call.py did).
"""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _shipped_files() -> list[Path]:
    include = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    folders = {pattern.rstrip("*") for pattern in include}
    return [path for folder in sorted(folders) for path in (ROOT / folder).rglob("*.py")] + [
        ROOT / "bot.py",
        ROOT / "settings.py",
    ]


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_no_shipped_module_imports_the_tests() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(n for n in _imports(path) if n == "tests" or n.startswith("tests."))
        for path in _shipped_files()
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_phone_call_simulator_runs_without_the_tests_folder() -> None:
    code = (
        "import sys, runpy; sys.modules['tests'] = None; sys.argv = ['simulate_phone_call.py', '--help']; "
        f"runpy.run_path({str(ROOT / 'scripts/simulate_phone_call.py')!r}, run_name='__main__')"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "--script" in result.stdout
