"""bot.py's command line: help, and one-line errors for bad flags and bad configs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_bot(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "bot.py"), *args],
        cwd=tmp_path,  # no stray .env from the developer's checkout
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_help_explains_every_flag(tmp_path: Path) -> None:
    result = run_bot("--help", tmp_path=tmp_path)
    assert result.returncode == 0
    for flag in (
        "--transport",
        "--config",
        "--persona",
        "--host",
        "--port",
        "--once",
        "--workers",
        "--room-url",
        "--room",
        "--url",
        "--token",
    ):
        assert flag in result.stdout
    assert "websocket" in result.stdout and "livekit" in result.stdout


def test_bad_flag_is_one_line(tmp_path: Path) -> None:
    result = run_bot("--transport", "pigeon", tmp_path=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "invalid choice: 'pigeon'" in lines[0]


def test_bad_config_file_is_one_line_naming_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    source = (ROOT / "interview/configs/senior_backend_engineer.yaml").read_text()
    bad.write_text(source.replace("weight: 0.35", "weight: 0.25"))
    result = run_bot("--config", str(bad), tmp_path=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "rubric: weights must sum to 1" in lines[0], result.stderr


def test_missing_config_lists_bundled_ones(tmp_path: Path) -> None:
    result = run_bot("--config", "no_such_interview", tmp_path=tmp_path)
    assert result.returncode == 2
    assert "senior_backend_engineer" in result.stderr and "qualitative_research" in result.stderr


def test_room_transports_need_their_room(tmp_path: Path) -> None:
    daily = run_bot("--transport", "daily", tmp_path=tmp_path)
    livekit = run_bot("--transport", "livekit", tmp_path=tmp_path)
    assert daily.returncode == 2 and "--room-url" in daily.stderr
    assert livekit.returncode == 2 and "--room" in livekit.stderr


def test_forced_cloud_provider_without_key_fails_fast(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("STT_PROVIDER=cloud\n")
    result = run_bot("--transport", "daily", "--room-url", "https://example.daily.co/x", tmp_path=tmp_path)
    assert result.returncode == 2
    assert "STT provider is 'cloud' but DEEPGRAM_API_KEY is not set" in result.stderr


def test_a_worker_pool_whose_workers_cannot_start_exits_with_their_error(tmp_path: Path) -> None:
    """The workers check the providers themselves; a pool that can never start must not retry forever."""
    (tmp_path / ".env").write_text("STT_PROVIDER=cloud\n")
    result = run_bot("--transport", "websocket", "--port", "0", "--workers", "2", tmp_path=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "DEEPGRAM_API_KEY is not set" in result.stderr and "listening" not in result.stdout
    negative = run_bot("--workers", "-1", tmp_path=tmp_path)
    assert negative.returncode == 2 and "--workers -1: must be 0" in negative.stderr


def test_missing_local_voice_is_one_line_at_startup(tmp_path: Path) -> None:
    import os

    env = {**os.environ, "LOCAL_TTS_VOICE": str(tmp_path / "nobody.onnx"), "TTS_PROVIDER": "local"}
    result = subprocess.run(
        [sys.executable, str(ROOT / "bot.py"), "--transport", "websocket", "--port", "0", "--once"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert "LOCAL_TTS_VOICE" in lines[-1] and "missing voice file" in lines[-1], result.stderr
    assert "listening" not in result.stdout, "fails before serving, not per connection"


def test_token_file_is_read_and_a_missing_one_is_one_line(tmp_path: Path) -> None:
    result = run_bot(
        "--transport",
        "daily",
        "--room-url",
        "https://example.daily.co/x",
        "--token-file",
        str(tmp_path / "none"),
        tmp_path=tmp_path,
    )
    assert result.returncode == 2 and "--token-file" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    empty = tmp_path / "empty"
    empty.write_text("\n")
    result = run_bot(
        "--transport",
        "daily",
        "--room-url",
        "https://example.daily.co/x",
        "--token-file",
        str(empty),
        tmp_path=tmp_path,
    )
    assert result.returncode == 2 and "empty" in result.stderr
