"""Which platform a platform client's connection speaks for.

A platform client says which platform each event came from (`source.platform`), and the
stage keys viewers, bans, rate limits and memory by it: a client that could name any
platform per event could speak as another platform's viewers, or withdraw its super chats.
So a platform connection speaks for one platform: the one its token is bound to
(`kagura tokens --platform NAME`), or else the one its first event names (its hello). Later
events naming another platform are refused. The streamer's own connections (the admin role)
may relay any platform. An event naming no platform binds nothing and is let through: it
carries no platform identity to forge.
"""

from __future__ import annotations

from kagura.auth import Grant, Role
from kagura.stage.events import platform_name


class SpeaksFor:
    def __init__(self, granted: Grant) -> None:
        self.unbound = granted.role is Role.ADMIN  # the streamer may relay any platform
        self.platform = granted.platform  # "": bound by the first event that names one

    def refusal(self, claimed: str) -> str | None:
        """Why an event naming platform `claimed` may not be sent here (None: it may)."""
        name = platform_name(claimed)
        if self.unbound or not name:
            return None
        if not self.platform:
            self.platform = name  # the hello: this connection speaks for it from now on
            return None
        if name.casefold() == self.platform.casefold():
            return None
        return f"this connection speaks for {self.platform}; an event from {name!r} is refused"
