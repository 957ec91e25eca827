"""POST /sessions with every corpus body: a 4xx naming the problem, no child started, the launcher fine (item 11)."""

from __future__ import annotations

import pytest

from launcher.request import MAX_BODY_BYTES
from tests.bad_inputs import LAUNCHER_BODIES
from tests.unit.test_launcher import AUTH, launcher  # noqa: F401  (the fixture)

JSON = {**AUTH, "Content-Type": "application/json"}


@pytest.mark.parametrize(("name", "body"), LAUNCHER_BODIES, ids=[n for n, _ in LAUNCHER_BODIES])
async def test_bad_bodies_get_a_422_and_start_nothing(launcher, name: str, body: bytes) -> None:  # noqa: F811  # type: ignore[no-untyped-def]
    instance = launcher()
    response = await instance.client.post("/sessions", content=body, headers=JSON)
    assert response.status_code == 422, response.text[:300]
    detail = response.json()["detail"]
    assert isinstance(detail, str) and detail.startswith("request") and "\n" not in detail and len(detail) < 600
    assert instance.argv == [] and instance.supervisor.active == 0
    assert (await instance.client.get("/sessions", headers=AUTH)).status_code == 200


async def test_a_huge_body_is_a_413_whether_or_not_it_says_its_length(launcher) -> None:  # noqa: F811  # type: ignore[no-untyped-def]
    instance = launcher()
    huge = b'{"transport": "websocket", "interview": "' + b"x" * (MAX_BODY_BYTES + 10) + b'"}'
    response = await instance.client.post("/sessions", content=huge, headers=JSON)
    assert response.status_code == 413

    async def streamed():  # no Content-Length: chunked
        for _ in range(MAX_BODY_BYTES // 65536 + 2):
            yield b" " * 65536

    response = await instance.client.post("/sessions", content=streamed(), headers=JSON)
    assert response.status_code == 413
    assert instance.argv == []


async def test_bad_bodies_need_the_key_first(launcher) -> None:  # noqa: F811  # type: ignore[no-untyped-def]
    response = await launcher().client.post("/sessions", content=b"[[[[", headers={"Content-Type": "application/json"})
    assert response.status_code == 401
