"""The candidate page: `GET /` on the interview server serves the built web client.

The page (source in `web/`, built by `scripts/setup.sh` into `web/dist/`) talks
to `/ws` on the same host and port with Pipecat's own browser SDK. Built files
are never committed, so a checkout without Node.js/npm has no page: then `/`
answers 503 with a plain explanation of why and how to build it, and the
WebSocket server runs as before.
"""

from __future__ import annotations

import html
import shutil
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

WEB_DIR = Path(__file__).resolve().parents[1] / "web"
DIST_DIR = WEB_DIR / "dist"
INDEX = "index.html"
ASSETS = "assets"


def page_url(host: str, port: int) -> str:
    """The address to open in a browser; a wildcard bind address is shown as loopback.

    Browsers allow the microphone only on https pages or on localhost, so the
    loopback address is also the one that works without TLS.
    """
    shown = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host
    return f"http://[{shown}]:{port}/" if ":" in shown else f"http://{shown}:{port}/"


def page_unavailable_reason(dist_dir: Path = DIST_DIR) -> str | None:
    """None when the page is built, else one sentence saying why not and what to do."""
    if (dist_dir / INDEX).is_file() and (dist_dir / ASSETS).is_dir():
        return None
    if shutil.which("npm") is None:
        return (
            "the candidate page has not been built because Node.js and npm were not found. "
            "Install Node.js 20 or later (with npm), then run: bash scripts/setup.sh"
        )
    return f"the candidate page has not been built ({dist_dir} is missing). Run: bash scripts/setup.sh"


def mount_candidate_page(app: FastAPI, dist_dir: Path = DIST_DIR) -> None:
    """Add `GET /` (the page) and `/assets/*` (its script and styles) to the interview server.

    Whether the page exists is checked per request, so building it while the
    server runs makes it appear without a restart.
    """

    @app.get("/", response_model=None)
    async def candidate_page() -> FileResponse | HTMLResponse:
        reason = page_unavailable_reason(dist_dir)
        if reason is not None:
            return HTMLResponse(_unavailable_html(reason), status_code=503, headers={"Cache-Control": "no-store"})
        return FileResponse(dist_dir / INDEX, headers={"Cache-Control": "no-cache"})

    app.mount(f"/{ASSETS}", StaticFiles(directory=dist_dir / ASSETS, check_dir=False), name=ASSETS)


def _unavailable_html(reason: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>Interview page unavailable</title></head>"
        '<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; '
        'line-height: 1.5; color: #111; background: #fff">'
        "<h1>The interview page is not available</h1>"
        f'<p role="alert">This server is running, but {html.escape(reason)}</p>'
        "<p>The interview itself works: WebSocket clients can still connect to <code>/ws</code>.</p>"
        "</body></html>"
    )
