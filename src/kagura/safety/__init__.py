"""Live safety: what the character says passes a guard before anyone hears it.

`ListGuard` is the zero-latency part: the streamer's blocked words and patterns and the
default English and Chinese lists, matched through the usual disguises. `GuardModel` is the
optional part: a safety classifier asked about each segment while it is being synthesised.
"""

from kagura.safety.guard_model import UNAVAILABLE, GuardModel
from kagura.safety.lists import ListGuard, Match
from kagura.safety.verdict import GarbledVerdict, GuardFailure, Verdict

__all__ = [
    "UNAVAILABLE",
    "GarbledVerdict",
    "GuardFailure",
    "GuardModel",
    "ListGuard",
    "Match",
    "Verdict",
]
