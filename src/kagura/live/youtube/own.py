"""The lines this client posted, so that reading never hands them back to the stage.

YouTube's chat lists every message, the ones the character's account posted included; passed
on, the character would answer herself, and again, without end. A posted line is known by
the id `liveChatMessages.insert` returned, and, for a poll that lists it before that answer
arrives, by its author (the channel the insert named) and its exact text. Both memories are
bounded.
"""

from __future__ import annotations

from collections import deque
from typing import Any

REMEMBERED = 256


class OwnMessages:
    def __init__(self, limit: int = REMEMBERED) -> None:
        self.channel = ""  # the posting account's channel, once an insert named it
        self._ids: deque[str] = deque(maxlen=limit)
        self._texts: deque[str] = deque(maxlen=limit)

    def sending(self, text: str) -> None:
        self._texts.append(text)

    def posted(self, message: dict[str, Any]) -> None:
        """Remember the message `liveChatMessages.insert` answered with."""
        if message.get("id"):
            self._ids.append(str(message["id"]))
        channel = (message.get("snippet") or {}).get("authorChannelId")
        if channel:
            self.channel = str(channel)

    def ours(self, item: dict[str, Any]) -> bool:
        if str(item.get("id", "")) in self._ids:
            return True
        snippet = item.get("snippet") or {}
        author = snippet.get("authorChannelId") or (item.get("authorDetails") or {}).get(
            "channelId"
        )
        if not self.channel or author != self.channel:
            return False
        text = (snippet.get("textMessageDetails") or {}).get("messageText")
        return text in self._texts
