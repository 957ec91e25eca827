"""Who in a room is the candidate, and when the session should start and end.

Rooms can hold more than the bot and the candidate (a recruiter, an observer).
Pipecat's room transports report every participant and, for LiveKit, send
every participant's audio into the pipeline. `CandidateGate` decides: the
candidate is the identity named in the session contract, else the first
participant to join; only their audio is let through; the session ends when
they leave or the room empties.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class CandidateGate:
    expected_identity: str | None = None
    candidate: str | None = None
    present: set[str] = field(default_factory=set)
    ended: bool = False

    def joined(self, identity: str, user_id: str | None = None) -> bool:
        """Record a join; True when this join is the candidate arriving (start the interview).

        `user_id` is what the expected identity is matched against when the room
        tags audio with a different id (Daily: session id vs the token's user_id).
        """
        self.present.add(identity)
        if self.candidate is not None or self.ended:
            return False
        if self.expected_identity is None or self.expected_identity in (identity, user_id):
            self.candidate = identity
            return True
        return False

    def left(self, identity: str) -> bool:
        """Record a departure; True once, when the candidate has left or the room is empty."""
        self.present.discard(identity)
        if self.ended:
            return False
        if (self.candidate is not None and identity == self.candidate) or not self.present:
            self.ended = True
            return True
        return False

    def accepts_audio(self, identity: str | None) -> bool:
        """Only the candidate's audio enters the pipeline (nobody's before they are known)."""
        return self.candidate is not None and identity == self.candidate
