"""FillerSpeech: one phrase when the reply is late, never over the candidate or after a barge-in."""

from __future__ import annotations

from pipecat.frames.frames import (
    InterruptionFrame,
    TTSAudioRawFrame,
    UserStartedSpeakingFrame,
    UserStoppedSpeakingFrame,
)
from pipecat.tests.utils import SleepFrame, run_test

from processors.filler_speech import FillerSpeech

RATE = 24000


def fake_synthesize(text: str, sample_rate: int) -> bytes:
    return b"\x01\x00" * (sample_rate // 2)  # half a second


def reply_audio() -> TTSAudioRawFrame:
    return TTSAudioRawFrame(b"\x00\x00" * 480, RATE, 1)


def filler_audio(frames) -> float:
    return (
        sum(len(f.audio) for f in frames if isinstance(f, TTSAudioRawFrame) and f.audio[:2] == b"\x01\x00") / 2 / RATE
    )


async def run(frames, **kwargs) -> tuple[FillerSpeech, list, list]:
    events: list = []
    filler = FillerSpeech(
        fake_synthesize, after_secs=0.2, on_filler=lambda reason, ms: events.append((reason, ms)), **kwargs
    )
    down, _ = await run_test(filler, frames_to_send=[SleepFrame(0.1), *frames])
    return filler, list(down), events


async def test_a_late_reply_gets_one_filler_before_it() -> None:
    frames = [UserStartedSpeakingFrame(), UserStoppedSpeakingFrame(), SleepFrame(0.6), reply_audio(), SleepFrame(0.05)]
    _, down, events = await run(frames)
    assert filler_audio(down) == 0.5 and len(events) == 1 and events[0][1] >= 200
    first_filler = next(i for i, f in enumerate(down) if isinstance(f, TTSAudioRawFrame))
    assert down[first_filler].audio[:2] == b"\x01\x00"  # the filler came before the reply


async def test_a_prompt_reply_gets_none() -> None:
    _, down, events = await run([UserStoppedSpeakingFrame(), SleepFrame(0.05), reply_audio(), SleepFrame(0.4)])
    assert filler_audio(down) == 0 and not events


async def test_never_after_a_barge_in_and_never_over_the_candidate() -> None:
    frames = [UserStoppedSpeakingFrame(), SleepFrame(0.05), InterruptionFrame(), SleepFrame(0.4),
              UserStoppedSpeakingFrame(), SleepFrame(0.05), UserStartedSpeakingFrame(), SleepFrame(0.4)]  # fmt: skip
    _, down, events = await run(frames)
    assert filler_audio(down) == 0 and not events


async def test_a_failover_mid_turn_says_it_at_once_but_only_once() -> None:
    filler = FillerSpeech(fake_synthesize, after_secs=0.3)

    async def fail_over_twice() -> None:
        await filler.failover_started("llm")
        await filler.failover_started("tts")

    frames = [UserStoppedSpeakingFrame(), SleepFrame(0.05)]
    _down, _ = await run_test(filler, frames_to_send=[SleepFrame(0.1), *frames, SleepFrame(0.5)])
    assert filler.fillers == 1  # the timer fired once; failovers after it add nothing
    await fail_over_twice()
    assert filler.fillers == 1


def test_a_zero_threshold_is_refused() -> None:
    import pytest

    with pytest.raises(ValueError, match="after_secs"):
        FillerSpeech(fake_synthesize, after_secs=0)
