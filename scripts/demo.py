"""Run one whole interview offline: the bot on a free port, a simulated candidate against it.

Starts `bot.py --transport websocket --port 0 --once` as a child process (a real
server, exactly as users run it), plays the candidate script for the chosen
interview over the WebSocket, then prints where the session record is.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


LISTENING = re.compile(r"listening on (ws://\S+)")
RECORD = re.compile(r"Session record: (\S+)")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="senior_backend_engineer", help="bundled interview (default: %(default)s)")
    parser.add_argument("--script", type=Path, help="candidate script (default: scripts/candidates/<config>.yaml)")
    parser.add_argument("--persona", choices=("interviewer", "coach"), default="interviewer")
    parser.add_argument("--timeout", type=float, default=900, help="give up after this many seconds")
    return parser.parse_args(argv)


class BotProcess:
    """The bot as a child process; its stdout lines are collected on a thread."""

    def __init__(self, args: list[str]):
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "bot.py"), *args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.lines: list[str] = []
        self.url: str | None = None
        self.ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip())
            if match := LISTENING.search(line):
                self.url = match.group(1)
                self.ready.set()
        self.ready.set()

    def record_dir(self) -> Path | None:
        for line in self.lines:
            if match := RECORD.search(line):
                path = Path(match.group(1))
                return path if path.is_absolute() else ROOT / path
        return None


def print_recognition(report, transcript: Path) -> None:  # type: ignore[no-untyped-def]
    """How much of what the candidate said the interviewer heard (word accuracy, whole interview)."""
    from scripts.word_accuracy import word_accuracy

    said = " ".join(t.answer_text for t in report.turns if t.finished)
    lines = [json.loads(line) for line in transcript.read_text().splitlines() if line.strip()]
    heard = " ".join(e["text"] for e in lines if e["speaker"] == "candidate")
    if said:
        print(f"demo: candidate words recognised: {word_accuracy([said], [heard]):.1%} (1 - WER over the interview)")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from loguru import logger

    logger.remove()  # the bot logs to its own stream; keep the demo's output to the story
    logger.add(sys.stderr, level="WARNING")
    from scripts.simulate_candidate import print_turn, run_candidate  # imports Pipecat: after the log level

    script = args.script or ROOT / "scripts" / "candidates" / f"{args.config}.yaml"
    if not script.exists():
        print(f"demo: no candidate script {script}", file=sys.stderr)
        return 2
    print(f"demo: starting the interviewer ({args.config}, {args.persona}) ...", flush=True)
    bot = BotProcess(
        ["--transport", "websocket", "--port", "0", "--once", "--config", args.config, "--persona", args.persona]
    )
    if not bot.ready.wait(timeout=180) or bot.url is None:
        print(
            f"demo: the bot did not start (exit code {bot.process.poll()}); run `python bot.py` to see why",
            file=sys.stderr,
        )
        bot.process.kill()
        return 1
    print(f"demo: bot ready at {bot.url}; the simulated candidate joins (real-time audio, a few minutes)", flush=True)
    heard = Path(tempfile.mkdtemp(prefix="demo-candidate-"))
    try:
        report = asyncio.run(run_candidate(bot.url, script, timeout=args.timeout, on_turn=print_turn, record_dir=heard))
    finally:
        try:
            bot.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            bot.process.terminate()
            bot.process.wait(timeout=10)
    record = bot.record_dir()
    summary = report.latency_summary()
    print(
        f"demo: interview {'completed' if report.completed else 'did NOT complete'}: {len(report.turns)} answers",
        flush=True,
    )
    if summary["count"]:
        print(
            f"demo: client-side voice-to-voice latency p50 {summary['p50_ms']:.0f} ms, p95 {summary['p95_ms']:.0f} ms"
        )
    if record is None:
        print("demo: the bot printed no session record", file=sys.stderr)
        return 1
    shutil.move(str(heard), str(record / "candidate"))  # what the candidate heard and said, next to the record
    if (record / "transcript.jsonl").exists():
        print("demo: transcript:")
        for line in (record / "transcript.jsonl").read_text().splitlines():
            entry = json.loads(line)
            print(f"  {entry['speaker']:>11}: {entry['text']}")
        print_recognition(report, record / "transcript.jsonl")
    print(f"Session record: {record.resolve()}")
    report_file = record / "report.html"
    if not report_file.exists():  # written by the bot at the end; regenerate if it is missing
        from report import write_report

        report_file = write_report(record)
    print(f"Report: {report_file.resolve()}")
    return 0 if report.completed else 1


if __name__ == "__main__":
    sys.exit(main())
