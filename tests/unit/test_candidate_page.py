"""`GET /` on the interview server: the built page, or a plain 503 saying why there is none."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from transports import candidate_page
from transports.candidate_page import mount_candidate_page, page_unavailable_reason, page_url


def client_for(dist: Path) -> TestClient:
    app = FastAPI()
    mount_candidate_page(app, dist)
    return TestClient(app)


def test_serves_the_built_page_and_its_assets(tmp_path: Path) -> None:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>Interview</title>")
    (tmp_path / "assets" / "app.js").write_text("console.log('hi')")
    client = client_for(tmp_path)
    page = client.get("/")
    assert page.status_code == 200 and "<title>Interview</title>" in page.text
    assert client.get("/assets/app.js").text == "console.log('hi')"
    assert client.get("/assets/missing.js").status_code == 404


def test_unbuilt_page_says_why_instead_of_failing(tmp_path: Path) -> None:
    page = client_for(tmp_path / "dist").get("/")
    assert page.status_code == 503 and "text/html" in page.headers["content-type"]
    assert "not been built" in page.text and "bash scripts/setup.sh" in page.text


def test_without_npm_the_reason_names_node(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(candidate_page.shutil, "which", lambda _name: None)
    reason = page_unavailable_reason(tmp_path)
    assert reason is not None and "Node.js" in reason and "npm" in reason


def test_page_url_is_openable() -> None:
    assert page_url("127.0.0.1", 8765) == "http://127.0.0.1:8765/"
    assert page_url("0.0.0.0", 80) == "http://127.0.0.1:80/"
    assert page_url("::1", 9000) == "http://[::1]:9000/"
