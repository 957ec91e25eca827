"""Shared pieces of the end-to-end tests: a real bot process on a free loopback port."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
LISTENING = re.compile(r"listening on (ws://\S+)")
RECORD = re.compile(r"Session record: (\S+)")


class BotServer:
    """`python bot.py --transport websocket --port 0 --once` (or another transport, without --once) with its own env."""

    def __init__(self, args: list[str], env: dict[str, str], *, transport: str = "websocket", once: bool = True):
        self.process = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "bot.py"),
                "--transport",
                transport,
                "--port",
                "0",
                *(["--once"] if once else []),
                *args,
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.output: list[str] = []
        self.url: str | None = None
        self._ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line.rstrip())
            if match := LISTENING.search(line):
                self.url = match.group(1)
                self._ready.set()
        self._ready.set()

    def wait_ready(self, timeout: float = 120) -> str:
        self._ready.wait(timeout)
        assert self.url, "bot did not start:\n" + "\n".join(self.output[-40:])
        return self.url

    def wait_exit(self, timeout: float = 60) -> int:
        code = self.process.wait(timeout=timeout)
        time.sleep(0.1)  # let the reader thread drain the last lines
        return code

    def record_dir(self) -> Path:
        for line in self.output:
            if match := RECORD.search(line):
                return Path(match.group(1))
        raise AssertionError("bot printed no session record:\n" + "\n".join(self.output[-40:]))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def offline_bot_env(sessions_dir: Path) -> dict[str, str]:
    """Environment for a bot child: local engines forced, records under `sessions_dir`."""
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_API_SECRET", "_BASE_URL"))}
    env.update(
        SESSIONS_DIR=str(sessions_dir),
        STT_PROVIDER="local",
        LLM_PROVIDER="local",
        TTS_PROVIDER="local",
        LOG_LEVEL="INFO",
        OPENBLAS_NUM_THREADS="1",
        FILLER_AFTER_MS="0",  # timing-dependent extra audio; the failover tests turn it on
    )
    return env


@pytest.fixture
def bot_env(tmp_path: Path) -> dict[str, str]:
    """Environment for a bot child: local engines forced, records under tmp_path."""
    return offline_bot_env(tmp_path / "sessions")


@pytest.fixture
def start_bot(bot_env: dict[str, str]) -> Iterator:
    bots: list[BotServer] = []

    def start(*args: str, env: dict[str, str] | None = None, **options: Any) -> BotServer:
        bot = BotServer(list(args), {**bot_env, **(env or {})}, **options)
        bots.append(bot)
        return bot

    yield start
    for bot in bots:
        bot.stop()


def one_question_interview(interview_id: str) -> dict:
    """The example interview cut to one phase with one question and no follow-ups: greeting, answer, goodbye."""
    from interview.loader import load_interview_config

    config = load_interview_config("senior_backend_engineer").model_dump(mode="json")
    intro = config["phases"][0]
    config["phases"] = [{**intro, "questions": [{**intro["questions"][0], "follow_up": ""}]}]
    config["follow_ups"]["max_per_question"] = 0
    config["id"] = interview_id
    config["duration_minutes"] = 10
    config["timeouts"]["session_timeout_seconds"] = 600
    return config


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def write_yaml(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path
