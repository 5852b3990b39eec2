"""The viewer's forget command ("!forget me"): carried out by the stage, never read by the
LLM. What a viewer asks to have forgotten goes from long-term memory (profile, facts) and
from the lines of theirs the conversation still holds; they hear a confirmation.
"""

from __future__ import annotations

import logging

from kagura.config import KaguraConfig
from kagura.conversation.conversation import Conversation
from kagura.memory import ViewerKey

from .events import ChatEvent

log = logging.getLogger(__name__)


def forget_request(config: KaguraConfig, event: ChatEvent) -> ViewerKey | None:
    """The viewer this event asks to forget (its sender), or None when it does not."""
    memory = config.memory
    command = memory.forget_command.strip().casefold() if memory.enabled else ""
    key = event.viewer
    if not command or key is None or event.text.strip().casefold() != command:
        return None
    return key


async def forget_viewer(conversation: Conversation, event: ChatEvent, key: ViewerKey) -> str:
    """Forget the viewer; returns the confirmation to say ("" when it failed)."""
    config = conversation.config
    try:
        removed = await conversation.long_term.forget(config, key)
    except Exception:
        log.exception("memory: could not forget a viewer")
        return ""
    lines = conversation.forget_lines(key)
    log.info("memory: forgot a viewer on request (%d row(s), %d line(s))", removed, lines)
    reply = config.memory.forget_reply
    try:
        return reply.format(name=event.user_name or "friend")
    except (KeyError, IndexError, ValueError):  # a broken template must not stop this
        return reply
