"""What a turn produced, and when: for memory and history, and for the first-audio log."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from .text import heard_part, join_pieces


@dataclass
class FirstAudio:
    """When each step towards the first audio happened (`time.monotonic()`), so the debug log
    (and `bench/first_audio.py`) can tell where the time between a clause's last token and
    its audio goes."""

    started: float  # the turn
    requested: float | None = None  # the LLM request
    clause: float | None = None  # the chunk that completed the first segment arrived
    synthesis: tuple[float, float] | None = None  # its synthesis, as the turn awaited it
    published: float | None = None  # its `Segment` published: encoded and queued for clients

    def describe(self) -> str:
        """One line, in ms from the turn's start (the format the benchmark reads)."""

        def at(moment: float | None) -> str:
            return "?" if moment is None else f"{1000 * (moment - self.started):.1f}"

        start, end = self.synthesis or (None, None)
        return (
            f"LLM request at {at(self.requested)} ms, clause complete at {at(self.clause)} ms, "
            f"synthesis {at(start)}-{at(end)} ms, published at {at(self.published)} ms "
            f"(turn started at {self.started:.6f} s, monotonic)"
        )


@dataclass
class TurnReport:
    """What a turn produced, for memory and history."""

    reply: str = ""
    delivered: list[str] = field(default_factory=list)
    # Seconds from the LLM request to its first chunk and to the first audio sent.
    first_token_s: float | None = None
    first_audio_s: float | None = None
    audio_s: float = 0.0
    error: str | None = None
    acknowledged: bool = False
    interrupted: bool = False
    heard: str | None = None  # interrupted: what the user said they heard, if they said
    # Segments the output guard withheld: why each was (never what it said).
    withheld: list[str] = field(default_factory=list)
    # The streamer cut the reply (`stage/cut`): nothing of it is remembered as said.
    cut: bool = False
    # Set once the reply is recorded: takes it back from memory and history (a cut that
    # comes while the reply is still inside the stream delay).
    retract: Callable[[], Coroutine[Any, Any, None]] | None = None

    def said(self) -> str:
        """What counts as said: all of it, or, interrupted, what was heard of what was sent
        (without the user's word on it, all that was sent). A withheld segment never counts:
        then only what was sent does."""
        if not self.interrupted:
            return join_pieces(self.delivered) if self.withheld else self.reply
        sent = join_pieces(self.delivered)
        return sent if self.heard is None else heard_part(self.heard, sent)
