"""Stage replies to the widget channel: each finished reply as one speech bubble.

The relay watches what the stage broadcasts rather than reaching into a turn: the segments'
display texts, without their `[emotion]` tags, make up the bubble, and the first segment's
expression and motion (models without expressions perform emotions as motions) go first.
The reply is sent at `backend-synth-complete`, when the whole text is known, not after the
audio has played.
"""

from __future__ import annotations

import logging
from typing import Any

from kagura.config import WidgetConfig
from kagura.conversation.text import strip_tags

from .server import WidgetServer

log = logging.getLogger(__name__)

MAX_SEGMENTS = 200  # a reply longer than this is cut; max_content_chars bounds the text too


class ReplyRelay:
    def __init__(self, server: WidgetServer, config: WidgetConfig) -> None:
        self.server = server
        self.config = config
        self._texts: list[str] = []
        self._actions: list[dict[str, Any]] | None = None  # the first segment's

    def __call__(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "control" and message.get("text") == "conversation-chain-start":
            self._texts, self._actions = [], None
        elif kind == "audio":
            self._add_segment(message)
        elif kind == "backend-synth-complete":
            self._publish()

    def _add_segment(self, message: dict[str, Any]) -> None:
        text = strip_tags(str((message.get("display_text") or {}).get("text") or ""))
        if text and len(self._texts) < MAX_SEGMENTS:
            self._texts.append(text)
        actions = message.get("actions") or {}
        if self._actions is None and (actions.get("expressions") or actions.get("motions")):
            self._actions = []
            if expressions := actions.get("expressions"):
                key = "index" if isinstance(expressions[0], int) else "name"
                self._actions.append({"type": "expression", key: expressions[0]})
            if motions := actions.get("motions"):
                self._actions.append({"type": "motion", **motions[0]})

    def _publish(self) -> None:
        text = " ".join(self._texts)[: self.config.max_content_chars]
        actions, self._texts, self._actions = self._actions or [], [], None
        if not text:
            return
        for action in actions:
            self.server.send(action)
        self.server.send(
            {"type": "llm_response", "content": text, "duration": self.config.duration_ms}
        )
