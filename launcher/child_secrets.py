"""What a bot child receives from the launcher, without leaking secrets on the way.

Why: argv is world-readable (`ps`, /proc/<pid>/cmdline), so a room join token there can be
read by any local user; and a child that inherits the launcher's whole environment holds
LAUNCHER_API_KEY, which lets it (or anything it runs) start and stop every session. So the
token goes into a 0600 file the bot reads with `--token-file`, and the child's environment
is the launcher's minus the launcher's own settings.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

LAUNCHER_ONLY_PREFIX = "LAUNCHER_"  # LAUNCHER_API_KEY, _HOST, _PORT, ...: the bot needs none of them
TOKEN_FILE_NAME = "bot_token"


def child_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The launcher's environment without its own settings (its API key above all)."""
    return {name: value for name, value in environ.items() if not name.upper().startswith(LAUNCHER_ONLY_PREFIX)}


def write_private(path: Path, text: str) -> Path:
    """Write `text` readable by this user only (created 0600, never world-readable in between)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(path, 0o600)  # an existing file keeps its old mode through O_CREAT
    return path


def token_file_for(contract_file: Path) -> Path:
    """Where a session's bot token lives: beside its contract, in the launcher's session folder."""
    return contract_file.with_name(TOKEN_FILE_NAME)
