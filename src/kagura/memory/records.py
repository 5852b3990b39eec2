"""What long-term memory holds: viewer profiles and notes (facts and episode summaries)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Kind = Literal["fact", "summary"]
KINDS: frozenset[str] = frozenset(("fact", "summary"))


@dataclass(frozen=True)
class ViewerKey:
    """A platform identity: the platform's user id, or `name:<name>` when it gives none."""

    platform: str
    uid: str


@dataclass(frozen=True)
class Sighting:
    """One chat event's contribution to its sender's profile counters."""

    key: ViewerKey
    name: str
    at: float  # epoch seconds
    amount: float = 0.0
    currency: str = ""


@dataclass(frozen=True)
class Note:
    """A fact (about a viewer, or about no one in particular) or an episode summary."""

    id: int
    kind: Kind
    text: str
    created: float
    viewer_id: int | None = None
    source: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Profile:
    """A viewer as remembered: counters kept without the LLM, and the facts about them."""

    id: int
    platform: str
    uid: str
    name: str
    names: tuple[str, ...]
    first_seen: float
    last_seen: float
    messages: int
    paid: dict[str, float]
    facts: tuple[Note, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["names"] = list(self.names)
        data["facts"] = [fact.to_json() for fact in self.facts]
        return data


@dataclass(frozen=True)
class Recall:
    """What one turn remembers: its viewers' profiles, then notes found by search."""

    profiles: tuple[Profile, ...] = ()
    notes: tuple[Note, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.profiles or self.notes)


@dataclass(frozen=True)
class Speaker:
    """A viewer speaking in a turn: who they are and the name they go by."""

    key: ViewerKey
    name: str
