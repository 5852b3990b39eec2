"""The `LivePlatform` interface: what one source of live chat must do, and nothing more.

A platform knows its own wire protocol and nothing of the stage. The shared runner
(`kagura.live.runner`) owns everything else: the connection to `/proxy-ws`, the buffer
while it is away, reconnecting with backoff, the liveness watchdog, signals and status.

A platform's `run` is one session: connect, then report through its `Link` until the
connection ends (return) or fails (raise); the runner calls it again after a backoff, and
cancels it when the watchdog fires or the process stops. Sessions push events through
`link.emit` rather than yielding them, because a session also runs its heartbeats beside
its reader, and a task group cannot safely stay open across the `yield` of an async
generator.

Platform messages are dispatched to per-event handlers with a `CommandTable`: one small
function per command name, each turning one message into zero or more events. A platform
that removes messages by their author (a ban, a cleared chat) remembers who sent what in
`Authors`; one that waits on purpose (between polls, for a stream to start) waits with
`idle`, which keeps the watchdog fed; a session's heartbeats end with it through `stop`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Generic, Protocol, TypeVar

from .events import Id, Item, Withdrawal, withdrawals
from .problems import ProblemLog

log = logging.getLogger(__name__)

MAX_UNKNOWN_LOGGED = 200  # distinct unknown command names remembered (and logged once each)
RECENT_KEYS = 4096
ALIVE_EVERY_S = 5.0  # how often `idle` tells the watchdog that waiting is on purpose


class Link(Protocol):
    """What a session tells the runner."""

    def emit(self, item: Item) -> None:
        """Hand over an event; never blocks (the runner buffers, bounded)."""

    def alive(self) -> None:
        """The platform showed life (any traffic, a heartbeat reply): feeds the watchdog."""

    def connected(self, description: str) -> None:
        """The session is established (logged once per session; it also feeds the watchdog)."""


class Fatal(Exception):
    """A problem that reconnecting cannot fix (a wrong setting, a room that does not exist):
    the runner stops with this message instead of retrying forever."""


class Finished(Exception):
    """The platform has nothing more to read (the stream ended and the user asked to exit
    then): this platform stops with this message, and once every platform of the process
    has finished, the process sends what it still holds (for a few seconds at most) and
    exits 0."""


class LivePlatform(ABC):
    """One source of live chat: a room, a channel, a stream."""

    #: The `platform` of its events (`source.platform` on the stage), e.g. "bilibili".
    name: str
    #: How logs and status lines call it, e.g. "bilibili room 21452505".
    label: str

    @abstractmethod
    async def run(self, link: Link) -> None:
        """One session: connect, then report events until the connection ends or fails.

        Cancellation (watchdog, shutdown) must close whatever the session opened.
        """

    async def close(self) -> None:  # noqa: B027 - most platforms have nothing to close
        """Called once when the process stops, after the last session (e.g. to end an
        open-platform app session); bounded by the runner's shutdown deadline."""

    def status(self) -> str:
        """A few words for the runner's status line (e.g. a polling platform's quota), or
        "" for nothing."""
        return ""


