"""Provider URLs without their secrets, for everything that records or shows a URL.

Why: an OpenAI-compatible server is often given as `https://user:password@host/v1` or with
`?key=...` / `?api_key=...` / `?token=...` in the query; the provider's name (with its URL) goes
into config.json, events, the report and the log. `redact_url` keeps scheme, host, port and path
(what tells two endpoints apart) and replaces credentials and secret-looking query values.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

REDACTED = "REDACTED"
# Query parameters whose value is a secret: key, api_key, apikey, api-key, access_token, token, secret,
# password, signature, sig, auth, ... (matched on the name's words, case-insensitively).
_SECRET_NAME = re.compile(
    r"(^|[_\-.])(key|apikey|token|secret|password|passwd|pwd|signature|sig|auth|credential)s?$", re.I
)


def redact_url(url: str) -> str:
    """`url` with userinfo and secret query values replaced; anything unparsable becomes a placeholder."""
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a malformed port
    except ValueError:
        return f"<unparsable URL, {REDACTED}>"
    if not parts.netloc and "@" in url:  # not a URL urlsplit understands, but it carries something@
        return f"<unparsable URL, {REDACTED}>"
    netloc = parts.hostname or ""
    if ":" in netloc:  # IPv6 literal
        netloc = f"[{netloc}]"
    if port is not None:
        netloc += f":{port}"
    if parts.username is not None or parts.password is not None:
        netloc = f"{REDACTED}@{netloc}"
    query = "&".join(
        f"{quote(name, safe='')}={REDACTED if _SECRET_NAME.search(name) else quote(value, safe='')}"
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))
