"""The widget channel's broadcast hub, independent of the WebSocket library that carries it.

One hub serves both the standalone `websockets` server (port 8765) and the `/widget-ws`
endpoint of `kagura serve`, so the rules live here once:

- every peer has a bounded sender (`kagura.sender`); a peer that falls that far behind is
  closed (1013) instead of holding up the others or growing without limit;
- every broadcast gets an id; widgets acknowledge it, and its sender gets a `receipt` at
  once and a `delivery` report when all acknowledged or the ack timeout passed (the
  deliveries awaiting acks are bounded too: at the limit the oldest is reported as it is);
- the last few messages are replayed to a widget that connects late (bounded by count and age);
- bad frames get an `error` naming the problem, and the connection stays open;
- only senders publish: a widget page may only acknowledge and send heartbeats, so one
  page (or whoever opened one) cannot put words on all the others.

The hub belongs to one event loop and is not thread-safe: `server.py` hops threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from kagura.config import WidgetConfig
from kagura.logs import RateLimitedLog
from kagura.protocol import outgoing as out
from kagura.protocol import widget as m
from kagura.sender import (
    CLOSE_TIMEOUT_S,
    WS_1000_NORMAL_CLOSURE,
    WS_1001_GOING_AWAY,
    BoundedSender,
    Close,
    Send,
)

log = logging.getLogger(__name__)
mistakes = RateLimitedLog(log)  # client mistakes: one line each, never a flood
# The largest frame a peer may send: broadcasts carry a reply's text, nothing bigger.
MAX_FRAME_BYTES = 256 * 1024

Kind = Literal["widget", "sender"]


class Peer:
    """One connection as the hub sees it: a kind and a bounded sender.

    Widgets receive broadcasts; senders (programs) only receive answers to what they send.
    """

    def __init__(self, name: str, kind: Kind, sender: BoundedSender) -> None:
        self.name = name
        self.kind = kind
        self.sender = sender

    @property
    def closed(self) -> bool:
        return self.sender.closed

    def put(self, message: out.Message | str) -> bool:
        """Queue a message (or a frame made once for many peers) without waiting."""
        return self.sender.put(message if isinstance(message, str) else out.frame(message))

    def close(self, code: int, reason: str) -> None:
        """Send what is queued, then close with `code`."""
        self.sender.finish(code, reason)


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    id: str
    sent: int  # widgets the message was queued for
    acked: int  # of those, how many acknowledged it

    @property
    def complete(self) -> bool:
        return self.acked == self.sent

    def wire(self) -> out.Message:
        return out.delivery(self.id, self.sent, self.acked)


class Delivery:
    """One broadcast awaiting acknowledgements; finished once, by the last ack or a timeout."""

    def __init__(self, message_id: str, recipients: list[str]) -> None:
        self.id = message_id
        self.sent = len(recipients)
        self._waiting = set(recipients)
        self._lost = 0  # recipients that went away without acknowledging
        self._done = asyncio.get_running_loop().create_future()
        self.on_finish: list[Callable[[DeliveryReport], None]] = []
        self._timer: asyncio.TimerHandle | None = None

    @property
    def report(self) -> DeliveryReport:
        return DeliveryReport(self.id, self.sent, self.sent - len(self._waiting) - self._lost)

    @property
    def finished(self) -> bool:
        return self._done.done()

    def ack(self, peer: str) -> bool:
        """Count `peer`'s ack; True when that was the last one awaited."""
        self._waiting.discard(peer)
        return not self._waiting

    def lose(self, peer: str) -> bool:
        """`peer` went away: stop waiting for it, count it as not acknowledged."""
        if peer in self._waiting:
            self._waiting.discard(peer)
            self._lost += 1
        return not self._waiting

    def finish(self) -> None:
        if self._done.done():
            return
        if self._timer is not None:
            self._timer.cancel()
        report = self.report
        self._done.set_result(report)
        for callback in self.on_finish:
            callback(report)

    async def wait(self, timeout_s: float) -> DeliveryReport:
        """The report once finished, or as it stands after `timeout_s`."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._done), timeout_s)
        return self.report


class WidgetHub:
    def __init__(self, config: WidgetConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self.clock = clock
        self._peers: dict[str, Peer] = {}
        self._count = 0
        self._replay: deque[tuple[float, str]] = deque(maxlen=config.replay_messages)
        self._pending: OrderedDict[str, Delivery] = OrderedDict()
        self._on_widgets: Callable[[int], None] | None = None
        self._widgets_told = 0

    @property
    def widgets(self) -> int:
        return sum(1 for peer in self._peers.values() if peer.kind == "widget")

    def watch_widgets(self, listener: Callable[[int], None] | None) -> None:
        """Tell `listener` how many widgets are connected, now and whenever that changes
        (inside `kagura serve`, widgets are part of the stage's audience); None stops it."""
        self._on_widgets = listener
        self._widgets_told = -1
        self._tell_widgets()

    def _tell_widgets(self) -> None:
        count = self.widgets
        if count != self._widgets_told and self._on_widgets is not None:
            self._widgets_told = count
            try:
                self._on_widgets(count)
            except Exception:  # the hub's job is broadcasting; a listener's bug is logged
                log.exception("widget count listener failed")

    def connect(self, kind: Kind, send: Send, close: Close) -> Peer:
        """A new peer; a widget gets the recent messages first (marked `"replay": true`)."""
        self._count += 1
        name = f"{kind}-{self._count}"
        sender = BoundedSender(name, send, close, limit=self.config.client_queue_messages)
        peer = Peer(name, kind, sender)
        self._peers[peer.name] = peer
        self._tell_widgets()
        if kind == "widget":
            oldest = self.clock() - self.config.replay_max_age_s
            for when, frame in list(self._replay):
                if when >= oldest:
                    peer.put(frame)
        return peer

    def disconnect(self, peer: Peer) -> None:
        peer.close(WS_1000_NORMAL_CLOSURE, "")
        self._peers.pop(peer.name, None)
        self._tell_widgets()
        for delivery in list(self._pending.values()):
            if delivery.lose(peer.name):
                delivery.finish()

    def publish(self, message: m.Broadcastable, origin: Peer | None = None) -> Delivery:
        """Queue `message` for every widget but its origin; raises `ProtocolError` for a
        message the widgets must not get (text too long, id already awaiting acks)."""
        content = getattr(message, "content", "")
        limit = self.config.max_content_chars
        if len(content) > limit:
            raise m.ProtocolError(f"{message.type}: content is longer than {limit} characters")
        if message.id is not None and message.id in self._pending:
            raise m.ProtocolError(f"id {message.id!r} is already awaiting acknowledgements")
        message_id = message.id or uuid.uuid4().hex[:16]
        data = {**m.wire(message), "id": message_id}
        frame = out.frame(data)
        recipients = [
            peer.name
            for peer in list(self._peers.values())
            if peer.kind == "widget" and peer is not origin and peer.put(frame)
        ]
        self._drop_closed()
        if self.config.replay_messages:
            self._replay.append((self.clock(), out.frame({**data, "replay": True})))
        delivery = Delivery(message_id, recipients)
        if origin is not None:
            origin.put(out.receipt(message_id, delivery.sent))

            def report_to_origin(report: DeliveryReport) -> None:
                origin.put(report.wire())

            delivery.on_finish.append(report_to_origin)
        if not recipients:
            delivery.finish()
            return delivery

        def forget(_: DeliveryReport) -> None:
            self._pending.pop(message_id, None)

        delivery.on_finish.append(forget)
        self._pending[message_id] = delivery
        loop = asyncio.get_running_loop()
        delivery._timer = loop.call_later(self.config.ack_timeout_s, delivery.finish)
        while len(self._pending) > self.config.max_pending_acks:
            _, oldest = self._pending.popitem(last=False)
            oldest.finish()
        return delivery

    def receive(self, peer: Peer, frame: str | bytes) -> None:
        """Handle one frame from `peer`; problems are answered with an `error` frame."""
        try:
            if len(frame) > MAX_FRAME_BYTES:  # `/widget-ws` shares the main server's limit
                raise m.ProtocolError(f"frames are limited to {MAX_FRAME_BYTES} bytes")
            message = m.parse(frame)
        except m.ProtocolError as exc:
            mistakes.warning("bad frame from widget peer %s: %s", peer.name, exc)
            peer.put(m.error(str(exc)))
            return
        if isinstance(message, m.Ack):
            delivery = self._pending.get(message.id)
            if delivery is not None and delivery.ack(peer.name):
                delivery.finish()
        elif isinstance(message, m.Heartbeat):
            peer.put(out.simple("heartbeat-ack"))
        elif peer.kind != "sender":
            text = f"widgets may only send ack and heartbeat, not {message.type!r}"
            peer.put(m.error(text, message.id))
        else:
            try:
                self.publish(message, origin=peer)
            except m.ProtocolError as exc:
                peer.put(m.error(str(exc), message.id))

    def close_all(self, reason: str = "server stopping") -> None:
        for peer in list(self._peers.values()):
            peer.close(WS_1001_GOING_AWAY, reason)
        for delivery in list(self._pending.values()):
            delivery.finish()

    def _drop_closed(self) -> None:
        for name, peer in list(self._peers.items()):
            if peer.closed:
                self._peers.pop(name, None)
        self._tell_widgets()


async def serve_peer(
    hub: WidgetHub,
    kind: Kind,
    receive: Callable[[], Awaitable[str | bytes | None]],
    send: Send,
    close: Close,
) -> None:
    """Run one connection, whatever library carries it: `receive` returns None when the
    peer went away. The peer's sender writes with a timeout and closes the connection when
    the hub closes the peer (too slow, server stopping)."""
    peer = hub.connect(kind, send, close)
    writer = asyncio.create_task(peer.sender.run())
    try:
        while not peer.closed:
            frame = await receive()
            if frame is None:
                break
            hub.receive(peer, frame)
    finally:
        hub.disconnect(peer)
        try:  # `wait` neither raises the writer's outcome nor hides our own cancellation
            await asyncio.wait({writer}, timeout=CLOSE_TIMEOUT_S + 1)
        finally:
            writer.cancel()
