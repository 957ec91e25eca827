"""Finding 9 (record part): a session record survives a crash and a full disk, and only its owner reads it.

Snapshots (`config.json`, `state.json`) are replaced atomically (a write that fails part-way
leaves the previous snapshot whole and no temporary file); the folder is 0700 and its files
0600; a disk that fills mid-session loses the lines that did not fit, never a torn line, and the
record's close never raises (so the session's reports still run); and the candidate is told the
record's name, not where on the server it lives.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

from bots.session_record import SessionRecord
from interview.loader import load_interview_config
from interview.progress import session_message

ROOT = Path(__file__).resolve().parents[2]


def run_limited(code: str, tmp_path: Path, max_file_bytes: int) -> subprocess.CompletedProcess[str]:
    """Run `code` with every file capped at `max_file_bytes` (RLIMIT_FSIZE: a full disk for that process)."""
    prelude = textwrap.dedent(
        f"""
        import resource, signal
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the cap fails with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, ({max_file_bytes}, {max_file_bytes}))
        """
    )
    return subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)],
        cwd=ROOT, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "RECORD": str(tmp_path / "r"),
                       "PYTHONDONTWRITEBYTECODE": "1"},  # a capped .pyc would be a torn one for everyone
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_a_snapshot_that_cannot_be_written_leaves_the_previous_one_whole(tmp_path: Path) -> None:
    result = run_limited(
        """
        import os, pathlib
        from bots.session_record import SessionRecord
        record = SessionRecord.create(pathlib.Path(os.environ["RECORD"]), "s1")
        record.write_config({"interview": "first", "pad": "x" * 1000})
        record.write_json("state.json", {"phase": "intro"})
        for name, write in (("config", record.write_config), ("state", lambda d: record.write_json("state.json", d))):
            try:
                write({"interview": "second", "pad": "y" * 20000})  # over the cap: fails part-way
            except OSError as exc:
                print(name, "refused:", exc.errno)
        """,
        tmp_path,
        8192,
    )
    assert result.returncode == 0, result.stderr
    folder = tmp_path / "r" / "s1"
    assert json.loads((folder / "config.json").read_text())["interview"] == "first", result.stdout
    assert json.loads((folder / "state.json").read_text()) == {"phase": "intro"}
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "events.jsonl", "state.json", "transcript.jsonl"]


def test_a_full_disk_loses_lines_not_the_record_and_close_never_raises(tmp_path: Path) -> None:
    result = run_limited(
        """
        import os, pathlib
        from bots.session_record import SessionRecord
        record = SessionRecord.create(pathlib.Path(os.environ["RECORD"]), "s2")
        for i in range(400):
            record.event("answer_scored", i=i, note="z" * 97)
            record.transcript("candidate", "w" * 90)
        record.event("session_ended", reason="completed")
        record.close()
        print("closed; the reports run next")
        """,
        tmp_path,
        16384,
    )
    assert result.returncode == 0 and "closed; the reports run next" in result.stdout, result.stderr[-3000:]
    folder = tmp_path / "r" / "s2"
    for name in ("events.jsonl", "transcript.jsonl"):
        lines = (folder / name).read_text().splitlines()
        assert lines and all(json.loads(line) for line in lines)  # whole lines only
    assert "No space" in result.stderr or "File too large" in result.stderr  # said, not hidden


async def test_records_are_readable_by_their_owner_only(tmp_path: Path) -> None:
    record = SessionRecord.create(tmp_path / "sessions", "s3")
    record.write_config({"interview": "x"})
    record.write_json("state.json", {"phase": "intro"})
    record.event("session_started")
    await record.append_audio(b"\0\0" * 160, 16000, 1)
    record.close()
    assert stat.S_IMODE(record.directory.stat().st_mode) == 0o700
    for path in record.directory.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    assert os.access(record.directory / "config.json", os.R_OK)


def test_the_candidate_is_told_the_records_name_not_its_server_path(tmp_path: Path) -> None:
    config = load_interview_config("senior_backend_engineer")
    folder = (tmp_path / "sessions" / "20990101-000000-abcdef").resolve()
    message = session_message(config, "20990101-000000-abcdef", str(folder))
    assert message["record"] == "20990101-000000-abcdef"
    assert str(tmp_path) not in json.dumps(message)
