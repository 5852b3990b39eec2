"""The performer's side of the stage: a page on `/proxy-ws`, as `performer.js` is.

Each turn's `audio` payloads are queued on the player as they arrive; a payload whose
`display_text` is null is more audio of the segment before (a voice that streams) and
performs nothing. Each segment's emotion is its first known `[tag]` (the tags stay in
`display_text`), else its first expression read back through the model's emotionMap. After
`backend-synth-complete`, once everything has been heard, the turn is acknowledged with
`frontend-playback-complete`, once, and only if it is still the same turn and was not cut.
An `interrupt-signal` (another client cut the reply) stops the playing at once. A
(re)connect starts clean: a turn cut off by the outage is never acknowledged.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
import wave
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from kagura.audio import Speech, decode_wav
from kagura.conversation.expressions import find_tags

from .player import Player
from .vts import VTubeStudio

log = logging.getLogger(__name__)

PLAYBACK_COMPLETE = json.dumps({"type": "frontend-playback-complete"})
DEFAULT_SLICE_MS = 20


@dataclass
class _Turn:
    id: int = 0
    accepting: bool = False  # its payloads are queued (after chain end, or once cut: not)
    acked: bool = True


class StagePage:
    def __init__(self, player: Player, vts: VTubeStudio, *, shown_url: str, reset: bool) -> None:
        self.player = player
        self.vts = vts
        self.shown_url = shown_url
        self.reset = reset  # the emotion's expression goes off once the reply is heard
        self.emotion_map: dict[str, Any] = {}
        self.turn = _Turn()
        self.acknowledged = 0
        self._ws: ClientConnection | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def holding(self) -> bool:
        """A turn is under way (its next segment may still come)."""
        return self.turn.accepting

    async def serve(self, ws: ClientConnection) -> None:
        """Read one connection to the stage until it ends."""
        self._ws = ws
        self.turn = _Turn(self.turn.id + 1)
        self.player.new_turn()
        log.info("on the stage at %s as a page", self.shown_url)
        try:
            async for frame in ws:
                if isinstance(frame, str):
                    with contextlib.suppress(ValueError):
                        message = json.loads(frame)
                        if isinstance(message, dict):
                            self.handle(message)
        finally:
            self._ws = None

    def handle(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        text = message.get("text")
        if kind == "set-model-and-conf":
            model = message.get("model_info")
            emotions = model.get("emotionMap") if isinstance(model, dict) else None
            self.emotion_map = dict(emotions) if isinstance(emotions, dict) else {}
            self.vts.set_emotions(list(self.emotion_map))
            log.info(
                "the stage's character %r shows the emotions %s",
                str(message.get("conf_name", "")),
                ", ".join(self.emotion_map) or "(none)",
            )
        elif kind == "control" and text == "conversation-chain-start":
            self.turn = _Turn(self.turn.id + 1, accepting=True, acked=False)
            self.player.new_turn()
            self.vts.refresh()
        elif kind == "control" and text == "conversation-chain-end":
            self.turn.accepting = False  # an ack after the end could be taken for the next's
            if self.reset:
                self._spawn(self._rest_when_heard(self.turn.id))
        elif kind == "audio" and self.turn.accepting:
            self._queue(message)
        elif kind == "backend-synth-complete":
            self._spawn(self._acknowledge_when_heard(self.turn.id))
        elif kind == "interrupt-signal" or (kind == "control" and text == "interrupt"):
            self.stop()

    def stop(self) -> None:
        """Stop playing at once and drop the rest of this turn (no ack: it was cut)."""
        self.player.stop()
        self.turn.accepting = False
        self.turn.acked = True
        if self.reset:
            self.vts.rest()

    def _queue(self, message: dict[str, Any]) -> None:
        shown = message.get("display_text")
        continued = shown is None
        speech = _speech(message.get("audio"))
        volumes = message.get("volumes")
        slice_ms = message.get("slice_length")
        self.player.enqueue(
            speech,
            volumes=[float(v) for v in volumes] if isinstance(volumes, list) else [],
            slice_ms=float(slice_ms) if isinstance(slice_ms, int | float) else DEFAULT_SLICE_MS,
            emotion=None if continued else self._emotion(message),
            continued=continued,
        )

    def _emotion(self, message: dict[str, Any]) -> str | None:
        """The segment's first known tag, else its first expression's emotion."""
        shown = message.get("display_text")
        text = str(shown.get("text", "")) if isinstance(shown, dict) else ""
        tags = find_tags(text, self.emotion_map)
        if tags:
            return tags[0]
        actions = message.get("actions")
        expressions = actions.get("expressions") if isinstance(actions, dict) else None
        if not isinstance(expressions, list) or not expressions:
            return None
        first = expressions[0]
        if isinstance(first, str):
            return first
        return next((name for name, index in self.emotion_map.items() if index == first), None)

    async def _acknowledge_when_heard(self, turn_id: int) -> None:
        heard = await self.player.drained()
        turn, ws = self.turn, self._ws
        if not heard or turn.id != turn_id or turn.acked or not turn.accepting or ws is None:
            return
        turn.acked = True
        with contextlib.suppress(ConnectionClosed):
            await ws.send(PLAYBACK_COMPLETE)
            self.acknowledged += 1
            log.debug("turn %d heard and acknowledged", turn_id)

    async def _rest_when_heard(self, turn_id: int) -> None:
        if await self.player.drained() and self.turn.id == turn_id:
            self.vts.rest()

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _speech(payload: Any) -> Speech | None:
    if not isinstance(payload, str) or not payload:
        return None
    try:
        return decode_wav(base64.b64decode(payload, validate=True))
    except (binascii.Error, ValueError, EOFError, wave.Error) as exc:
        log.warning("a reply segment's audio is unreadable, only its emotion is shown: %s", exc)
        return None
