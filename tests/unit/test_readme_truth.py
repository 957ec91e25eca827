"""The README (and docs/) name only what exists (issue #29, item 4: the README had drifted from the code).

Checked: the README's length; every repository path named in backticks or code blocks; every `--flag`
given to `bot.py` or a script (against that command's own `--help`); every UPPER_CASE setting (a field of
`settings.Settings`, a line of `.env.example`, or a variable the code reads); every link to a Markdown
file, with its anchor; and that the Layout block lists exactly the repository's top-level folders.
The parser functions are tested on planted mistakes first, so a check that silently matches nothing fails.
"""

from __future__ import annotations

import functools
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
MAX_README_LINES = 260

# Made by setup, a run or a test, never committed: a fresh clone does not have them.
GENERATED = (".venv/", "sessions/", "web/dist/", "web/node_modules/", "test-artifacts/", ".env")
# Extensions of repository files worth checking when named bare (record files like latency.json are not).
BARE_FILE_SUFFIXES = (".py", ".sh", ".md", ".toml", ".example")
SHELL_BREAKS = {"&&", "||", ";", "|", "&"}


@dataclass(frozen=True)
class Mention:
    """Something the text names, with the line it is on (1-based) for the failure message."""

    text: str
    line: int
    in_code_block: bool = False
    context_folder: str | None = None  # the layout row's folder, for a sub-path such as `configs/`


# ---------------------------------------------------------------- parsing


def code_spans(markdown: str) -> list[Mention]:
    """Inline `code` spans outside fenced blocks (a span may not cross a blank line)."""
    spans: list[Mention] = []
    for block_text, first_line in _prose_blocks(markdown):
        for match in re.finditer(r"`([^`\n]+(?:\n[^`\n]+)*?)`", block_text):
            line = first_line + block_text[: match.start()].count("\n")
            spans.append(Mention(match.group(1).replace("\n", " "), line))
    return spans


def code_blocks(markdown: str) -> list[tuple[str, int]]:
    """Fenced blocks: (body, line of the first body line)."""
    blocks: list[tuple[str, int]] = []
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].lstrip().startswith("```"):
            start = i + 1
            j = start
            while j < len(lines) and not lines[j].lstrip().startswith("```"):
                j += 1
            blocks.append(("\n".join(lines[start:j]), start + 1))
            i = j + 1
        else:
            i += 1
    return blocks


