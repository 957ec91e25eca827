"""Simulated interview candidate: a WebSocket client that talks to the bot like a person would.

Why: the interviewer has to be exercised end to end, over a real socket and in real time,
without a human. This client streams a microphone continuously (silence between answers),
waits until the interviewer has finished speaking, answers from a YAML script with
Piper speech (scripts/candidate_voice.py), records both sides, and measures the latency the candidate perceives:
end of its answer -> first interviewer audio back. Pipecat's UserBotLatencyObserver measures
the server half; this is the listener half.

    python scripts/simulate_candidate.py --url ws://127.0.0.1:8765/ws \\
        --script scripts/candidates/senior_backend_engineer.yaml --record-dir /tmp/run1

In-process use (end-to-end tests): ``report = await run_candidate(url, script_path, ...)``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from loguru import logger

from scripts.candidate_client import CandidateClient, CandidateConnectionError, CandidateSetupError, Synthesizer
from scripts.candidate_report import CandidateReport, TurnRecord
from scripts.candidate_script import CandidateScript, CandidateScriptError, load_candidate_script

__all__ = [
    "CandidateClient",
    "CandidateConnectionError",
    "CandidateReport",
    "CandidateSetupError",
    "Synthesizer",
    "TurnRecord",
    "main",
    "run_candidate",
]


async def run_candidate(
    url: str,
    script: CandidateScript | str | Path,
    *,
    synthesizer: Synthesizer | None = None,
    end_of_turn_silence: float = 1.2,
    listening_cue_secs: float = 0.0,
    timeout: float = 600.0,
    record_dir: str | Path | None = None,
    json_report: str | Path | None = None,
    send_client_ready: bool = True,
    noise_amplitude: int = 0,
    origin: str | None = None,
    on_turn: Callable[[TurnRecord], None] | None = None,
    on_client: Callable[[CandidateClient], None] | None = None,
    on_connected: Callable[[CandidateClient], None] | None = None,
    log: Callable[[str], None] | None = None,
) -> CandidateReport:
    """Play one scripted candidate against the bot at ``url`` and return what happened.

    Raises CandidateConnectionError if the bot cannot be reached, CandidateScriptError for a bad
    script, CandidateSetupError if the candidate's voice cannot start. ``report.turns`` holds every answer
    started, including one cut off by the end of the session (``finished=False``). ``synthesizer`` defaults to
    the candidate's Piper voice (scripts/candidate_voice.py). ``on_turn`` is
    called as each answer gets its first interviewer audio back; ``on_client`` receives the client
    before it connects (keep it to call ``send_client_message`` or read ``now()`` during the run),
    ``on_connected`` once the WebSocket is open.
    """
    if not isinstance(script, CandidateScript):
        script = load_candidate_script(script)
    if synthesizer is None:
        synthesizer = _make_synthesizer()
    client = CandidateClient(
        url, script, synthesizer, end_of_turn_silence=end_of_turn_silence, listening_cue_secs=listening_cue_secs,
        send_client_ready=send_client_ready,
        noise_amplitude=noise_amplitude, origin=origin, on_turn=on_turn, on_connected=on_connected, log=log,
    )  # fmt: skip
    if on_client is not None:
        on_client(client)
    report = await client.run(timeout=timeout)
    if record_dir is not None:
        report.recordings = {k: str(v) for k, v in client.recorder.write(record_dir).items()}
    if json_report is not None:
        report.write_json(json_report)
    return report


# -- command line -----------------------------------------------------------------------------


def print_turn(turn: TurnRecord) -> None:
    words = len(turn.answer_text.split())
    said = f"turn {turn.index + 1}: said {words} words ({turn.answer_end_time - turn.answer_start_time:.1f} s)"
    if not turn.finished:
        print(f"turn {turn.index + 1}: cut off by the end of the session ({words}-word answer)", flush=True)
    elif turn.latency_ms is None:
        print(f"{said} -> no reply before the session ended", flush=True)
    else:
        flags = " [interviewer spoke during the answer]" if turn.overlapped else ""
        flags += " [script exhausted, fallback answer]" if turn.fallback else ""
        print(f"{said} -> interviewer audio after {turn.latency_ms:.0f} ms{flags}", flush=True)


def _make_synthesizer() -> Synthesizer:
    """The candidate's Piper voice, with its failures (missing package or voice file) as one-line errors."""
    try:
        from scripts.candidate_voice import default_candidate_synthesizer

        return default_candidate_synthesizer()
    except (ImportError, OSError, ValueError, RuntimeError) as exc:
        raise CandidateSetupError(f"cannot start the candidate's Piper voice: {exc}") from exc


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Play a scripted interview candidate against the bot's WebSocket server.")
    p.add_argument("--url", default="ws://127.0.0.1:8765/ws", help="bot WebSocket URL (default: %(default)s)")
    p.add_argument("--script", required=True, type=Path, help="candidate script YAML (see scripts/candidates/)")
    p.add_argument("--record-dir", type=Path, help="write heard.wav, said.wav, conversation.wav here")
    p.add_argument("--end-of-turn-silence", type=float, default=1.2, metavar="SECONDS",
                   help="answer after this much interviewer silence (default: %(default)s)")  # fmt: skip
    p.add_argument(
        "--timeout", type=float, default=600.0, metavar="SECONDS", help="give up after this long (default: %(default)s)"
    )
    p.add_argument("--json-report", type=Path, help="write the full report as JSON here")
    p.add_argument("--origin", help="Origin header to send (needed when the server sets allowed_origins)")
    p.add_argument(
        "--mic-noise",
        type=int,
        default=0,
        metavar="AMPLITUDE",
        help="room-noise amplitude in int16 steps (default: digital silence)",
    )
    p.add_argument("--no-client-ready", action="store_true", help="do not send the RTVI client-ready message")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """CLI entry point; returns the process exit code (0 = interview completed)."""
    args = _parse_args(argv)
    logger.remove()
    logger.add(sys.stderr, level="WARNING")
    try:
        script = load_candidate_script(args.script)
        synthesizer = _make_synthesizer()
        who = f"{script.name or args.script.stem} ({len(script.answers)} scripted answers)"
        report = asyncio.run(
            run_candidate(
                args.url, script, synthesizer=synthesizer, end_of_turn_silence=args.end_of_turn_silence,
                timeout=args.timeout, record_dir=args.record_dir, json_report=args.json_report, origin=args.origin,
                noise_amplitude=args.mic_noise, send_client_ready=not args.no_client_ready, on_turn=print_turn,
                on_connected=lambda client: print(f"connected to {client.url} as {who}", flush=True),
                log=lambda line: print(f"note: {line}", file=sys.stderr, flush=True),
            )
        )  # fmt: skip
    except (CandidateConnectionError, CandidateScriptError, CandidateSetupError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    s = report.latency_summary()
    ending = f"server closed ({report.close_code}{': ' + report.close_reason if report.close_reason else ''})"
    print(f"session over: {report.error or ending}; answers given: {len(report.turns)}; heard {report.heard_seconds:.1f} s "
          f"of interviewer audio in {report.duration_seconds:.1f} s")  # fmt: skip
    if s["count"]:
        print(f"voice-to-voice latency (client side): p50 {s['p50_ms']:.0f} ms, p95 {s['p95_ms']:.0f} ms, "
              f"max {s['max_ms']:.0f} ms, n={s['count']}")  # fmt: skip
    if report.recordings:
        print(f"recordings: {report.recordings['conversation']}")
    return 0 if report.completed else 1


if __name__ == "__main__":
    sys.exit(main())
