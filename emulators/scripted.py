"""Zero-cost providers for load tests: the three emulators answering from a script, not a model.

Why (issue #32): a load test of the bot with Whisper and Piper behind the emulators pays for local
inference on the same cores, so it measures the models, not us. In scripted mode each emulator
speaks exactly its usual wire protocol (Pipecat's real services connect unchanged) but the
answers cost next to nothing:

- Deepgram: the n-th *answer* heard on a connection gets the n-th scripted line (cycling). An
  answer starts with loud audio after `answer_gap_secs` of quiet (energy, as the emulator's
  endpointing already measures it), so a Finalize in a short pause inside an answer does not
  move on to the next line. Each flush gets the line's words in proportion to the loud audio
  heard so far (`loud_secs` per line when the script gives it, else estimated from the text;
  the rest of the line once 95 % is heard), so every pause the bot finalizes gets its words,
  as a real recogniser's would, and the last one completes the line.
- OpenAI: `ScriptedInterviewer` replies by how many candidate turns the request's context holds
  (stateless: any session, any order): greeting, one question per answer, then a closing line
  with an `end_interview` tool call; the evaluator's JSON requests get a valid neutral verdict.
- ElevenLabs: `SyntheticVoice` slices speech-like audio rendered once per sample rate; its
  length follows the text (about 15 characters a second, Piper's pace), so turns last as long
  as with a real voice.

    python -m emulators.scripted --script answers.yaml [--only deepgram openai elevenlabs]

prints one line per emulator with the setting to point the bot at (`DEEPGRAM_BASE_URL=...`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from emulators.openai import FakeResponse

SECS_PER_CHAR = 0.066  # Piper joe-medium reads ~15 characters a second
LOUD_SECS_PER_CHAR = 0.06  # the candidate's voice: loud audio per character, pauses excluded (an estimate)
VOICE_SECONDS = 20.0  # rendered once per rate; longer sentences repeat it
DEFAULT_REPLIES = (
    "Hello, I am Alex from Northwind Labs. Could you tell me about your recent backend work?",
    "Thanks. How would you design a payment service that never charges twice?",
    "What happens when the database commit succeeds but the reply to the client is lost?",
    "How do you test that behaviour before it reaches production?",
    "What would you change first if the traffic grew ten times?",
)
CLOSING = "Thank you, that is all from me today. Goodbye."


@dataclass(frozen=True)
class ScriptedLine:
    """One scripted answer: its text and, when known, how much loud audio saying it takes."""

    text: str
    loud_secs: float | None = None

    def words_heard(self, loud_secs: float) -> int:
        """How many of the words have been said after `loud_secs` of this answer's loud audio."""
        words = len(self.text.split())
        total = self.loud_secs or len(self.text) * LOUD_SECS_PER_CHAR
        return words if loud_secs >= 0.95 * total else round(words * loud_secs / total)


def load_script(path: Path) -> list[ScriptedLine]:
    """Scripted lines from a candidate script (YAML/JSON `answers:` of strings or `{text, loud_secs}`) or text."""
    raw = path.read_text()
    if path.suffix in (".yaml", ".yml", ".json"):
        data = yaml.safe_load(raw)
        answers = data.get("answers", []) if isinstance(data, dict) else data
        lines = [
            ScriptedLine(a.strip())
            if isinstance(a, str)
            else ScriptedLine(str(a.get("text", "")).strip(), a.get("loud_secs"))
            for a in answers or []
        ]
    else:
        lines = [ScriptedLine(line.strip()) for line in raw.splitlines()]
    lines = [line for line in lines if line.text]
    if not lines:
        raise ValueError(f"{path}: no scripted lines")
    return lines


def load_lines(path: Path) -> list[str]:
    """The texts of `load_script(path)`."""
    return [line.text for line in load_script(path)]


