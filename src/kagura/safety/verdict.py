"""What a guard model says about a text, and why it could not say anything.

Both are plain values, so the parsers of each model's answer (`kagura.safety.classifier`,
`kagura.safety.moderation`) are pure functions, and the client (`kagura.safety.guard_model`)
only has to turn its transport's troubles into a `GuardFailure`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from kagura.clipping import one_line

Level = Literal["safe", "controversial", "unsafe"]
Block = Literal["unsafe", "controversial"]
MAX_QUOTED_CHARS = 80  # of a garbled answer, in the message that reports it


@dataclass(frozen=True)
class Verdict:
    """The guard model's judgement: a level and, when it names them, the categories."""

    level: Level
    categories: tuple[str, ...] = ()

    def blocks(self, block: Block) -> bool:
        """Whether the streamer's `safety.guard.block` keeps a text with this verdict unsaid."""
        return self.level == "unsafe" or (block == "controversial" and self.level != "safe")

    @property
    def rule(self) -> str:
        """For the audit log: "guard:unsafe (S1, S10)", "guard:controversial"."""
        named = f" ({', '.join(self.categories)})" if self.categories else ""
        return f"guard:{self.level}{named}"


class GarbledVerdict(ValueError):
    """The answer is not a verdict in the expected format: a failure, never "safe"."""

    def __init__(self, expected: str, answer: str) -> None:
        super().__init__(f"not a {expected} verdict: {one_line(answer, MAX_QUOTED_CHARS)!r}")


class GuardFailure(Exception):
    """No verdict: the guard model at `url` could not be reached, was too slow, or answered
    something that is not a verdict. `reason` is short ("connection refused"); `hint` says
    what the streamer can do about it."""

    def __init__(self, url: str, reason: str, hint: str, *, unreachable: bool = False) -> None:
        super().__init__(f"{url} ({reason})")
        self.url = url
        self.reason = reason
        self.hint = hint
        self.unreachable = unreachable

    @property
    def status(self) -> str:
        """For the admin page: "unreachable: http://…/moderations (connection refused)"."""
        what = "unreachable" if self.unreachable else "failing"
        return f"{what}: {self.url} ({self.reason})"
