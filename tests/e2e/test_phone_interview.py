"""Phone interviews end to end, offline: `bot.py --transport twilio` as users start it, a fake Twilio.

The simulated call (scripts/twilio_media_sim.py) does what Twilio does: posts the signed
webhook, follows the TwiML to the media WebSocket (through a "tunnel" from wss://PUBLIC_HOST to
the local port), streams the caller's µ-law audio every 20 ms, plays the interviewer's audio on
its own clock and echoes marks once played. The fake REST API (tests/fakes/twilio_rest.py)
receives the hang-up.
"""

from __future__ import annotations

import asyncio
import json
import re
import wave
from pathlib import Path

import aiohttp
import numpy as np
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from interview.loader import load_interview_config
from scripts.candidate_voice import default_candidate_synthesizer
from scripts.twilio_media_sim import (
    Keypress,
    SimulatedPhoneCall,
    call_form,
    connected_message,
    media_message,
    parse_stream_twiml,
    percentile,
    post_webhook,
    tunnel,
)
from scripts.word_accuracy import word_accuracy
from tests.bad_inputs import TWILIO_MEDIA_MESSAGES
from tests.fakes.twilio_rest import FakeTwilioRest
from transports.twilio_security import StreamTokens

from .conftest import read_jsonl, write_yaml

pytestmark = pytest.mark.e2e

ACCOUNT = "AC" + "1" * 32
AUTH = "e2e-auth-token"
HOST = "interviews.example.test"
TOKEN_SECRET = "e2e-stream-token-secret"
ANSWERS = [
    "I have built payment systems in Python for eight years, mostly the ledger and the retry logic around it.",
    "I would put a queue in front of the service and make every request idempotent with a key stored in the database.",
]
RECORD = re.compile(r"Session record: (\S+)")


def phone_interview(tmp_path: Path) -> Path:
    """Two questions, no follow-ups: a short call (about a minute)."""
    config = load_interview_config("senior_backend_engineer").model_dump(mode="json")
    first = config["phases"][0]
    first["questions"] = [first["questions"][0], config["phases"][1]["questions"][0]]
    for question in first["questions"]:
        question["follow_up"] = ""
    config.update(id="phone_screen", phases=[first], duration_minutes=10)
    config["follow_ups"]["max_per_question"] = 0
    config["timeouts"]["session_timeout_seconds"] = 600
    return write_yaml(tmp_path / "phone.yaml", config)


def phone_env(rest: FakeTwilioRest) -> dict[str, str]:
    return {
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_AUTH_TOKEN": AUTH,
        "PUBLIC_HOST": HOST,
        "TWILIO_API_BASE_URL": rest.base_url,
        "TWILIO_STREAM_TOKEN_SECRET": TOKEN_SECRET,
        "TWILIO_GOODBYE_TIMEOUT_SECS": "20",
    }


def http_base(ws_url: str) -> str:
    return "http://" + ws_url.split("//", 1)[1].split("/", 1)[0]


async def dial(server: str, call_sid: str, script, *, caller: str = "+15552223333", **options) -> SimulatedPhoneCall:
    """Twilio's side of an incoming call: the signed webhook, then the stream the TwiML names."""
    status, twiml = await post_webhook(server, HOST, call_form(call_sid, ACCOUNT, caller=caller), auth_token=AUTH)
    assert status == 200, twiml
    stream = parse_stream_twiml(twiml)
    return SimulatedPhoneCall(
        tunnel(stream.url, server),
        call_sid=call_sid,
        account_sid=ACCOUNT,
        custom_parameters=stream.parameters,
        script=script,
        synthesizer=default_candidate_synthesizer(),
        **options,
    )


def channel_rms(path: Path) -> tuple[int, int, float, float]:
    with wave.open(str(path)) as wav:
        channels, rate = wav.getnchannels(), wav.getframerate()
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16).astype(np.float64)
    rms = np.sqrt(np.mean(samples.reshape(-1, channels) ** 2, axis=0)) / 32768.0
    return channels, rate, float(rms[0]), float(rms[1])


