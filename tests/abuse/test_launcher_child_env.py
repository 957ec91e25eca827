"""Finding 7: a bot child gets what it needs and none of the launcher's secrets, from its environment or `.env`.

The launcher runs with LAUNCHER_API_KEY, LIVEKIT_API_SECRET, DAILY_API_KEY and TWILIO_AUTH_TOKEN
both in its environment and in its `.env` file. A real bot it starts (warm and cold) holds none
of them — read from the kernel's copy of the child's environment — is told to read no `.env`,
and still gets the provider key it may need and its session's own WebSocket token.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import one_question_interview, proc_environ

ROOT = Path(__file__).resolve().parents[2]
LAUNCHER_SECRETS = {
    "LAUNCHER_API_KEY": "launcher-key-SECRET",
    "LIVEKIT_API_SECRET": "lk-secret-SECRET",
    "LIVEKIT_API_KEY": "lk-key-SECRET",
    "DAILY_API_KEY": "daily-key-SECRET",
    "TWILIO_AUTH_TOKEN": "twilio-token-SECRET",
}


def assert_clean(environ: dict[str, str]) -> None:
    leaked = sorted(name for name, value in environ.items() if "SECRET" in value or name.startswith("LAUNCHER_"))
    assert not leaked, f"the bot holds the launcher's {leaked}"
    assert environ.get("INTERVIEWER_ENV_FILE") == "none"  # and it reads no .env of its own


async def test_bots_hold_none_of_the_launchers_secrets(
    real_launcher, bot_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    env_file = tmp_path / "launcher.env"
    env_file.write_text(
        "".join(f"{k}={v}\n" for k, v in LAUNCHER_SECRETS.items()) + "OPENAI_API_KEY=sk-from-env-file\n"
    )
    for name, value in {**bot_env, **LAUNCHER_SECRETS, "INTERVIEWER_ENV_FILE": str(env_file)}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("LLM_PROVIDER", "local")
    launcher = await real_launcher(os_environ=True, launcher_warm_pool=1)
    await launcher.wait_warm()
    warm = launcher.app.state.warm_pool._ready[0].process.pid
    environ = proc_environ(warm)
    assert_clean(environ)
    assert environ["OPENAI_API_KEY"] == "sk-from-env-file"  # a provider key kept in .env still reaches the bot

    created = await launcher.post({"transport": "websocket", "interview": one_question_interview("abuse_env")})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["pid"] == warm and body["warm"] is True
    assert environ["WEBSOCKET_TOKEN"] == body["candidate_token"]  # minted for this warm child: its session's
    launcher.app.state.warm_pool.size = 0  # the next session starts cold
    cold = await launcher.post({"transport": "websocket", "interview": one_question_interview("abuse_env_cold")})
    assert cold.status_code == 201 and cold.json()["warm"] is False, cold.text
    cold_environ = proc_environ(cold.json()["pid"])
    assert_clean(cold_environ)
    assert cold_environ["WEBSOCKET_TOKEN"] == cold.json()["candidate_token"] != body["candidate_token"]
    assert launcher.settings.launcher_api_key is not None  # the launcher itself still has its key


def test_a_child_told_so_reads_no_env_file(tmp_path: Path) -> None:
    """Settings honours INTERVIEWER_ENV_FILE=none: a `.env` in the bot's working directory is not read."""
    (tmp_path / ".env").write_text("LAUNCHER_API_KEY=from-dot-env\nPORT=9999\n")
    show = "from settings import Settings; s = Settings(); print(s.launcher_api_key is None, s.port)"
    base = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    read = subprocess.run([sys.executable, "-c", show], cwd=tmp_path, env=base, capture_output=True, text=True)
    assert read.stdout.split() == ["False", "9999"], read.stderr  # by default .env is read (a person's setup)
    told = {**base, "INTERVIEWER_ENV_FILE": "none"}
    ignored = subprocess.run([sys.executable, "-c", show], cwd=tmp_path, env=told, capture_output=True, text=True)
    assert ignored.stdout.split() == ["True", "8765"], ignored.stderr