def _prose_blocks(markdown: str) -> list[tuple[str, int]]:
    """Paragraphs outside fenced blocks: (text, line of its first line)."""
    out: list[tuple[str, int]] = []
    current: list[str] = []
    first = 0
    fenced = False
    for number, line in enumerate(markdown.splitlines(), start=1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            if current:
                out.append(("\n".join(current), first))
                current = []
            continue
        if fenced:
            continue
        if not line.strip():
            if current:
                out.append(("\n".join(current), first))
                current = []
            continue
        if not current:
            first = number
        current.append(line)
    if current:
        out.append(("\n".join(current), first))
    return out


def _strip_comment(line: str) -> str:
    return re.split(r"\s#\s", " " + line, maxsplit=1)[0][1:]


def path_mentions(markdown: str) -> list[Mention]:
    """Repository paths: words with a '/' (or bare top-level files) in code spans and fenced blocks."""
    found: list[Mention] = []
    for span in code_spans(markdown):
        found += [Mention(word, span.line) for word in _words(span.text)]
    for body, first_line in code_blocks(markdown):
        folder: str | None = None
        for offset, line in enumerate(body.splitlines()):
            row = re.match(r"^([\w.-]+/)\s", line)
            if row:
                folder = row.group(1)
            elif line and not line.startswith(" "):
                folder = None
            for word in _words(_strip_comment(line)):
                found.append(Mention(word, first_line + offset, True, folder))
    return [m for m in found if _looks_like_path(m.text)]


def _words(text: str) -> list[str]:
    return [w.strip("\"'(),;:[]").rstrip(".") for w in text.split()]


def _looks_like_path(word: str) -> bool:
    if not word or "://" in word or word.startswith(("/", "~", "$", "-", "//")) or "=" in word:
        return False
    if any(c in word for c in "<>{}*|?") or "..." in word:
        return False
    if "/" in word:
        if not re.fullmatch(r"[\w.-]+(/[\w.-]+)*/?", word):
            return False
        # "Whisper/Piper" and "p50/p95" are words: a path ends in "/" or a file suffix, or starts in the tree.
        first, last = word.split("/", 1)[0], word.rstrip("/").rsplit("/", 1)[-1]
        return word.endswith("/") or "." in last.lstrip(".") or (ROOT / first).exists()
    return word.endswith(BARE_FILE_SUFFIXES) and bool(re.fullmatch(r"[\w.-]+", word))


def missing_paths(mentions: list[Mention], root: Path = ROOT) -> list[Mention]:
    missing = []
    for mention in mentions:
        path = mention.text
        if path.startswith(GENERATED) or path in {p.rstrip("/") for p in GENERATED}:
            continue
        if (root / path).exists():
            continue
        if mention.context_folder and (root / mention.context_folder / path).exists():
            continue
        missing.append(mention)
    return missing


@dataclass(frozen=True)
class FlagUse:
    command: str  # "bot.py", "scripts/demo.py", "-m emulators.openai", ...
    flag: str
    line: int


def _command_of(tokens: list[str], i: int) -> str | bool | None:
    """The command tokens[i] starts, None for one whose flags we do not check, False if it starts none."""
    token = tokens[i]
    if token == "-m" and i + 1 < len(tokens):
        module = tokens[i + 1]
        return None if module == "pytest" else f"-m {module}"
    name = token.removeprefix("./")
    if re.fullmatch(r"(?:[\w.-]+/)*bot\.py", name):
        return "bot.py"
    if re.fullmatch(r"scripts/[\w-]+\.(py|sh)", name):
        return name
    return False


def flag_uses(markdown: str, default_command: str = "bot.py") -> list[FlagUse]:
    """`--flags` with the command they are given to.

    In a command line (a fenced block line or a code span naming a command) a flag belongs to the
    command before it. A span that is only flags (`--once`) belongs to the last command named in its
    paragraph, else to `default_command`.
    """
    uses: list[FlagUse] = []
    for body, first_line in code_blocks(markdown):
        joined = body.replace("\\\n", " ")
        number = first_line
        for line in joined.splitlines():
            uses += _flags_in_command(_strip_comment(line), number, None)
            number += 1 + line.count("\\")  # continuation lines were joined
    for paragraph, first_line in _prose_blocks(markdown):
        last: str | None = default_command
        for match in re.finditer(r"`([^`]+)`", paragraph):
            text = match.group(1).replace("\n", " ")
            line = first_line + paragraph[: match.start()].count("\n")
            tokens = text.split()
            if tokens and tokens[0].startswith("--"):
                if last is not None:
                    uses += [FlagUse(last, _flag_name(t), line) for t in tokens if t.startswith("--")]
                continue
            command_uses = _flags_in_command(text, line, None)
            uses += command_uses
            named = _last_command(tokens)
            if named is not False:
                last = named  # type: ignore[assignment]
    return uses


def _flag_name(token: str) -> str:
    return token.split("=", 1)[0].rstrip(",.;:)")


def _last_command(tokens: list[str]) -> str | bool | None:
    found: str | bool | None = False
    for i in range(len(tokens)):
        command = _command_of(tokens, i)
        if command is not False:
            found = command
    return found


def _flags_in_command(text: str, line: int, current: str | None) -> list[FlagUse]:
    tokens = text.replace("[", " ").replace("]", " ").split()
    uses: list[FlagUse] = []
    in_command = False
    for i, token in enumerate(tokens):
        if token in SHELL_BREAKS:
            current, in_command = None, False
            continue
        command = _command_of(tokens, i)
        if command is not False:
            current, in_command = command, True  # type: ignore[assignment]
            continue
        if in_command and current is not None and re.match(r"--[a-z]", token):
            uses.append(FlagUse(current, _flag_name(token), line))
    return uses


def setting_names(markdown: str) -> list[Mention]:
    """UPPER_CASE names with an underscore (`MAX_SESSIONS`), bare ones set as `HOST=...`, and `PREFIX_*`."""
    found: list[Mention] = []
    for number, line in enumerate(markdown.splitlines(), start=1):
        for match in re.finditer(r"(?<![\w/.-])([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)(?![\w*-])(?!\.\w|\()", line):
            found.append(Mention(match.group(1), number))  # not LOCAL_MODELS.stats(): code, not a setting
        for match in re.finditer(r"(?<![\w/.-])([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*_\*)", line):
            found.append(Mention(match.group(1), number))
        for match in re.finditer(r"(?<![\w/.-])([A-Z][A-Z0-9]{2,})=", line):
            found.append(Mention(match.group(1), number))
        for match in re.finditer(r"`([A-Z][A-Z0-9]{2,})`", line):
            found.append(Mention(match.group(1), number))
    return found


def markdown_links(markdown: str) -> list[Mention]:
    """Targets of links to local Markdown files: `[text](docs/x.md#anchor)`."""
    return [
        Mention(match.group(1), markdown[: match.start()].count("\n") + 1)
        for match in re.finditer(r"\]\(([^)\s]+?\.md(?:#[\w-]+)?)\)", markdown)
        if "://" not in match.group(1)
    ]


def heading_anchors(markdown: str) -> set[str]:
    """GitHub's anchors for the headings: lowercase, punctuation dropped, spaces to hyphens."""
    anchors = set()
    fenced = False
    for line in markdown.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        if fenced or not line.startswith("#"):
            continue
        title = line.lstrip("#").strip().lower()
        anchors.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return anchors


def layout_folders(markdown: str) -> list[str]:
    """The top-level folders the Layout section's block lists (its rows that start with `name/`)."""
    section = markdown.split("\n## Layout", 1)
    assert len(section) == 2, "README has no '## Layout' section"
    body, _ = code_blocks(section[1])[0]
    return [m.group(1) for m in re.finditer(r"^([\w.-]+)/\s", body, re.MULTILINE)]


# ---------------------------------------------------------------- what exists


@functools.cache
def help_text(command: str) -> str:
    if command == "bot.py":
        sys.path.insert(0, str(ROOT))
        try:
            import bot

            return bot.build_parser().format_help()
        finally:
            sys.path.remove(str(ROOT))
    if command.startswith("-m "):
        argv = [sys.executable, "-m", command[3:], "--help"]
    elif command.endswith(".sh"):
        script = (ROOT / command).read_text(encoding="utf-8")
        runs = re.search(r"exec \S*python (scripts/[\w-]+\.py) \"\$@\"", script)
        # A wrapper's flags are its own (named in it) or those of the script it hands "$@" to.
        return script + (help_text(runs.group(1)) if runs else "")
    else:
        argv = [sys.executable, str(ROOT / command), "--help"]
    result = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"{command} --help failed: {result.stderr[-500:]}"
    return result.stdout


def offered_flags(command: str) -> set[str]:
    return set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", help_text(command)))


@functools.cache
def known_settings() -> frozenset[str]:
    sys.path.insert(0, str(ROOT))
    try:
        from settings import Settings
    finally:
        sys.path.remove(str(ROOT))
    names = {name.upper() for name in Settings.model_fields}
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    names |= set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", example, re.MULTILINE))
    return frozenset(names)


@functools.cache
def read_from_environment(name: str) -> bool:
    """Whether some code reads `name` from the environment itself (test switches such as REQUIRE_BROWSER)."""
    pattern = re.compile(rf"environ(?:\.get)?[\[(]\s*[\"']{name}[\"']|getenv\(\s*[\"']{name}[\"']")
    for path in ROOT.rglob("*.py"):
        if ".venv" in path.parts or "node_modules" in path.parts:
            continue
        if pattern.search(path.read_text(encoding="utf-8", errors="replace")):
            return True
    return False


def unknown_settings(mentions: list[Mention]) -> list[Mention]:
    settings = known_settings()
    bad = []
    for mention in mentions:
        name = mention.text
        if name.endswith("_*"):
            if not any(s.startswith(name[:-1]) for s in settings):
                bad.append(mention)
        elif name not in settings and not read_from_environment(name):
            bad.append(mention)
    return bad


def tracked_top_level_folders() -> set[str] | None:
    result = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        return None
    return {line.split("/", 1)[0] for line in result.stdout.splitlines() if "/" in line and not line.startswith(".")}


def _where(path: Path, mentions: list[Mention] | list[FlagUse]) -> list[str]:
    out = []
    for m in mentions:
        if isinstance(m, FlagUse):
            out.append(f"{path.name}:{m.line}: {m.command} {m.flag}")
        else:
            out.append(f"{path.name}:{m.line}: {m.text}")
    return out


# ---------------------------------------------------------------- the parsers catch planted mistakes

PLANTED = """\
# Title

Run `scripts/demo.sh` and `scripts/no_such_demo.sh`; configs live in `interview/configs/`.
Open `sessions/<id>/report.html` and `http://127.0.0.1:8765/`; routes like `/twilio/voice` are no paths.
`python bot.py --transport websocket --no-such-flag` and then `--once` and `--also-missing`.
`python scripts/call.py --to +1 --from +2` then `--interview` and `--bogus`.
Set `MAX_SESSIONS`, `NO_SUCH_SETTING`, `BUDGET_*`, `NOPE_*` and `HOST=0.0.0.0`; `REQUIRE_BROWSER=1`.
See [arch](docs/architecture.md), [gone](docs/nowhere.md) and [anchor](README.md#no-such-heading).

```
bot.py         the command
interview/     the domain; examples in configs/ and in nothing_here/
nosuchdir/     not in the tree
.venv/bin/python scripts/simulate_candidate.py --url ws://x --script a.yaml --fake   # comment --ignored
```
"""


def test_path_parser_catches_a_planted_bad_path() -> None:
    mentions = path_mentions(PLANTED)
    texts = {m.text for m in mentions}
    assert {"scripts/demo.sh", "scripts/no_such_demo.sh", "interview/configs/", "bot.py"} <= texts
    assert not any(t.startswith(("sessions/<", "/twilio", "http")) for t in texts)
    missing = {m.text for m in missing_paths(mentions)}
    assert missing == {"scripts/no_such_demo.sh", "nothing_here/", "nosuchdir/"}


def test_flag_parser_attributes_flags_to_their_command() -> None:
    uses = {(u.command, u.flag) for u in flag_uses(PLANTED)}
    assert ("bot.py", "--no-such-flag") in uses
    assert ("bot.py", "--once") in uses and ("bot.py", "--also-missing") in uses
    assert ("scripts/call.py", "--interview") in uses and ("scripts/call.py", "--bogus") in uses
    assert ("scripts/simulate_candidate.py", "--fake") in uses
    assert not any(flag == "--ignored" for _, flag in uses), "a flag in a comment is no flag"
    wrong = {(u.command, u.flag) for u in flag_uses(PLANTED) if u.flag not in offered_flags(u.command)}
    assert wrong == {
        ("bot.py", "--no-such-flag"),
        ("bot.py", "--also-missing"),
        ("scripts/call.py", "--bogus"),
        ("scripts/simulate_candidate.py", "--fake"),
    }


def test_setting_parser_catches_a_planted_unknown_setting() -> None:
    names = {m.text for m in setting_names(PLANTED)}
    assert {"MAX_SESSIONS", "NO_SUCH_SETTING", "BUDGET_*", "NOPE_*", "HOST", "REQUIRE_BROWSER"} <= names
    bad = {m.text for m in unknown_settings(setting_names(PLANTED))}
    assert bad == {"NO_SUCH_SETTING", "NOPE_*"}


def test_link_parser_catches_a_planted_broken_link() -> None:
    links = [m.text for m in markdown_links(PLANTED)]
    assert links == ["docs/architecture.md", "docs/nowhere.md", "README.md#no-such-heading"]
    assert [m.text for m in broken_links(ROOT / "README.md", markdown_links(PLANTED))] == links[1:]


def test_layout_parser_reads_the_rows() -> None:
    assert layout_folders("x\n## Layout\n\n```\nbot.py   the command\nweb/   page\n  sub/ no\ntests/  t\n```\n") == [
        "web",
        "tests",
    ]


# ---------------------------------------------------------------- the README and docs


def broken_links(source: Path, links: list[Mention]) -> list[Mention]:
    broken = []
    for link in links:
        target, _, anchor = link.text.partition("#")
        path = (source.parent / target).resolve()
        if not path.exists() or (anchor and anchor not in heading_anchors(path.read_text(encoding="utf-8"))):
            broken.append(link)
    return broken


def _readme() -> str:
    return README.read_text(encoding="utf-8")


def test_readme_is_short() -> None:
    lines = len(_readme().splitlines())
    assert lines <= MAX_README_LINES, f"README.md has {lines} lines; move detail to docs/ (at most {MAX_README_LINES})"


@pytest.mark.parametrize("document", [README, *DOCS, ROOT / "CHANGELOG.md"], ids=lambda p: p.name)
def test_every_path_named_exists(document: Path) -> None:
    mentions = path_mentions(document.read_text(encoding="utf-8"))
    assert mentions, f"{document.name}: no paths found (the parser is broken?)"
    if document.name == "CHANGELOG.md":
        return  # history may name what no longer exists
    assert _where(document, missing_paths(mentions)) == []


@pytest.mark.parametrize("document", [README, *DOCS], ids=lambda p: p.name)
def test_every_flag_named_exists(document: Path) -> None:
    uses = flag_uses(document.read_text(encoding="utf-8"))
    wrong = [u for u in uses if u.flag not in offered_flags(u.command)]
    assert _where(document, wrong) == []


def test_the_readme_names_flags_of_bot_and_scripts() -> None:
    commands = {u.command for u in flag_uses(_readme())}
    assert {"bot.py", "scripts/demo.sh", "scripts/simulate_candidate.py"} <= commands


@pytest.mark.parametrize("document", [README, *DOCS], ids=lambda p: p.name)
def test_every_setting_named_exists(document: Path) -> None:
    mentions = setting_names(document.read_text(encoding="utf-8"))
    if document == README:
        assert len(mentions) > 10, "README: no settings found (the parser is broken?)"
    assert _where(document, unknown_settings(mentions)) == []


@pytest.mark.parametrize("document", [README, *DOCS, ROOT / "CHANGELOG.md"], ids=lambda p: p.name)
def test_every_markdown_link_resolves(document: Path) -> None:
    assert _where(document, broken_links(document, markdown_links(document.read_text(encoding="utf-8")))) == []


def test_readme_links_the_docs() -> None:
    linked = {m.text.partition("#")[0] for m in markdown_links(_readme())}
    expected = {f"docs/{p.name}" for p in DOCS} | {"CHANGELOG.md"}
    assert expected <= linked, f"README does not link {sorted(expected - linked)}"


def test_layout_lists_every_top_level_folder() -> None:
    listed = set(layout_folders(_readme()))
    tracked = tracked_top_level_folders()
    if tracked is None:
        pytest.skip("not a git checkout")
    assert sorted(tracked - listed) == [], "top-level folders missing from the README's Layout: add a row"
    absent = sorted(name for name in listed if not (ROOT / name).is_dir())
    assert absent == [], "the README's Layout lists folders the repository does not have"


def test_readme_keeps_the_command_ci_runs() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    command = re.search(r"exec (bash scripts/test\.sh)", ci)
    assert command, ".ci/run no longer runs scripts/test.sh"
    assert command.group(1) in _readme()
