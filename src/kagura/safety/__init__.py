"""Live safety: what the character says passes a guard before anyone hears it.

`ListGuard` is the zero-latency part: the streamer's blocked words and patterns and the
default English and Chinese lists, matched through the usual disguises.
"""

from kagura.safety.lists import ListGuard, Match

__all__ = ["ListGuard", "Match"]
