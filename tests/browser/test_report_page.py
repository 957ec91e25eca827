"""report.html in headless Chromium: no console errors, evidence links seek the recording, a screenshot."""

from __future__ import annotations

from pathlib import Path

from report import write_report
from tests.browser.chromium import artifact_path, chromium_browser
from tests.fakes.session_records import write_record


def test_report_page_seeks_the_recording_from_evidence(tmp_path: Path) -> None:
    report = write_report(write_record(tmp_path / "session", kind="finished"))
    with chromium_browser(["--autoplay-policy=no-user-gesture-required"]) as browser:
        page = browser.new_page()  # type: ignore[attr-defined]
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("request", lambda r: problems.append(f"request {r.url}") if not r.url.startswith("file:") else None)
        page.set_viewport_size({"width": 1120, "height": 900})
        page.goto(report.as_uri())
        page.wait_for_function("document.getElementById('recording').readyState >= 1")
        quote = page.locator("a.quote[data-seek]").nth(1)
        target = float(quote.get_attribute("data-seek") or "nan")
        assert target > 0
        quote.click()
        seeked = page.evaluate("document.getElementById('recording').currentTime")
        assert abs(seeked - target) < 1.0, (seeked, target)
        page.evaluate("document.getElementById('recording').pause(); window.scrollTo(0, 0)")
        page.screenshot(path=str(artifact_path("report.png")), full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path=str(artifact_path("report-narrow.png")), full_page=True)
        page.emulate_media(media="print")
        page.screenshot(path=str(artifact_path("report-print.png")), full_page=True)
        assert problems == []