async def test_whole_phone_interview_hangs_up_after_the_goodbye_was_heard(tmp_path: Path, start_bot) -> None:
    rest = await FakeTwilioRest(ACCOUNT, AUTH).start()
    try:
        bot = start_bot("--config", str(phone_interview(tmp_path)), transport="twilio", env=phone_env(rest))
        server = http_base(bot.wait_ready())
        call_sid = "CA" + "2" * 32
        call = await dial(server, call_sid, [Keypress("*"), *ANSWERS], record_path=tmp_path / "caller.wav")
        rest.on_hang_up(call_sid, call.remote_hang_up)
        report = await call.run(timeout=150)
        assert await asyncio.to_thread(bot.wait_exit) == 0, "\n".join(bot.output[-40:])
    finally:
        await rest.stop()

    # The server hung up through the REST API, exactly once, as Twilio requires...
    (hang_up,) = rest.hang_ups()
    assert hang_up.path == f"/2010-04-01/Accounts/{ACCOUNT}/Calls/{call_sid}.json"
    assert (hang_up.account_sid, hang_up.call_sid, hang_up.form) == (ACCOUNT, call_sid, {"Status": "completed"})
    assert hang_up.auth == (ACCOUNT, AUTH)
    # ...only after the goodbye had played: its mark came back first, nothing was left unplayed.
    echoes = [(t, name) for t, kind, name in report.timeline if kind == "mark_echo"]
    assert echoes and echoes[-1][1].startswith("end-") and echoes[-1][0] <= hang_up.at
    assert report.pending_marks_at_hang_up == 0 and report.closed_by in ("server_rest", "server"), report.closed_by
    assert report.marks_echoed == report.marks_received >= 6

    latencies = report.latencies_ms()
    spoken = [t.latency_ms for t in report.turns if t.kind == "speech"]
    print(
        f"phone voice-to-voice (caller side, playback clock): {latencies} ms; speech turns "
        f"p50 {percentile(spoken, 50):.0f} ms, p95 {percentile(spoken, 95):.0f} ms"
    )
    assert len(latencies) == 3, report.turns

    record = Path(RECORD.search("\n".join(bot.output)).group(1))  # type: ignore[union-attr]
    config = load_interview_config(str(tmp_path / "phone.yaml"))
    questions = [q.text for q in config.phases[0].questions]
    transcript = read_jsonl(record / "transcript.jsonl")
    interviewer = [t["text"] for t in transcript if t["speaker"] == "interviewer"]
    candidate = [t for t in transcript if t["speaker"] == "candidate"]
    assert questions[0] in interviewer[0]
    assert interviewer[1].startswith("Of course") and questions[0] in interviewer[1], "the * key repeated the question"
    assert any(questions[1] in line for line in interviewer)
    assert config.closing_message in interviewer[-1]
    assert candidate[0]["keypad"] == "*" and len(candidate) >= 3
    # Heard right over 8 kHz mu-law (resampled to 16 kHz for Whisper): ~95 % in
    # scripts/measure_stt_accuracy.py; this floor leaves room for a slow machine.
    heard = " ".join(t["text"] for t in candidate if not t.get("keypad"))
    accuracy = word_accuracy([" ".join(ANSWERS)], [heard])
    print(f"phone-path word accuracy: {accuracy:.1%}")
    assert accuracy >= 0.85, (accuracy, heard)

    events = read_jsonl(record / "events.jsonl")
    assert [e["key"] for e in events if e["type"] == "keypad"] == ["*"]
    assert [e["call_sid"] for e in events if e["type"] == "phone_call"] == [call_sid]
    assert [e["reason"] for e in events if e["type"] == "session_ended"] == ["completed"]
    assert json.loads((record / "config.json").read_text())["transport"] == "twilio"
    latency = json.loads((record / "latency.json").read_text())
    assert any((t.get("listener") or {}).get("source") == "twilio_mark" for t in latency["turns"]), latency["turns"]

    channels, rate, left, right = channel_rms(record / "recording.wav")
    assert (channels, rate) == (2, 8000) and left > 0.005 and right > 0.005, (left, right)
    assert channel_rms(tmp_path / "caller.wav")[0] == 2


