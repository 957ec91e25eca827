"""Smart Turn v3 with one ONNX session per process, shared by every session's analyzer.

Why: Pipecat's ``LocalSmartTurnAnalyzerV3`` builds its own ONNX session in ``__init__``
(~23 MB model + ~34 MB onnxruntime per instance, and a load on the event loop). The
analyzer's per-session state (the audio buffer) must stay per session; the session of
the model need not: onnxruntime sessions are safe to run from several threads.
"""

from __future__ import annotations

import threading
from typing import Any

from pipecat.audio.turn.smart_turn.base_smart_turn import BaseSmartTurn, SmartTurnParams
from pipecat.audio.turn.smart_turn.local_smart_turn_v3 import LocalSmartTurnAnalyzerV3

_lock = threading.Lock()
_shared_session: Any = None


def shared_smart_turn_session() -> Any:
    """The process's Smart Turn ONNX session (loaded on first use, e.g. at startup)."""
    global _shared_session
    with _lock:
        if _shared_session is None:
            _shared_session = LocalSmartTurnAnalyzerV3()._session
        return _shared_session


class SharedSmartTurnAnalyzer(LocalSmartTurnAnalyzerV3):
    """``LocalSmartTurnAnalyzerV3`` on the shared session (its own ``__init__`` would load another)."""

    def __init__(self, *, params: SmartTurnParams | None = None, sample_rate: int | None = None) -> None:
        BaseSmartTurn.__init__(self, sample_rate=sample_rate, params=params)
        self._log_data = False
        self._session = shared_smart_turn_session()
