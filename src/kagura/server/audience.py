"""Who hears the stage: the connections of `/proxy-ws`, by role.

Every connection is counted (for `/stage/stats`), but only roles that hear the show
(`kagura.permissions.HEARS_SHOW`: pages, overlays, the streamer's tools) receive it; a
platform client gets only the replies to its own messages. The streamer's pages (admin) hear
it at once; page-role pages (the OBS overlay) hear it as it goes on air, after the stream
delay (`Airing`). Each event of the stage is encoded once and queued on every listener's
bounded sender without waiting, so a slow listener never delays the others: one that falls
too far behind overflows its sender and is disconnected (close code 1013) while everyone else
carries on. The stage is told how many listen, so it never talks to an empty room.
"""

from __future__ import annotations

from collections import Counter

from kagura.auth import Role
from kagura.permissions import HEARS_SHOW
from kagura.sender import BoundedSender
from kagura.stage.events import StageEvent

from .airing import Airing
from .encoder import Encoded, Encoder

PAGES = "pages"  # the stage's audience count for `/proxy-ws` listeners


class Audience:
    def __init__(self, airing: Airing, encoder: Encoder) -> None:
        self.airing = airing
        self.stage = airing.stage
        self.encoder = encoder
        self._roles: dict[str, Role] = {}
        self._live: dict[str, BoundedSender] = {}
        self._delayed: dict[str, BoundedSender] = {}
        # The last event encoded: without a delay, both groups hear an event one after the
        # other, and it is encoded once for both.
        self._last: tuple[StageEvent, Encoded] | None = None
        self._unsubscribe = (
            airing.subscribe(lambda event: self._publish(event, self._live), delayed=False),
            airing.subscribe(lambda event: self._publish(event, self._delayed), delayed=True),
        )

    def join(self, client_uid: str, sender: BoundedSender, role: Role) -> None:
        self._roles[client_uid] = role
        if HEARS_SHOW[role]:
            listeners = self._delayed if self.delayed(client_uid) else self._live
            listeners[client_uid] = sender
            self._counted()

    def leave(self, client_uid: str) -> None:
        self._roles.pop(client_uid, None)
        gone = self._live.pop(client_uid, None) or self._delayed.pop(client_uid, None)
        if gone is not None:
            self._counted()

    def delayed(self, client_uid: str) -> bool:
        """Whether the client watches the show after the stream delay (its playback then
        tells nothing about where the stage is: only the streamer's pages' does)."""
        return self.airing.delays and self._roles.get(client_uid) is not Role.ADMIN

    def _publish(self, event: StageEvent, listeners: dict[str, BoundedSender]) -> None:
        """Queue the event's frames for every listener of the group. Iterates over a
        snapshot, so a client that joins or leaves meanwhile causes no error."""
        encoded = self._encode(event)
        for client_uid, sender in list(listeners.items()):
            for frame in encoded.to(client_uid):
                if not sender.put(frame):
                    if sender.closed:  # given up on: its sender is closing it
                        self.leave(client_uid)
                    break

    def _encode(self, event: StageEvent) -> Encoded:
        if self._last is not None and self._last[0] is event:
            return self._last[1]
        encoded = self.encoder.encode(event)
        self._last = (event, encoded)
        return encoded

    def roles(self) -> dict[str, int]:
        """Connected clients by role, listeners or not."""
        return dict(Counter(role.value for role in self._roles.values()))

    def close(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()

    def _counted(self) -> None:
        self.stage.set_audience(PAGES, len(self._live) + len(self._delayed))
