"""Live-platform clients: each platform's chat, fed to the stage as typed events.

A platform is one module implementing `LivePlatform` (`kagura.live.platform`), one config
class (`kagura.config.live`) and one command in `kagura.live.cli`; the shared `Runner`
(`kagura.live.runner`) does the rest. See docs/live-platforms.md.
"""

from .events import Item, LiveEvent, Withdrawal
from .platform import CommandTable, Fatal, Link, LivePlatform, Recent

__all__ = [
    "CommandTable",
    "Fatal",
    "Item",
    "Link",
    "LiveEvent",
    "LivePlatform",
    "Recent",
    "Withdrawal",
]
