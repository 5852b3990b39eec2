"""The stage's pace: how much the character talks, as one word a streamer understands.

A pace stands for three numbers — the least gap between replies, the share of ordinary chat
answered, and the idle timer — and each can still be set on its own in the config
(`stage.min_gap_s`, `stage.chat_share`, `stage.idle_after_s`; empty means "from the pace").
`normal` is how the stage behaved before paces existed: no gap, all chat, no idle talk, so
choosing no pace changes nothing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from kagura.config import StageConfig

PACE_NAMES = ("quiet", "normal", "lively")


@dataclass(frozen=True, slots=True)
class Pace:
    name: str
    min_gap_s: float  # seconds from the end of a reply to the start of the next
    chat_share: float  # share of ordinary chat answered, 0..1
    idle_after_s: float  # seconds of silence before the character starts a topic; 0: never

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# quiet: a breather after every reply and a third of the small talk answered, never a
# monologue; lively: every message answered at once, and silence filled after 45 s.
PACES: dict[str, Pace] = {
    "quiet": Pace("quiet", min_gap_s=8.0, chat_share=1 / 3, idle_after_s=0.0),
    "normal": Pace("normal", min_gap_s=0.0, chat_share=1.0, idle_after_s=0.0),
    "lively": Pace("lively", min_gap_s=0.0, chat_share=1.0, idle_after_s=45.0),
}


def resolve(config: StageConfig, name: str | None = None) -> Pace:
    """The pace `name` (default: the configured one) with the config's own numbers over it."""
    chosen = name or config.pace
    if chosen not in PACES:
        raise ValueError(f"unknown pace {chosen!r}: choose one of {', '.join(PACE_NAMES)}")
    base = PACES[chosen]
    return Pace(
        chosen,
        base.min_gap_s if config.min_gap_s is None else config.min_gap_s,
        base.chat_share if config.chat_share is None else config.chat_share,
        base.idle_after_s if config.idle_after_s is None else config.idle_after_s,
    )
