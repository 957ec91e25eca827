"""report.html renders for every way a session ends, escapes the transcript and never reaches the network."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from report import REPORT_FILE, render_report, write_report
from report.__main__ import main as report_main
from tests.fakes.session_records import MARKUP_LINE, write_record

URL = re.compile(r"""(?:https?:)?//[\w.-]+""", re.IGNORECASE)


@pytest.mark.parametrize("kind", ["finished", "errored", "hung_up"])
def test_report_renders_for_every_ending(tmp_path: Path, kind: str) -> None:
    html = render_report(write_record(tmp_path / kind, kind=kind))
    assert "Ada Lovelace" in html and "Senior Backend Engineer" in html
    assert '<audio id="recording" controls preload="metadata" src="recording.wav">' in html
    assert {"finished": "Completed", "errored": "Ended by an error", "hung_up": "Caller hung up"}[kind] in html
    for section in ("Scorecard", "Evidence by area", "Timeline", "Transcript", "Response latency", "Cost estimate"):
        assert f">{section}</h2>" in html
    assert "data-seek=" in html
    if kind == "errored":
        assert "RuntimeError: the TTS engine crashed" in html


def test_heuristic_report_is_indicative_and_short_calls_get_no_recommendation(tmp_path: Path) -> None:
    finished = render_report(write_record(tmp_path / "f", kind="finished"))
    assert "Offline heuristic (indicative only, not a verdict)" in finished
    assert "Strong yes" not in finished and ">Yes<" not in finished
    hung_up = render_report(write_record(tmp_path / "h", kind="hung_up"))
    assert "Insufficient evidence" in hung_up and "the interview ended after" in hung_up


def test_transcript_markup_is_escaped(tmp_path: Path) -> None:
    html = render_report(write_record(tmp_path / "r"))
    assert MARKUP_LINE not in html
    assert (
        "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt; &amp; &lt;img src=x onerror=alert(1)&gt;"
        in html
    )
    assert html.count("<script>") == 1  # ours only


def test_report_has_no_external_urls(tmp_path: Path) -> None:
    html = render_report(write_record(tmp_path / "r"))
    assert URL.findall(html) == []
    assert not re.search(r"""\b(?:src|href)=["'](?!#|recording\.wav)""", html)


def test_missing_and_corrupt_files_give_a_report_that_says_so(tmp_path: Path) -> None:
    record = write_record(tmp_path / "broken")
    (record / "evaluation.json").write_text("{not json", encoding="utf-8")
    (record / "latency.json").unlink()
    (record / "recording.wav").write_bytes(b"RIFF0000garbage")
    with (record / "events.jsonl").open("a", encoding="utf-8") as events:
        events.write("{truncated\n")
    html = render_report(record)
    assert "This record is incomplete" in html
    assert "evaluation.json could not be read" in html and "latency.json is missing" in html
    assert "recording.wav is not a playable WAV file" in html and "events.jsonl: 1 unreadable line(s)" in html
    assert "<audio" not in html and "No evaluation was written" in html


def test_an_empty_folder_still_renders(tmp_path: Path) -> None:
    html = render_report(tmp_path)
    assert "config.json is missing" in html and "Nothing was transcribed" in html


def test_write_report_and_the_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    record = write_record(tmp_path / "cli")
    assert write_report(record) == record / REPORT_FILE
    (record / REPORT_FILE).unlink()
    assert report_main([str(record)]) == 0
    assert (record / REPORT_FILE).is_file() and capsys.readouterr().out.strip().endswith(REPORT_FILE)
    assert report_main([str(tmp_path / "nope")]) == 2
