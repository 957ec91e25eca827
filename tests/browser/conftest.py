"""Browser tests reuse the end-to-end fixtures: a real bot process with its own env."""

from tests.e2e.conftest import bot_env, start_bot  # noqa: F401  (pytest fixtures)
