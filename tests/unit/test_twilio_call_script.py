"""scripts/call.py places an outbound call through Twilio's REST API (a local fake here)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.call import CallError, place_call, webhook_url
from tests.fakes.twilio_rest import FakeTwilioRest

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT, TOKEN = "AC" + "1" * 32, "auth-token"


async def test_place_call_posts_form_with_basic_auth_pointing_at_our_webhook() -> None:
    rest = await FakeTwilioRest(ACCOUNT, TOKEN).start()
    try:
        url = webhook_url("interviews.example.test", "qualitative_research")
        call = await asyncio.to_thread(
            place_call,
            api_base_url=rest.base_url,
            account_sid=ACCOUNT,
            auth_token=TOKEN,
            to="+15551234567",
            from_="+15557654321",
            url=url,
        )
        assert call["sid"].startswith("CA") and call["status"] == "queued"
        (request,) = rest.requests
        assert request.path == f"/2010-04-01/Accounts/{ACCOUNT}/Calls.json"
        assert request.auth == (ACCOUNT, TOKEN)
        assert request.form == {
            "To": "+15551234567",
            "From": "+15557654321",
            "Method": "POST",
            "Url": "https://interviews.example.test/twilio/voice?interview=qualitative_research",
        }
        with pytest.raises(CallError, match="401"):
            await asyncio.to_thread(
                place_call,
                api_base_url=rest.base_url,
                account_sid=ACCOUNT,
                auth_token="wrong",
                to="+1",
                from_="+2",
                url=url,
            )
    finally:
        await rest.stop()


async def test_command_line_uses_settings_and_prints_the_call_sid(tmp_path: Path) -> None:
    rest = await FakeTwilioRest(ACCOUNT, TOKEN).start()
    env = {
        "PATH": "/usr/bin:/bin",
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "PUBLIC_HOST": "interviews.example.test",
        "TWILIO_API_BASE_URL": rest.base_url,
    }
    try:
        done = await asyncio.create_subprocess_exec(
            sys.executable,
            str(ROOT / "scripts" / "call.py"),
            "--to",
            "+15551234567",
            "--from",
            "+15557654321",
            "--interview",
            "senior_backend_engineer",
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        out, err = await done.communicate()
        assert done.returncode == 0, err.decode()
        assert "Calling +15551234567: call CA" in out.decode()
        assert rest.requests[0].form["Url"].endswith("/twilio/voice?interview=senior_backend_engineer")
        missing = await asyncio.create_subprocess_exec(
            sys.executable,
            str(ROOT / "scripts" / "call.py"),
            "--to",
            "+1",
            "--from",
            "+2",
            cwd=tmp_path,
            env={"PATH": "/usr/bin:/bin"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        _, err = await missing.communicate()
        assert missing.returncode == 2 and b"TWILIO_ACCOUNT_SID" in err
    finally:
        await rest.stop()
