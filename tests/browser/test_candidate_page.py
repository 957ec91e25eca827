"""A whole interview by voice in headless Chromium, on the candidate page, against a real bot.

Chromium's fake capture device plays a WAV of a spoken answer as the microphone.
The answer starts after enough silence for the greeting to finish (a barge-in
would cut it). Checks: the page connects, the greeting plays, the interviewer
state goes listening -> thinking -> speaking, the answer lands in the session
record's transcript, the phase clock from the server is shown and updates, the
interview ends with the record's location on screen. Takes about 40 s.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from scripts.candidate_voice import default_candidate_synthesizer
from tests.browser.candidate_page import fake_microphone_args, require_built_page, write_wav
from tests.browser.chromium import artifact_path, chromium_browser
from tests.e2e.conftest import one_question_interview, read_jsonl, write_yaml

SAMPLE_RATE = 16000
ANSWER = "I built a payment service with a message queue, idempotent consumers and careful monitoring."
DISTINCTIVE_WORDS = ("payment", "service", "message", "queue", "idempotent", "consumers", "monitoring")
SECONDS_AFTER_CONNECT_BEFORE_THE_GREETING = 4.0  # services load + first audio, measured ~3 s
GREETING_MARGIN_SECS = 4.0


def greeting_text(config: dict) -> str:
    """About what the structured interviewer says first (only used to time the answer)."""
    return (
        f"Hello! I'm {config['interviewer_name']}, and I'll be interviewing you today for the {config['role']} "
        f"role at {config['company']['name']}. We have about {config['duration_minutes']} minutes, covering "
        f"introduction. Let's begin. {config['phases'][0]['questions'][0]['text']}"
    )


def candidate_microphone(tmp_path: Path, config: dict) -> Path:
    """Silence while the greeting plays, the answer, then silence (the file plays once)."""
    voice = default_candidate_synthesizer()
    greeting_secs = len(voice.synthesize(greeting_text(config), SAMPLE_RATE)) / (2 * SAMPLE_RATE)
    lead = SECONDS_AFTER_CONNECT_BEFORE_THE_GREETING + greeting_secs + GREETING_MARGIN_SECS
    silence = b"\0\0" * int(SAMPLE_RATE * lead)
    return write_wav(tmp_path / "answer.wav", silence + voice.synthesize(ANSWER, SAMPLE_RATE), SAMPLE_RATE)


def printed(bot, text: str, timeout: float = 5.0) -> bool:  # type: ignore[no-untyped-def]
    """Whether the bot printed `text` (its output is read by a thread, so give it a moment)."""
    deadline = time.monotonic() + timeout
    while not any(text in line for line in bot.output):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def page_facts(page) -> dict:  # type: ignore[no-untyped-def]
    return page.evaluate("JSON.parse(JSON.stringify(window.interviewPage))")


def states_in_order(states: list[str], wanted: list[str]) -> bool:
    position = 0
    for state in states:
        if position < len(wanted) and state == wanted[position]:
            position += 1
    return position == len(wanted)


def test_a_whole_interview_by_voice_in_the_browser(start_bot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    require_built_page()
    config = one_question_interview("browser_screen")
    wav = candidate_microphone(tmp_path, config)
    bot = start_bot("--config", str(write_yaml(tmp_path / "interview.yaml", config)))
    page_url = bot.wait_ready().replace("ws://", "http://").removesuffix("ws")
    assert printed(bot, f"Candidate page: {page_url}"), bot.output

    with chromium_browser(fake_microphone_args(wav)) as browser:
        page = browser.new_page()
        page.set_viewport_size({"width": 390, "height": 844})  # phone width
        page.goto(page_url)
        page.get_by_role("button", name="Start interview").click()

        page.wait_for_function("window.interviewPage.timings.firstAudioMs !== undefined", timeout=20_000)
        page.wait_for_function("window.interviewPage.progress !== null", timeout=10_000)
        first_clock = page.locator("#interview-left").inner_text()
        assert page.locator("#phase").inner_text() == "Introduction (1 of 1)"

        page.wait_for_function("document.getElementById('state').dataset.state === 'speaking'", timeout=10_000)
        page.screenshot(path=str(artifact_path("candidate_page_speaking.png")), full_page=True)
        page.wait_for_function("window.interviewPage.ended !== undefined", timeout=75_000)
        facts = page_facts(page)
        last_clock = page.locator("#interview-left").inner_text()
        assert page.locator("#ended").is_visible()
        shown_record = page.locator("#record").inner_text()
        page.screenshot(path=str(artifact_path("candidate_page_interview.png")), full_page=True)

    states = [s["state"] for s in facts["states"]]
    assert states_in_order(states, ["thinking", "speaking", "listening", "thinking", "speaking", "ended"]), states
    assert facts["problem"] is None
    assert facts["micPeak"] > 0.05, "the level meter never moved while the answer played"
    assert facts["capture"] == {
        **facts["capture"],
        "echoCancellation": True,
        "noiseSuppression": True,
        "autoGainControl": True,
    }
    assert facts["ended"]["byUser"] is False and facts["ended"]["outcome"] == "completed"
    # The server sends audio at twice real time and closes after the goodbye: the page let it finish.
    assert facts["ended"]["goodbyeDrainMs"] > 500, facts["ended"]
    assert facts["progress"]["ended"] is True
    assert re.fullmatch(r"\d+:\d\d", first_clock) and last_clock != first_clock, (first_clock, last_clock)

    assert bot.wait_exit(60) == 0
    record = bot.record_dir()
    assert shown_record == facts["session"]["record"] == record.name  # the name only: server paths stay private
    candidate_lines = [
        line["text"] for line in read_jsonl(record / "transcript.jsonl") if line["speaker"] == "candidate"
    ]
    heard = " ".join(candidate_lines).lower()
    assert sum(word in heard for word in DISTINCTIVE_WORDS) >= 2, candidate_lines
    print(
        f"\nconnect -> first greeting audio in the browser: {facts['timings']['firstAudioMs']} ms "
        f"(RTVI bot-started-speaking: {facts['timings']['firstBotSpeakingMs']} ms); "
        f"screenshot: {artifact_path('candidate_page_interview.png')}"
    )
    (artifact_path("candidate_page_timings.json")).write_text(json.dumps(facts["timings"], indent=2))


def test_the_candidate_can_end_the_interview(start_bot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """End interview, by keyboard, while the interviewer speaks: the page says so, the record is kept."""
    require_built_page()
    bot = start_bot("--config", str(write_yaml(tmp_path / "interview.yaml", one_question_interview("browser_leave"))))
    page_url = bot.wait_ready().replace("ws://", "http://").removesuffix("ws")
    silence = write_wav(tmp_path / "silence.wav", b"\0\0" * SAMPLE_RATE * 30, SAMPLE_RATE)
    with chromium_browser(fake_microphone_args(silence)) as browser:
        page = browser.new_page()
        page.goto(page_url)
        page.get_by_role("button", name="Start interview").click()
        page.wait_for_function("window.interviewPage.timings.firstAudioMs !== undefined", timeout=20_000)
        page.get_by_role("button", name="End interview").press("Enter")
        page.wait_for_function("window.interviewPage.ended !== undefined", timeout=10_000)
        assert "You ended the interview" in page.locator("#ended-text").inner_text()
        assert page.locator("#state").get_attribute("data-state") == "ended"
    bot.wait_exit(60)
    events = [e["type"] for e in read_jsonl(bot.record_dir() / "events.jsonl")]
    assert "candidate_left" in events and events[-1] == "session_ended"
