"""Fail fast for every transport (issue #13, item 2): a session's needs are checked before serving."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bots.startup_checks import StartupError, check_sessions_can_start
from interview.loader import config_from_data, load_interview_config
from settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def _settings(tmp_path: Path, **values: object) -> Settings:
    base: dict[str, object] = dict(
        sessions_dir=tmp_path / "sessions", openai_api_key=None, openai_base_url=None, deepgram_api_key=None,
        elevenlabs_api_key=None, stt_provider="local", tts_provider="local", llm_provider="auto",
    )  # fmt: skip
    base.update(values)
    return Settings(_env_file=None, **base)  # type: ignore[call-arg]


def _with_llm_scorer() -> dict:
    data = load_interview_config("senior_backend_engineer").model_dump(mode="json")
    data["id"] = "needs_a_judge"
    data["evaluation"]["scorer"] = "llm"
    return data


def test_an_llm_scorer_without_a_judge_is_refused_before_any_session(tmp_path: Path) -> None:
    config = config_from_data(_with_llm_scorer())
    with pytest.raises(StartupError, match=r"evaluation\.scorer is 'llm'"):
        check_sessions_can_start(_settings(tmp_path), [config])


def test_a_forced_cloud_stage_names_the_interview_when_there_are_several(tmp_path: Path) -> None:
    configs = [load_interview_config("qualitative_research"), load_interview_config("senior_backend_engineer")]
    with pytest.raises(StartupError, match=rf"interview {configs[0].id}: STT provider is 'cloud' but DEEPGRAM_API_KEY"):
        check_sessions_can_start(_settings(tmp_path, stt_provider="cloud"), configs)


def test_an_unwritable_sessions_dir_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(StartupError, match=r"SESSIONS_DIR .*cannot write session records"):
        check_sessions_can_start(_settings(tmp_path, sessions_dir=blocker / "sessions"), [])


def _start(tmp_path: Path, *args: str, env_lines: str = "") -> subprocess.CompletedProcess[str]:
    (tmp_path / ".env").write_text(env_lines)
    try:
        return subprocess.run(
            [sys.executable, str(ROOT / "bot.py"), *args, "--port", "0", "--once"],
            cwd=tmp_path, capture_output=True, text=True, timeout=40,
        )  # fmt: skip
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"the server started instead of failing: {exc.stdout!r}") from None


@pytest.mark.parametrize("transport", ["websocket", "twilio"])
def test_servers_exit_2_with_one_line_instead_of_failing_every_call(tmp_path: Path, transport: str) -> None:
    config = tmp_path / "judge.yaml"
    config.write_text(yaml.safe_dump(_with_llm_scorer()))
    result = _start(
        tmp_path, "--transport", transport, "--config", str(config),
        env_lines="PUBLIC_HOST=example.test\nTWILIO_VALIDATE_SIGNATURES=false\nSTT_PROVIDER=local\nTTS_PROVIDER=local\n",
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert "evaluation.scorer is 'llm'" in lines[-1] and lines[-1].startswith("bot.py: error:"), result.stderr
    assert "listening" not in result.stdout.lower()


def test_a_phone_number_mapped_to_a_broken_interview_stops_the_server(tmp_path: Path) -> None:
    config = tmp_path / "judge.yaml"
    config.write_text(yaml.safe_dump(_with_llm_scorer()))
    result = _start(
        tmp_path, "--transport", "twilio",
        env_lines=f'PUBLIC_HOST=example.test\nTWILIO_VALIDATE_SIGNATURES=false\nTWILIO_NUMBER_INTERVIEWS={{"+15550001111": "{config}"}}\n',
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "interview needs_a_judge: evaluation.scorer is 'llm'" in result.stderr.strip().splitlines()[-1], (
        result.stderr
    )
