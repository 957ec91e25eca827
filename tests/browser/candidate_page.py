"""Helpers for tests of the candidate page: is it built, and a page server in this process.

`PageServer` runs a FastAPI app (e.g. `build_websocket_app` with a refusing
configuration) on a loopback port in a thread, so error paths need no bot.
"""

from __future__ import annotations

import asyncio
import os
import threading
import wave
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI

from transports.candidate_page import page_unavailable_reason

# Chromium plays this file as the microphone; the permission prompt is answered "allow".
FAKE_MIC_ARGS = ("--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream")
AUTOPLAY_ARGS = ("--autoplay-policy=no-user-gesture-required",)


def require_built_page() -> None:
    """Skip (or fail, under REQUIRE_BROWSER=1) when web/dist was not built by scripts/setup.sh."""
    reason = page_unavailable_reason()
    if reason is None:
        return
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def fake_microphone_args(wav: Path) -> tuple[str, ...]:
    """Flags that make `wav` the microphone, played once (then silence)."""
    return (*FAKE_MIC_ARGS, f"--use-file-for-fake-audio-capture={wav}%noloop", *AUTOPLAY_ARGS)


def write_wav(path: Path, pcm: bytes, sample_rate: int) -> Path:
    """16-bit mono PCM as a WAV file (generated in the test, never committed)."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(pcm)
    return path


class PageServer:
    """uvicorn on 127.0.0.1, any free port, in a background thread."""

    def __init__(self, app: FastAPI):
        self._server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
        )
        self._thread = threading.Thread(target=lambda: asyncio.run(self._server.serve()), daemon=True)

    def __enter__(self) -> PageServer:
        self._thread.start()
        for _ in range(500):
            if self._server.started:
                return self
            self._thread.join(0.01)
        raise RuntimeError("page server did not start")

    @property
    def url(self) -> str:
        port = self._server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/"

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)

    def __exit__(self, *_exc: object) -> None:
        self.stop()