class SyntheticVoice:
    """Speech-like PCM16 whose length follows the text, sliced from one rendering per sample rate."""

    def __init__(self, secs_per_char: float = SECS_PER_CHAR) -> None:
        self.secs_per_char = secs_per_char

    def seconds(self, text: str) -> float:
        return max(0.3, len(text) * self.secs_per_char)

    def pcm(self, text: str, rate: int) -> bytes:
        """`text`'s audio at `rate` (whole samples; repeats the rendering past VOICE_SECONDS)."""
        need = 2 * int(self.seconds(text) * rate)
        rendered = _rendered(rate)
        if need <= len(rendered):
            return rendered[:need]
        return (rendered * (need // len(rendered) + 1))[:need]


@cache
def _rendered(rate: int) -> bytes:
    """A voiced buzz (120 Hz and harmonics) with ~4 syllables a second and short word gaps: audible, cheap."""
    t = np.arange(int(VOICE_SECONDS * rate)) / rate
    voice = sum(np.sin(2 * np.pi * 120 * k * t) / k for k in range(1, 6))
    syllables = np.clip(np.sin(2 * np.pi * 4 * t), 0, None) ** 0.5
    words = (np.sin(2 * np.pi * 0.7 * t) > -0.9).astype(np.float64)  # ~0.15 s dips between words
    return (3000 * voice * syllables * words).astype(np.int16).tobytes()


class ScriptedInterviewer:
    """An OpenAI responder that holds a short interview from `replies` (see the module docstring)."""

    def __init__(self, replies: Sequence[str] = DEFAULT_REPLIES, closing: str = CLOSING) -> None:
        """`replies[0]` greets; `replies[k]` follows the k-th answer; after the last, `closing` ends."""
        if not replies:
            raise ValueError("ScriptedInterviewer needs at least a greeting")
        self.replies = list(replies)
        self.closing = closing

    def __call__(self, body: dict[str, Any]) -> FakeResponse:
        if (body.get("response_format") or {}).get("type") == "json_object":
            return FakeResponse(text=json.dumps(neutral_verdict(body)))
        messages = [m for m in body.get("messages", []) if isinstance(m, dict)]
        if messages and messages[-1].get("role") == "tool":
            return FakeResponse(text="")  # the tool's result needs no more words: the closing was said
        answers = sum(1 for m in messages if m.get("role") == "user")
        if answers < len(self.replies):
            return FakeResponse(text=self.replies[answers])
        tools = {t.get("function", {}).get("name") for t in body.get("tools") or [] if isinstance(t, dict)}
        calls = [("end_interview", {"reason": "scripted interview complete"})] if "end_interview" in tools else []
        return FakeResponse(text=self.closing, tool_calls=calls)


_AREA = re.compile(r"^Area (\S+) \(", re.MULTILINE)
_SUBSET = re.compile(r"Score only these areas: ([A-Za-z0-9_, -]+);")
_SCALE = re.compile(r'"score": "integer (-?\d+)-(-?\d+)')


def neutral_verdict(body: dict[str, Any]) -> dict[str, Any]:
    """What the evaluator's JSON contract asks for: every requested area at mid-scale, quoting the candidate."""
    messages = [m for m in body.get("messages", []) if isinstance(m, dict)]
    system = next((str(m.get("content", "")) for m in messages if m.get("role") == "system"), "")
    user = next((str(m.get("content", "")) for m in messages if m.get("role") == "user"), "")
    subset = _SUBSET.search(user)
    areas = [a.strip() for a in subset.group(1).split(",")] if subset else _AREA.findall(system)
    scale = _SCALE.search(system)
    score = (int(scale.group(1)) + int(scale.group(2))) // 2 if scale else 3
    said = [line.split(": ", 1)[1] for line in user.splitlines() if "Candidate: " in line and ": " in line]
    quote = " ".join(said[0].split()[:4]) if said else ""
    return {
        "areas": {a: {"score": score, "evidence": [quote] if quote else [], "rationale": "Scripted."} for a in areas},
        "overall": {"recommendation": "maybe", "confidence": 0.5, "summary": "Scripted verdict for load tests."},
    }


def main(argv: list[str] | None = None) -> None:
    """Serve the scripted emulators until interrupted (each on its own port, one process)."""
    from emulators.deepgram import DeepgramEmulator
    from emulators.elevenlabs import ElevenLabsEmulator
    from emulators.openai import FakeOpenAIServer
    from emulators.server import EmulatorServer

    p = argparse.ArgumentParser(description="Zero-cost Deepgram / OpenAI / ElevenLabs emulators for load tests.")
    p.add_argument("--script", type=Path, help="candidate answers (YAML `answers:` or one per line) Deepgram hears")
    p.add_argument("--replies", type=Path, help="interviewer lines: greeting, then one per answer (same formats)")
    p.add_argument("--only", nargs="+", choices=["deepgram", "openai", "elevenlabs"],
                   default=["deepgram", "openai", "elevenlabs"])  # fmt: skip
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="first port (0: ephemeral ports)")
    args = p.parse_args(argv)
    lines = load_script(args.script) if args.script else [ScriptedLine(r) for r in DEFAULT_REPLIES[1:]]
    replies = load_lines(args.replies) if args.replies else list(DEFAULT_REPLIES)

    def port(i: int) -> int:
        return args.port + i if args.port else 0

    makers = {
        "deepgram": lambda i: DeepgramEmulator(script=lines, host=args.host, port=port(i)),
        "openai": lambda i: FakeOpenAIServer(responder=ScriptedInterviewer(replies), host=args.host, port=port(i)),
        "elevenlabs": lambda i: ElevenLabsEmulator(voice=SyntheticVoice(), host=args.host, port=port(i)),
    }
    settings = {"deepgram": "DEEPGRAM_BASE_URL", "openai": "OPENAI_BASE_URL", "elevenlabs": "ELEVENLABS_BASE_URL"}

    async def serve() -> None:
        servers: list[EmulatorServer] = [makers[name](i) for i, name in enumerate(args.only)]
        for name, server in zip(args.only, servers, strict=True):
            await server.start()
            print(f"{name} scripted emulator at {server.base_url}  ({settings[name]}={server.base_url})", flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            for server in servers:
                await server.stop()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
