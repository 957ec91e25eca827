"""The candidate page says what went wrong, in words: microphone and connection failures.

No bot is needed: the page is served by the real interview app (or a stub
`/ws`) in this process. About 15 s for all of them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from fastapi import FastAPI, WebSocket

from tests.browser.candidate_page import FAKE_MIC_ARGS, PageServer, require_built_page
from tests.browser.chromium import artifact_path, chromium_browser
from transports.candidate_page import mount_candidate_page
from transports.websocket_server import build_websocket_app


async def no_session(_handle: object) -> None:
    raise AssertionError("a refused connection must never start a session")


@pytest.fixture(autouse=True)
def built_page() -> None:
    require_built_page()


@pytest.fixture
def interview_app() -> Iterator:
    def make(**options: object) -> PageServer:
        return PageServer(build_websocket_app(no_session, **options))  # type: ignore[arg-type]

    yield make


def problem_after_start(args: tuple[str, ...], url: str, *, before_click=None, screenshot: str | None = None) -> str:  # type: ignore[no-untyped-def]
    """Open the page, press Start, return the problem shown (and check the page is usable again)."""
    with chromium_browser(args) as browser:
        page = browser.new_page()
        page.goto(url)
        if before_click is not None:
            before_click()
        page.keyboard.press("Tab")  # keyboard only: the first control is the start button
        assert page.evaluate("document.activeElement.id") == "connect"
        page.keyboard.press("Enter")
        problem = page.get_by_role("alert")
        problem.wait_for(state="visible", timeout=15_000)
        text = problem.inner_text()
        assert page.locator("#connect").is_enabled() and page.locator("#end").is_disabled()
        if screenshot:
            page.screenshot(path=str(artifact_path(screenshot)), full_page=True)
        return text


def test_microphone_permission_denied(interview_app) -> None:  # type: ignore[no-untyped-def]
    # A fake microphone exists, but nothing answers the permission prompt with "allow".
    with interview_app() as server:
        text = problem_after_start(
            ("--use-fake-device-for-media-stream",), server.url, screenshot="candidate_page_denied.png"
        )
    assert "Microphone permission was denied" in text


def test_no_microphone(interview_app) -> None:  # type: ignore[no-untyped-def]
    # Permission is granted, but this machine has no capture device at all.
    with interview_app() as server:
        text = problem_after_start(("--use-fake-ui-for-media-stream",), server.url)
    assert "No microphone was found" in text


def test_server_unreachable(interview_app) -> None:  # type: ignore[no-untyped-def]
    with interview_app() as server:  # the page loads, then the server goes away
        text = problem_after_start(FAKE_MIC_ARGS, server.url, before_click=server.stop)
    assert "Cannot reach the interview server" in text


def test_server_full(interview_app) -> None:  # type: ignore[no-untyped-def]
    with interview_app(max_sessions=0) as server:
        text = problem_after_start(FAKE_MIC_ARGS, server.url, screenshot="candidate_page_full.png")
    assert "all interview slots are taken" in text


def test_bad_token(interview_app) -> None:  # type: ignore[no-untyped-def]
    with interview_app(token="right-token") as server:
        text = problem_after_start(FAKE_MIC_ARGS, server.url + "?token=wrong")
    assert "interview link is not valid" in text


def test_connection_lost_mid_interview() -> None:
    app = FastAPI()

    @app.websocket("/ws")
    async def drops_after_a_moment(websocket: WebSocket) -> None:
        await websocket.accept()
        await asyncio.sleep(1.5)
        await websocket.close(code=1001)

    mount_candidate_page(app)
    with PageServer(app) as server:
        text = problem_after_start(FAKE_MIC_ARGS, server.url)
    assert "connection to the interviewer was lost" in text