async def idle(link: Link, seconds: float) -> None:
    """Wait `seconds` on purpose (between polls, for a stream to start), telling the
    watchdog all along that the silence is expected."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        link.alive()
        await asyncio.sleep(min(left, ALIVE_EVERY_S))
    link.alive()


async def stop(task: asyncio.Task[None] | None) -> None:
    """End a session's side task (its heartbeats or pings) when the session ends: cancel it
    and wait until it has stopped."""
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


Context = TypeVar("Context")
Payload = TypeVar("Payload")
Handler = Callable[[Context, Payload], Iterable[Item]]


class CommandTable(Generic[Context, Payload]):
    """Per-event handlers of one platform: command name → function(context, payload).

    A handler reads the fields it needs and yields events; a message it cannot read (a
    missing field, a wrong type) is skipped and counted, never stopping the session, and
    logged at a bounded rate (`ProblemLog`). Unknown command names are logged once each, at
    debug level: platforms add commands all the time.

        commands: CommandTable[RoomState, dict[str, Any]] = CommandTable("bilibili")

        @commands.on("DANMU_MSG")
        def _danmaku(room: RoomState, command: dict[str, Any]) -> Iterator[Item]: ...
    """

    def __init__(self, platform: str) -> None:
        self.platform = platform
        self._handlers: dict[str, Handler[Context, Payload]] = {}
        self._unknown: set[str] = set()
        self._unreadable = ProblemLog(log, f"{platform}: unreadable messages skipped")

    @property
    def unreadable(self) -> int:
        return self._unreadable.count

    def on(self, *names: str) -> Callable[[Handler[Context, Payload]], Handler[Context, Payload]]:
        def register(handler: Handler[Context, Payload]) -> Handler[Context, Payload]:
            for name in names:
                self._handlers[name] = handler
            return handler

        return register

    def ignore(self, *names: str) -> None:
        """Commands known and deliberately not used (not even logged as unknown)."""
        for name in names:
            self._handlers[name] = _nothing

    def __contains__(self, name: str) -> bool:
        return name in self._handlers

    def dispatch(self, context: Context, name: str, payload: Payload) -> list[Item]:
        handler = self._handlers.get(name)
        if handler is None:
            if name not in self._unknown and len(self._unknown) < MAX_UNKNOWN_LOGGED:
                self._unknown.add(name)
                log.debug("%s: unknown command %r (not used)", self.platform, name[:64])
            return []
        try:
            return list(handler(context, payload))
        except Exception as exc:  # one message, however odd, never ends the session
            self._unreadable(f"a {name[:64]} message ({type(exc).__name__}: {str(exc)[:120]})")
            return []


def _nothing(context: object, payload: object) -> Iterable[Item]:
    return ()


class Recent:
    """A bounded memory of keys seen lately (the oldest are forgotten first): for events a
    platform may deliver twice, in two forms or on two channels."""

    def __init__(self, limit: int = RECENT_KEYS) -> None:
        self.limit = limit
        self._keys: OrderedDict[Hashable, None] = OrderedDict()

    def seen(self, key: Hashable) -> bool:
        """Whether `key` was seen before; remembers it either way."""
        if key in self._keys:
            self._keys.move_to_end(key)
            return True
        self._keys[key] = None
        while len(self._keys) > self.limit:
            self._keys.popitem(last=False)
        return False


class Authors:
    """Who sent the messages passed on lately, per room (bounded, the oldest forgotten
    first): a platform that removes every message of a user (a ban, a timeout) or of a
    whole room (a cleared chat) withdraws by it the ones still waiting on the stage."""

    def __init__(self, limit: int = RECENT_KEYS) -> None:
        self.limit = limit
        self._sent: OrderedDict[Id, tuple[Id | None, str]] = OrderedDict()

    def add(self, message_id: Id, room: Id | None, author: str) -> None:
        self._sent[message_id] = (room, author)
        self._sent.move_to_end(message_id)
        while len(self._sent) > self.limit:
            self._sent.popitem(last=False)

    def sent(self, room: Id | None, author: str | None = None) -> list[Id]:
        """The ids of messages sent in `room` (by `author`, or by anyone), now forgotten:
        each is withdrawn once."""
        ids = [
            message_id
            for message_id, (where, who) in self._sent.items()
            if where == room and (author is None or who == author)
        ]
        self.forget(ids)
        return ids

    def removed(self, platform: str, ids: Sequence[Id]) -> list[Withdrawal]:
        """Withdrawals of messages removed one by one (a moderator's delete), forgotten."""
        self.forget(ids)
        return withdrawals(platform, ids)

    def forget(self, ids: Iterable[Id]) -> None:
        for message_id in ids:
            self._sent.pop(message_id, None)
