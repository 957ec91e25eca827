"""Call a running phone server as Twilio would, with a scripted candidate on the line.

    python bot.py --transport twilio --port 8765        # PUBLIC_HOST, TWILIO_* set
    python scripts/simulate_phone_call.py --server http://127.0.0.1:8765 \\
        --script scripts/candidates/senior_backend_engineer.yaml

Posts the signed voice webhook (TWILIO_AUTH_TOKEN, PUBLIC_HOST from the settings), follows
the TwiML to the media stream (wss://PUBLIC_HOST is "tunnelled" to --server), speaks the
script's answers (the candidate's Piper voice, µ-law 8 kHz, 20 ms media messages), plays the interviewer on a
phone-speaker clock and echoes marks once played. Prints the voice-to-voice latency measured
on the caller's side (end of answer -> first interviewer audio heard), p50/p95.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.candidate_script import load_candidate_script
from scripts.candidate_voice import default_candidate_synthesizer
from scripts.twilio_media_sim import SimulatedPhoneCall, call_form, parse_stream_twiml, percentile, post_webhook, tunnel
from settings import Settings


async def simulate(server: str, script_path: str, interview: str | None, record: Path | None, timeout: float) -> int:
    settings = Settings()
    account = settings.twilio_account_sid or "AC" + "0" * 32
    token = settings.twilio_auth_token.get_secret_value() if settings.twilio_auth_token else None
    host = settings.public_host or "localhost"
    call_sid = "CA" + secrets.token_hex(16)
    query = f"interview={interview}" if interview else ""
    status, twiml = await post_webhook(server, host, call_form(call_sid, account), auth_token=token, query=query)
    if status != 200:
        print(f"webhook answered {status}: {twiml[:200]}", file=sys.stderr)
        return 1
    stream = parse_stream_twiml(twiml)
    script = load_candidate_script(script_path)
    call = SimulatedPhoneCall(
        tunnel(stream.url, server),
        call_sid=call_sid,
        account_sid=account,
        custom_parameters=stream.parameters,
        script=list(script.answers),
        synthesizer=default_candidate_synthesizer(),
        record_path=record,
    )
    report = await call.run(timeout=timeout)
    latencies = report.latencies_ms()
    print(f"call {call_sid}: ended by {report.closed_by}; marks echoed {report.marks_echoed}; clears {report.clears}")
    for turn in report.turns:
        print(f"  answer {turn.index + 1}: voice-to-voice {turn.latency_ms} ms")
    if latencies:
        print(f"voice-to-voice p50 {percentile(latencies, 50):.0f} ms, p95 {percentile(latencies, 95):.0f} ms")
    return 0 if report.closed_by != "timeout" else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default="http://127.0.0.1:8765", help="the phone server's local address")
    parser.add_argument("--script", required=True, help="candidate script (YAML, see scripts/candidate_script.py)")
    parser.add_argument("--interview", help="ask the webhook for this interview (?interview=NAME)")
    parser.add_argument("--record", type=Path, help="write the caller's side as a stereo WAV here")
    parser.add_argument("--timeout", type=float, default=900, help="give up after this many seconds")
    args = parser.parse_args()
    return asyncio.run(simulate(args.server, args.script, args.interview, args.record, args.timeout))


if __name__ == "__main__":
    sys.exit(main())
