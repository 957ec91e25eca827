"""The phone server's doors: the signed webhook, the TwiML it answers, the token-checked media socket."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from scripts.twilio_media_sim import call_form, connected_message, media_message, parse_stream_twiml, start_message
from transports.twilio_security import StreamTokens, twilio_signature
from transports.twilio_server import TwilioCall, TwilioServerOptions, build_twilio_app

HOST = "interviews.example.test"
AUTH = "auth-token"
ACCOUNT = "AC" + "1" * 32
CALL = "CA" + "2" * 32


class Calls:
    def __init__(self) -> None:
        self.calls: list[TwilioCall] = []

    async def __call__(self, call: TwilioCall) -> None:
        self.calls.append(call)


def make_app(
    *, validate: bool = True, numbers: dict[str, str] | None = None, clock=None, max_sessions: int = 20
) -> tuple[TestClient, Calls]:
    calls = Calls()
    options = TwilioServerOptions(
        public_host=HOST,
        auth_token=AUTH,
        validate_signatures=validate,
        interviews=frozenset({"default", "qualitative_research"}),
        default_interview="default",
        number_interviews=numbers or {},
        tokens=StreamTokens(b"s" * 32, ttl_secs=60, **({"clock": clock} if clock else {})),
        max_sessions=max_sessions,
    )
    return TestClient(build_twilio_app(calls, options)), calls


def post(client: TestClient, form: dict[str, str], *, query: str = "", signature: str | bool | None = True):
    path = "/twilio/voice" + (f"?{query}" if query else "")
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if signature is True:
        signature = twilio_signature(f"https://{HOST}{path}", form.items(), AUTH)
    if signature:
        headers["X-Twilio-Signature"] = signature
    return client.post(path, content=urlencode(form), headers=headers)


def test_signed_webhook_answers_twiml_connecting_the_media_stream() -> None:
    client, _ = make_app()
    response = post(client, call_form(CALL, ACCOUNT))
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/xml")
    stream = parse_stream_twiml(response.text)
    assert stream.url.startswith(f"wss://{HOST}/twilio/media/")
    assert stream.parameters == {"interview": "default"}


def test_interview_choice_query_then_called_number_then_default() -> None:
    client, _ = make_app(numbers={"+15550009999": "qualitative_research"})
    chosen = parse_stream_twiml(post(client, call_form(CALL, ACCOUNT), query="interview=qualitative_research").text)
    assert chosen.parameters["interview"] == "qualitative_research"
    mapped = parse_stream_twiml(post(client, call_form("CA" + "7" * 32, ACCOUNT, to="+15550009999")).text)
    assert mapped.parameters["interview"] == "qualitative_research"
    unknown = post(client, call_form(CALL, ACCOUNT), query="interview=../../etc/passwd")
    assert unknown.status_code == 200 and "<Hangup/>" in unknown.text and "<Connect>" not in unknown.text


def test_missing_wrong_and_replayed_signatures_get_403() -> None:
    client, _ = make_app()
    form = call_form(CALL, ACCOUNT)
    assert post(client, form, signature=None).status_code == 403
    assert post(client, form, signature="AAAAAAAAAAAAAAAAAAAAAAAAAAA=").status_code == 403
    good = twilio_signature(f"https://{HOST}/twilio/voice", form.items(), AUTH)
    assert post(client, {**form, "To": "+15550000000"}, signature=good).status_code == 403  # other params
    assert post(client, form, query="interview=qualitative_research", signature=good).status_code == 403  # other URL
    assert post(client, form, signature=good).status_code == 200


def test_signature_check_can_be_switched_off_only_explicitly() -> None:
    client, _ = make_app(validate=False)
    assert post(client, call_form(CALL, ACCOUNT), signature=None).status_code == 200
    with pytest.raises(ValueError, match="TWILIO_AUTH_TOKEN"):
        TwilioServerOptions(
            public_host=HOST,
            auth_token=None,
            validate_signatures=True,
            interviews=frozenset({"d"}),
            default_interview="d",
        )


def stream_path(client: TestClient, call_sid: str = CALL) -> str:
    url = parse_stream_twiml(post(client, call_form(call_sid, ACCOUNT)).text).url
    return url.split(HOST, 1)[1]


def handshake(ws, call_sid: str = CALL) -> None:
    ws.send_text(json.dumps(connected_message()))
    ws.send_text(
        json.dumps(
            start_message(
                stream_sid="MZ1", call_sid=call_sid, account_sid=ACCOUNT, custom_parameters={"interview": "default"}
            )
        )
    )


def test_media_socket_with_valid_token_hands_the_call_over_once() -> None:
    client, calls = make_app()
    path = stream_path(client)
    with client.websocket_connect(path) as ws:
        handshake(ws)
        with pytest.raises(WebSocketDisconnect):
            ws.receive_text()  # the fake runner returns at once; the server closes
    assert [(c.stream_sid, c.call_sid, c.interview, c.custom_parameters) for c in calls.calls] == [
        ("MZ1", CALL, "default", {"interview": "default"})
    ]
    with pytest.raises(WebSocketDisconnect) as refused:  # single use
        with client.websocket_connect(path):
            pass
    assert refused.value.code == 1008


@pytest.mark.parametrize("path", ["/twilio/media", "/twilio/media?token=", "/twilio/media/not-a-token"])
def test_media_socket_without_a_valid_token_is_refused(path: str) -> None:
    client, calls = make_app()
    with pytest.raises(WebSocketDisconnect) as refused:
        with client.websocket_connect(path):
            pass
    assert refused.value.code == 1008 and not calls.calls


def test_media_socket_with_an_expired_token_is_refused() -> None:
    now = [1000.0]
    client, calls = make_app(clock=lambda: now[0])
    path = stream_path(client)
    now[0] += 61
    with pytest.raises(WebSocketDisconnect):
        with client.websocket_connect(path):
            pass
    assert not calls.calls


def test_token_for_another_call_and_media_before_start_are_closed_without_a_session() -> None:
    client, calls = make_app()
    with client.websocket_connect(stream_path(client)) as ws:
        handshake(ws, call_sid="CA" + "9" * 32)
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
    assert closed.value.code == 1008
    with client.websocket_connect(stream_path(client, "CA" + "8" * 32)) as ws:  # one token per call: another call
        ws.send_text(json.dumps(connected_message()))
        ws.send_text(json.dumps(media_message("MZ1", 2, 1, 0, b"\xff" * 160)))
        with pytest.raises(WebSocketDisconnect):
            ws.receive_text()
    assert not calls.calls


def test_calls_still_in_their_handshake_count_against_the_limit() -> None:
    """The slot is reserved before accept: a second call cannot slip in while the first says hello."""
    client, calls = make_app(max_sessions=1)
    first, second = stream_path(client, "CA" + "3" * 32), stream_path(client, "CA" + "4" * 32)
    with client.websocket_connect(first):  # accepted; its connected/start not sent yet
        with pytest.raises(WebSocketDisconnect) as refused:
            with client.websocket_connect(second) as ws:
                handshake(ws, "CA" + "4" * 32)
                ws.receive_text()
        assert refused.value.code == 1013
    assert calls.calls == []


@pytest.mark.parametrize("token", ["\u00e9t\u00e9.\u00e9", "abc.\u2603", "%F0%9F%98%80.x", "%ED%A0%80.x"])
def test_non_ascii_stream_tokens_are_refused_not_crashed_on(token: str) -> None:
    client, calls = make_app()
    for path in (f"/twilio/media/{token}", f"/twilio/media?token={token}"):
        with pytest.raises(WebSocketDisconnect) as refused:
            with client.websocket_connect(path):
                pass
        assert refused.value.code == 1008
    assert not calls.calls


def test_a_non_ascii_webhook_signature_is_a_403() -> None:
    client, _ = make_app()
    form = call_form(CALL, ACCOUNT)
    response = client.post(
        "/twilio/voice", content=urlencode(form),
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": "\u00e9t\u00e9".encode("latin-1")},
    )  # fmt: skip
    assert response.status_code == 403


def test_a_replayed_webhook_gets_the_same_single_use_token_then_a_refusal() -> None:
    now = [1000.0]
    client, _ = make_app(clock=lambda: now[0])
    first = post(client, call_form(CALL, ACCOUNT))
    assert post(client, call_form(CALL, ACCOUNT)).text == first.text  # within the TTL: the same token
    now[0] += 61
    assert post(client, call_form(CALL, ACCOUNT)).status_code == 409  # after it: no second stream for the call
    assert post(client, call_form("CA" + "5" * 32, ACCOUNT)).status_code == 200


def test_webhook_bodies_over_the_cap_are_413_before_the_signature_check() -> None:
    client, _ = make_app()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    assert client.post("/twilio/voice", content=b"a=" + b"x" * 70_000, headers=headers).status_code == 413

    def chunks():  # no Content-Length: chunked
        for _ in range(100):
            yield b"x" * 1024

    assert client.post("/twilio/voice", content=chunks(), headers=headers).status_code == 413
    assert client.post("/twilio/voice", content=b"\xff\xfe", headers=headers).status_code == 400
