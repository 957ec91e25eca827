"""Twilio webhook signatures (Twilio's documented algorithm) and our media-stream tokens."""

from __future__ import annotations

import pytest

from transports.twilio_security import StreamTokenError, StreamTokens, caller_key, signature_is_valid, twilio_signature

# Twilio's own request-validation test vector (twilio-python tests, the docs' example request).
URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+14158675309",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
}
TOKEN = "12345"
EXPECTED = "RSOYDt4T1cUTdK1PDd93/VVr8B8="


def test_signature_matches_twilios_documented_vector_in_any_parameter_order() -> None:
    assert twilio_signature(URL, PARAMS.items(), TOKEN) == EXPECTED
    assert twilio_signature(URL, reversed(list(PARAMS.items())), TOKEN) == EXPECTED
    assert signature_is_valid(URL, PARAMS.items(), EXPECTED, TOKEN)


@pytest.mark.parametrize(
    ("url", "params", "signature", "token"),
    [
        (URL, PARAMS, None, TOKEN),  # missing
        (URL, PARAMS, "", TOKEN),
        (URL, PARAMS, EXPECTED, "54321"),  # signed with another account's token
        (URL, {**PARAMS, "Digits": "9999"}, EXPECTED, TOKEN),  # replayed with other parameters
        (URL, {**PARAMS, "Extra": "1"}, EXPECTED, TOKEN),
        (URL.replace("foo=1", "foo=2"), PARAMS, EXPECTED, TOKEN),  # other query string
        (URL.replace("https", "http"), PARAMS, EXPECTED, TOKEN),
    ],
)
def test_wrong_or_missing_signatures_are_invalid(url, params, signature, token) -> None:
    assert not signature_is_valid(url, params.items(), signature, token)


def test_stream_token_round_trip_names_call_and_interview() -> None:
    tokens = StreamTokens(b"k" * 32, ttl_secs=60, clock=lambda: 1000.0)
    grant = tokens.verify(tokens.mint("CA1", "qualitative_research"))
    assert (grant.call_sid, grant.interview, grant.expires_at) == ("CA1", "qualitative_research", 1060.0)


def test_a_callers_number_is_carried_as_a_digest_bound_to_the_line_called() -> None:
    key = caller_key("+14158675309", "+18005551212")
    assert key is not None and "4158675309" not in key
    assert caller_key("+14158675309", "+18005551212") == key != caller_key("+14158675309", "+18005550000")
    tokens = StreamTokens(b"k" * 32, ttl_secs=60, clock=lambda: 1000.0)
    assert tokens.verify(tokens.mint("CA1", "x", key)).caller_key == key
    assert tokens.verify(tokens.mint("CA1", "x")).caller_key is None


@pytest.mark.parametrize("caller", ["", "anonymous", "+266696687x", "client:alice", "sip:bob@example.com", "+0123"])
def test_a_withheld_or_non_phone_caller_cannot_call_back(caller: str) -> None:
    assert caller_key(caller, "+18005551212") is None


def test_expired_tampered_foreign_and_garbage_tokens_are_refused() -> None:
    now = [1000.0]
    tokens = StreamTokens(b"k" * 32, ttl_secs=60, clock=lambda: now[0])
    token = tokens.mint("CA1", "x")
    now[0] = 1061.0
    with pytest.raises(StreamTokenError, match="expired"):
        tokens.verify(token)
    now[0] = 1000.0
    payload, _, signature = token.partition(".")
    other = StreamTokens(b"j" * 32, ttl_secs=60, clock=lambda: 1000.0).mint("CA1", "x")
    for bad in (None, "", "abc", f"{payload}.", f".{signature}", f"{payload}x.{signature}", other):
        with pytest.raises(StreamTokenError):
            tokens.verify(bad)
    forged_payload = StreamTokens(b"k" * 32, ttl_secs=10_000, clock=lambda: 1000.0).mint("CA1", "x").split(".")[0]
    with pytest.raises(StreamTokenError, match="signature"):
        tokens.verify(f"{forged_payload}.{signature}")  # a longer lifetime with the old signature
