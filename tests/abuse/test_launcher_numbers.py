"""Finding 5 (part): a session contract cannot switch the launcher's watchdog off with an endless number.

`session_timeout_seconds: Infinity` (or 1e300) would make the kill-after limit infinite, so a hung
bot would hold its slot and its provider spend for ever. Every float a contract or inline
interview can set refuses inf and NaN, and the session timeout has a finite ceiling; the 422
names the field, no bot is started, and the launcher goes on serving.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from interview.loader import load_interview_config
from tests.unit.test_launcher import Launcher, fake_bot, settings

from .conftest import AUTH


def inline(path: str, raw: str) -> str:
    """An inline interview with the number at dotted `path` replaced by the raw JSON token `raw`."""
    config = load_interview_config("senior_backend_engineer").model_dump(mode="json")
    *parents, leaf = path.split(".")
    node = config
    for key in parents:
        node = node[key]
    node[leaf] = "@@NUMBER@@"
    body = json.dumps({"transport": "websocket", "interview": config})
    return body.replace('"@@NUMBER@@"', raw)


def top_level(field: str, raw: str) -> str:
    return f'{{"transport": "websocket", "interview": "senior_backend_engineer", "{field}": {raw}}}'


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (top_level("session_timeout_seconds", "Infinity"), "session_timeout_seconds"),
        (top_level("session_timeout_seconds", "1e300"), "session_timeout_seconds"),
        (top_level("session_timeout_seconds", "NaN"), "session_timeout_seconds"),
        (top_level("budget_limit_usd", "Infinity"), "budget"),
        (inline("timeouts.session_timeout_seconds", "1e300"), "session_timeout_seconds"),
        (inline("timeouts.idle_cancel_seconds", "Infinity"), "idle_cancel_seconds"),
        (inline("budget.latency.llm_ms", "Infinity"), "llm_ms"),
        (inline("duration_minutes", "Infinity"), "duration_minutes"),
        (inline("echo_gate.cooldown_secs", "NaN"), "cooldown_secs"),
    ],
)
async def test_endless_numbers_are_refused_naming_the_field(tmp_path: Path, body: str, field: str) -> None:
    instance = Launcher(settings(tmp_path), fake_bot())
    try:
        response = await instance.client.post(
            "/sessions", content=body, headers={**AUTH, "content-type": "application/json"}
        )
        assert response.status_code == 422, response.text
        assert field in response.json()["detail"], response.text
        assert instance.argv == [] and instance.supervisor.active == 0  # no bot started
        healthy = await instance.client.post(
            "/sessions", json={"transport": "websocket", "interview": "senior_backend_engineer"}, headers=AUTH
        )
        assert healthy.status_code == 201  # and the launcher goes on serving
    finally:
        await instance.supervisor.shutdown()
        await instance.client.aclose()


async def test_the_session_timeout_ceiling_is_said_in_the_error(tmp_path: Path) -> None:
    instance = Launcher(settings(tmp_path), fake_bot())
    try:
        response = await instance.client.post(
            "/sessions",
            content=top_level("session_timeout_seconds", "86400"),
            headers={**AUTH, "content-type": "application/json"},
        )
        assert response.status_code == 422 and "14400" in response.json()["detail"], response.text
    finally:
        await instance.supervisor.shutdown()
        await instance.client.aclose()
