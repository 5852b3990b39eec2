"""Live-platform clients: each platform's chat, fed to the stage as typed events.

A platform is one module implementing `LivePlatform` (`kagura.live.platform`), one config
class (`kagura.config.live`) and one command in `kagura.live.cli`; the shared `Runner`
(`kagura.live.runner`) does the rest. See docs/live-platforms.md.
"""

from .events import Item, LiveEvent, Withdrawal
from .platform import Authors, CommandTable, Fatal, Finished, Link, LivePlatform, Recent, idle

__all__ = [
    "Authors",
    "CommandTable",
    "Fatal",
    "Finished",
    "Item",
    "Link",
    "LiveEvent",
    "LivePlatform",
    "Recent",
    "Withdrawal",
    "idle",
]
