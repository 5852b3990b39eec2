"""Stage replies to the widget channel: each finished reply as one speech bubble.

The relay listens to the stage's turn events: the first segment with an expression or a
motion (models without expressions perform emotions as motions) sets the bubble's mood, and
the whole reply goes out at `backend-synth-complete`, when its text is known, not after the
audio has played. The turn has already stripped the tags and joined the segments.
"""

from __future__ import annotations

import logging

from kagura.config import WidgetConfig
from kagura.conversation.events import ReplyComplete, SegmentDelivered, TurnEvent, TurnStarted
from kagura.protocol import widget as m
from kagura.widget import WidgetServer

log = logging.getLogger(__name__)


class ReplyRelay:
    def __init__(self, server: WidgetServer, config: WidgetConfig) -> None:
        self.server = server
        self.config = config
        self._mood: list[m.Broadcastable] | None = None  # from the first segment that has one

    def __call__(self, event: TurnEvent) -> None:
        if isinstance(event, TurnStarted):
            self._mood = None
        elif isinstance(event, SegmentDelivered):
            if self._mood is None and (event.expressions or event.motions):
                self._mood = _mood(event)
        elif isinstance(event, ReplyComplete):
            self._publish(event.text)

    def _publish(self, reply: str) -> None:
        text = reply[: self.config.max_content_chars]
        mood, self._mood = self._mood or [], None
        if not text:
            return
        for action in mood:
            self.server.send(action)
        self.server.send(m.LLMResponse(content=text, duration=self.config.duration_ms))


def _mood(segment: SegmentDelivered) -> list[m.Broadcastable]:
    actions: list[m.Broadcastable] = []
    if segment.expressions:
        first = segment.expressions[0]
        if isinstance(first, int):
            actions.append(m.Expression(index=first))
        else:
            actions.append(m.Expression(name=first))
    if segment.motions:
        motion = segment.motions[0]
        actions.append(m.Motion(group=str(motion["group"]), index=motion.get("index")))
    return actions
