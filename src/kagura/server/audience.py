"""Who hears the stage: the connections of `/proxy-ws`, by role.

Every connection is counted (for `/stage/stats`), but only roles that hear the show
(`kagura.permissions.HEARS_SHOW`: pages, overlays, the streamer's tools) receive it; a
platform client gets only the replies to its own messages. Each event of the stage is encoded
once and queued on every listener's bounded sender without waiting, so a slow listener never
delays the others: one that falls too far behind overflows its sender and is disconnected
(close code 1013) while everyone else carries on. The stage is told how many listen, so it
never talks to an empty room.
"""

from __future__ import annotations

from collections import Counter

from kagura.auth import Role
from kagura.permissions import HEARS_SHOW
from kagura.sender import BoundedSender
from kagura.stage.events import StageEvent
from kagura.stage.stage import Stage

from .encoder import Encoder

PAGES = "pages"  # the stage's audience count for `/proxy-ws` listeners


class Audience:
    def __init__(self, stage: Stage, encoder: Encoder) -> None:
        self.stage = stage
        self.encoder = encoder
        self._roles: dict[str, Role] = {}
        self._listeners: dict[str, BoundedSender] = {}
        self._unsubscribe = stage.subscribe(self.publish)

    def join(self, client_uid: str, sender: BoundedSender, role: Role) -> None:
        self._roles[client_uid] = role
        if HEARS_SHOW[role]:
            self._listeners[client_uid] = sender
            self._counted()

    def leave(self, client_uid: str) -> None:
        self._roles.pop(client_uid, None)
        if self._listeners.pop(client_uid, None) is not None:
            self._counted()

    def publish(self, event: StageEvent) -> None:
        """Queue the event's frames for every listener. Iterates over a snapshot, so a
        client that joins or leaves meanwhile causes no error: it gets this event or not."""
        encoded = self.encoder.encode(event)
        for client_uid, sender in list(self._listeners.items()):
            for frame in encoded.to(client_uid):
                if not sender.put(frame):
                    if sender.closed:  # given up on: its sender is closing it
                        self.leave(client_uid)
                    break

    def roles(self) -> dict[str, int]:
        """Connected clients by role, listeners or not."""
        return dict(Counter(role.value for role in self._roles.values()))

    def close(self) -> None:
        self._unsubscribe()

    def _counted(self) -> None:
        self.stage.set_audience(PAGES, len(self._listeners))
