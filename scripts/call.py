"""Place an outbound phone interview: `python scripts/call.py --to +15551234567 --from +15557654321 --interview NAME`.

Asks Twilio's REST API (``POST /2010-04-01/Accounts/{AccountSid}/Calls.json``,
form-encoded, basic auth with the account SID and auth token) to call the
candidate; when they answer, Twilio fetches TwiML from our webhook,
``https://PUBLIC_HOST/twilio/voice?interview=NAME``, and the call runs like an
incoming one. The REST root is the setting ``TWILIO_API_BASE_URL`` (tests aim it
at a local fake). Prints the new call's SID.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote, urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from settings import Settings

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class CallError(RuntimeError):
    """Twilio refused the call (or could not be reached); the message says why."""


def webhook_url(public_host: str, interview: str | None) -> str:
    query = f"?{urlencode({'interview': interview})}" if interview else ""
    return f"https://{public_host}/twilio/voice{query}"


def place_call(
    *, api_base_url: str, account_sid: str, auth_token: str, to: str, from_: str, url: str, timeout: float = 15.0
) -> dict:
    """Create the call; returns Twilio's call resource (JSON)."""
    endpoint = f"{api_base_url.rstrip('/')}/2010-04-01/Accounts/{quote(account_sid)}/Calls.json"
    body = urlencode({"To": to, "From": from_, "Url": url, "Method": "POST"}).encode()
    credentials = base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode()
    request = urllib.request.Request(
        endpoint,
        data=body,
        method="POST",
        headers={"Authorization": f"Basic {credentials}", "Content-Type": "application/x-www-form-urlencoded"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")[:300]
        raise CallError(f"Twilio answered {exc.code}: {detail}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise CallError(f"could not reach {endpoint}: {exc}") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/call.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--to", required=True, help="the candidate's number, E.164 (+15551234567)")
    parser.add_argument("--from", dest="from_", required=True, help="your Twilio number to call from, E.164")
    parser.add_argument("--interview", help="interview config name the server knows (default: the server's --config)")
    args = parser.parse_args(argv)
    settings = Settings()
    missing = [
        name
        for name, value in (
            ("TWILIO_ACCOUNT_SID", settings.twilio_account_sid),
            ("TWILIO_AUTH_TOKEN", settings.twilio_auth_token),
            ("PUBLIC_HOST", settings.public_host),
        )
        if not value
    ]
    if missing:
        print(f"call.py: error: set {', '.join(missing)} (see .env.example)", file=sys.stderr)
        return EXIT_USAGE
    assert settings.twilio_auth_token is not None and settings.public_host and settings.twilio_account_sid
    try:
        call = place_call(
            api_base_url=settings.twilio_api_base_url,
            account_sid=settings.twilio_account_sid,
            auth_token=settings.twilio_auth_token.get_secret_value(),
            to=args.to,
            from_=args.from_,
            url=webhook_url(settings.public_host, args.interview),
        )
    except CallError as exc:
        print(f"call.py: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"Calling {args.to}: call {call.get('sid')} ({call.get('status')})", flush=True)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
