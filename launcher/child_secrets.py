"""What a bot child receives from the launcher, without leaking secrets on the way.

Why: argv is world-readable (`ps`, /proc/<pid>/cmdline), so a room join token there can be
read by any local user; and a child holding the launcher's secrets (LAUNCHER_API_KEY starts
and stops every session; LIVEKIT_API_SECRET, DAILY_API_KEY and TWILIO_AUTH_TOKEN mint rooms,
tokens and calls) leaks them to anything that subverts it. So the token goes into a 0600 file
the bot reads with `--token-file`, and the child's environment is built from an allow-list:
the process basics (PATH, locale, caches, thread counts), the bot's own settings (provider
keys and choices, engines, records) from the launcher's environment or, failing that, from the
launcher's resolved Settings (so a provider key kept in `.env` still arrives), and
INTERVIEWER_ENV_FILE=none so the bot reads no `.env` of its own. Everything else stays behind.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from settings import ENV_FILE_VARIABLE, NO_ENV_FILE, Settings

LAUNCHER_ONLY_PREFIX = "LAUNCHER_"  # LAUNCHER_API_KEY, _HOST, _PORT, ...: the bot needs none of them
TOKEN_FILE_NAME = "bot_token"

# Settings a launcher bot must not hold: it joins with a token it is given, so room and call
# credentials are the launcher's alone; its WebSocket token and session count the launcher sets.
LAUNCHER_HELD_SETTINGS = frozenset(
    {
        "LIVEKIT_API_KEY",
        "LIVEKIT_API_SECRET",
        "DAILY_API_KEY",
        "TWILIO_ACCOUNT_SID",
        "TWILIO_AUTH_TOKEN",
        "TWILIO_STREAM_TOKEN_SECRET",
        "WEBSOCKET_TOKEN",
        "MAX_SESSIONS",
        "WORKERS",
    }
)
# Not settings, but what a Python process with native engines needs to run as it would by hand.
PROCESS_VARIABLES = frozenset(
    {
        "PATH", "HOME", "USER", "LOGNAME", "SHELL", "TERM", "LANG", "LANGUAGE", "TZ",
        "TMPDIR", "TEMP", "TMP", "VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PYTHONUNBUFFERED",
        "PYTHONDONTWRITEBYTECODE", "PYTHONIOENCODING", "PYTHONUTF8", "LD_LIBRARY_PATH",
        "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
        "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "HF_HOME", "HF_HUB_CACHE", "HF_HUB_OFFLINE",
        "TRANSFORMERS_OFFLINE", "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE",
        "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
    }
)  # fmt: skip
PROCESS_PREFIXES = ("LC_",)


def bot_setting_names() -> frozenset[str]:
    """The settings a bot may be handed: every Settings field but the launcher's own and the held ones."""
    names = {name.upper() for name in Settings.model_fields}
    return frozenset(n for n in names if not n.startswith(LAUNCHER_ONLY_PREFIX) and n not in LAUNCHER_HELD_SETTINGS)


def child_environment(environ: Mapping[str, str], settings: Settings | None = None) -> dict[str, str]:
    """The environment a bot child starts with: the allow-list above, nothing else (see the module doc).

    `environ` wins over `settings` (it is where the launcher's own settings came from first)."""
    allowed = bot_setting_names()
    env: dict[str, str] = {}
    if settings is not None:
        for field in settings.model_fields_set:
            name = field.upper()
            if name in allowed and (value := _as_env_value(getattr(settings, field))) is not None:
                env[name] = value
    for name, value in environ.items():
        if name.upper() in allowed or name in PROCESS_VARIABLES or name.startswith(PROCESS_PREFIXES):
            env[name.upper() if name.upper() in allowed else name] = value
    env[ENV_FILE_VARIABLE] = NO_ENV_FILE
    return env


def _as_env_value(value: Any) -> str | None:
    """A setting's value as pydantic-settings reads it back from the environment."""
    if value is None:
        return None
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


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
