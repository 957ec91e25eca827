"""Finding 8: a provider base URL with credentials in it never reaches the record or the log.

A real bot whose LLM endpoint is `http://user:password@127.0.0.1:<closed port>/v1?key=...` (the
session fails over to the structured interviewer, as it would when that server is down). After one
session, neither config.json, events.jsonl, transcript, latency.json, report.html nor the bot's output
holds the password or the key; the endpoint is still named (host, port, path) with REDACTED in place.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from scripts.candidate_protocol import rtvi_client_ready

from .transport_helpers import Candidate, running_bot, wait_for_file

pytestmark = pytest.mark.e2e

PASSWORD = "PW-ABUSE-SECRET-1"
KEY = "KEY-ABUSE-SECRET-2"


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_credentials_in_a_base_url_are_redacted_everywhere(tmp_path: Path) -> None:
    port = closed_port()
    env = {
        "LLM_PROVIDER": "cloud",
        "OPENAI_BASE_URL": f"http://interviewer:{PASSWORD}@127.0.0.1:{port}/v1?key={KEY}",
        "OPENAI_FALLBACK_BASE_URL": f"http://127.0.0.1:{port}/v2?api_key={KEY}",
    }
    with running_bot(tmp_path, env=env, once=True) as bot:
        assert bot.url
        candidate = await Candidate.connect(bot.url)
        await candidate.send_rtvi(rtvi_client_ready())
        assert await candidate.wait_for(lambda: candidate.audio > 0, 60), "no greeting (failover to local)"
        await candidate.close()
        bot.wait_exit(60)
        record = bot.record_dir()
        assert await wait_for_file(record / "report.html", 30)
    texts = {path.name: path.read_text(errors="replace") for path in record.iterdir() if path.suffix != ".wav"}
    texts["bot output"] = "\n".join(bot.output)
    for name, text in texts.items():
        assert PASSWORD not in text and KEY not in text, f"a credential reached {name}"
    assert f"REDACTED@127.0.0.1:{port}/v1?key=REDACTED" in texts["config.json"]
