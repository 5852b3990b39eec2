"""Sending to every stage client: one serialisation, one non-blocking put per client.

Each client has its own bounded sender and writer task, so a slow client never delays the
others; one that falls too far behind overflows its sender and is disconnected (close code
1013, with a log line) while everyone else carries on.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from kagura.protocol import outgoing as out
from kagura.sender import BoundedSender


@dataclass(frozen=True, slots=True)
class Member:
    sender: BoundedSender
    role: str


class Broadcast:
    def __init__(self) -> None:
        self._clients: dict[str, Member] = {}

    def add(self, client_uid: str, sender: BoundedSender, role: str) -> None:
        self._clients[client_uid] = Member(sender, role)

    def remove(self, client_uid: str) -> None:
        self._clients.pop(client_uid, None)

    def send(self, message: out.Message, *, exclude: str | None = None) -> int:
        """Queue `message` for every client but `exclude`; returns how many got it queued.

        Iterates over a snapshot, so a client that joins or leaves meanwhile causes no error:
        it simply gets this message or not.
        """
        frame = out.frame(message)
        return self.each(lambda _: frame, exclude=exclude)

    def each(self, frame_for: Callable[[str], str], *, exclude: str | None = None) -> int:
        """Queue a frame made for each client (e.g. one naming its own client uid)."""
        sent = 0
        for client_uid, member in list(self._clients.items()):
            if client_uid == exclude:
                continue
            if member.sender.put(frame_for(client_uid)):
                sent += 1
            elif member.sender.closed:
                self.remove(client_uid)  # given up on: its sender is closing it
        return sent

    def roles(self) -> dict[str, int]:
        return dict(Counter(member.role for member in self._clients.values()))

    def __len__(self) -> int:
        return len(self._clients)