async def test_phone_server_refuses_strangers_survives_garbage_and_serves_two_calls_at_once(
    tmp_path: Path, start_bot
) -> None:
    rest = await FakeTwilioRest(ACCOUNT, AUTH).start()
    try:
        # No reconnect window: a dropped call ends its session at once (calling back: test_phone_resume.py).
        env = {**phone_env(rest), "RECONNECT_GRACE_SECONDS": "0"}
        bot = start_bot("--config", str(phone_interview(tmp_path)), transport="twilio", once=False, env=env)
        server = http_base(bot.wait_ready())
        form = call_form("CA" + "7" * 32, ACCOUNT)

        # Webhook: missing, wrong, replayed-with-other-parameters signatures get 403.
        assert (await post_webhook(server, HOST, form, auth_token=None))[0] == 403
        assert (await post_webhook(server, HOST, form, auth_token="not-the-token"))[0] == 403
        status, twiml = await post_webhook(server, HOST, form, auth_token=AUTH)
        assert status == 200
        from transports.twilio_security import twilio_signature

        signature = twilio_signature(f"https://{HOST}/twilio/voice", form.items(), AUTH)
        replayed = {**form, "To": "+15559999999"}
        assert (await post_webhook(server, HOST, replayed, auth_token=None, signature=signature))[0] == 403

        # Media stream: no token, an expired token -> refused before any session.
        ws_base = server.replace("http", "ws")
        expired = StreamTokens(TOKEN_SECRET.encode(), ttl_secs=1, clock=lambda: 0.0).mint(form["CallSid"], "x")
        for path in ("/twilio/media", f"/twilio/media/{expired}"):
            with pytest.raises(InvalidStatus) as refused:
                async with connect(ws_base + path):
                    pass
            assert refused.value.response.status_code == 403

        # Media before start: this socket is closed, the server carries on.
        async with connect(tunnel(parse_stream_twiml(twiml).url, server)) as ws:
            await ws.send(json.dumps(connected_message()))
            await ws.send(json.dumps(media_message("MZ7", 2, 1, 0, b"\xff" * 160)))
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 15)
            assert ws.close_code == 1008

        # Two calls at once: A gets garbage mid-call, answers, then hangs up (stop);
        # B's line goes dead in the middle of its first answer (no stop, socket gone).
        sid_a, sid_b = "CA" + "a" * 32, "CA" + "b" * 32
        call_a = await dial(server, sid_a, ANSWERS[:1], hang_up_after_turns=1)
        call_b = await dial(server, sid_b, ANSWERS[:1], drop_mid_answer=0)

        async def garbage() -> None:
            await call_a.connected.wait()
            await asyncio.sleep(1.0)
            for message in TWILIO_MEDIA_MESSAGES:
                await call_a.send_raw(message)

        reports = await asyncio.gather(call_a.run(timeout=90), call_b.run(timeout=90), garbage())
        report_a, report_b = reports[0], reports[1]
        assert report_a.closed_by == "caller" and report_b.closed_by == "caller_dropped"

        # Both sessions end and write their records; the server is still up.
        for _ in range(300):
            records = [Path(m.group(1)) for line in bot.output if (m := RECORD.search(line))]
            if len(records) >= 2:
                break
            await asyncio.sleep(0.1)
        assert len(records) == 2 and records[0] != records[1], "\n".join(bot.output[-60:])
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{server}/health") as health:
                assert health.status == 200 and (await health.json())["active_calls"] == 0
        assert bot.process.poll() is None
    finally:
        await rest.stop()
        bot.stop()

    by_call = {}
    for record in records:
        events = read_jsonl(record / "events.jsonl")
        (call,) = [e for e in events if e["type"] == "phone_call"]
        by_call[call["call_sid"]] = (record, events)
        assert [e["reason"] for e in events if e["type"] == "session_ended"] == ["candidate_left"]
        assert (record / "recording.wav").exists() and (record / "latency.json").exists()
    assert set(by_call) == {sid_a, sid_b}
    transcript_a = read_jsonl(by_call[sid_a][0] / "transcript.jsonl")
    assert any(t["speaker"] == "candidate" for t in transcript_a), "call A kept going after the garbage"
    assert any(t["speaker"] == "interviewer" for t in read_jsonl(by_call[sid_b][0] / "transcript.jsonl"))
    # No hang-up requests: A hung up itself, and when B's stream socket dies Twilio leaves
    # <Connect><Stream> and, with no TwiML after it, ends the call on its own.
    assert rest.hang_ups() == []

    log = "\n".join(bot.output)
    for expected in (
        "refused Twilio webhook",
        "refused media stream",
        "missing token",
        "expired token",
        "not a Twilio start",
        "dropped non-JSON message",
        "dropped unknown event",
        "dropped oversize message",
        "dropped media payload is not base64",
        "stream stopped by Twilio",
    ):
        assert expected in log, expected
