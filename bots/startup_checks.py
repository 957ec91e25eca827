"""Everything a session needs, checked once when the process starts, whatever the transport.

Why this exists: websocket and twilio build a session per connection, so a provider forced
to `cloud` without its key, an `llm` scorer without a judge, a missing embedded model or an
unwritable SESSIONS_DIR used to surface only when a candidate connected, after the server
had started and said it was listening. Here each interview the process may run is checked
up front; bot.py turns a failure into one line and exit 2.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from pathlib import Path

from interview.config import InterviewConfig
from services.errors import ProviderConfigError
from services.factory import preload_local_models, resolve_stages
from services.model_files import LocalModelError
from services.scorers import scorer_choice
from settings import Settings


class StartupError(ValueError):
    """A session could not start in this process; the message is one line naming the setting or field."""


def check_sessions_can_start(settings: Settings, configs: Iterable[InterviewConfig]) -> None:
    """Providers and scorer per interview, the session record's folder, then the embedded models (slow)."""
    configs = list(configs)
    for config in configs:
        try:
            resolve_stages(settings, config)
            scorer_choice(config, settings)
        except ProviderConfigError as exc:
            raise StartupError(f"interview {config.id}: {exc}" if len(configs) > 1 else str(exc)) from exc
    _check_writable(settings.sessions_dir)
    try:
        preload_local_models(settings, configs)
    except (ProviderConfigError, LocalModelError) as exc:
        raise StartupError(str(exc)) from exc


def _check_writable(directory: Path) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as exc:
        raise StartupError(f"SESSIONS_DIR {directory}: cannot write session records there ({exc.strerror})") from exc
