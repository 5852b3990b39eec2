"""The streamer's VTube Studio model as the plugin sees it: its hotkeys and expressions, what
each emotion fires (`emotions`), and the expression this plugin switched on.

An expression is switched, never just fired: a ToggleExpression hotkey pressed twice turns
its expression off again, so before pressing one the plugin asks whether its expression is
already on, and the emotion before is switched off first. An expression file with no hotkey
is switched on and off directly. Other hotkeys (an animation) are simply fired.
"""

from __future__ import annotations

import logging
from typing import Any

from .emotions import Expression, Hotkey, Target, Targets, describe, resolve
from .vts_api import VTSConnection

log = logging.getLogger(__name__)

EXPRESSION_FADE_S = 0.25  # VTube Studio's own default


class VTSModel:
    def __init__(self, configured: dict[str, str]) -> None:
        self.configured = configured  # perform.vts.hotkeys
        self.emotions: list[str] = []  # the character's, from the stage
        self.name = ""
        self.hotkeys: list[Hotkey] = []
        self.expressions: list[Expression] = []
        self.targets: Targets = {}
        self._logged = ""
        self._shown: Target | None = None

    async def learn(self, conn: VTSConnection) -> None:
        """Ask VTube Studio for the loaded model's hotkeys and expressions."""
        hotkeys = await conn.call("HotkeysInCurrentModelRequest", {})
        expressions = await conn.call("ExpressionStateRequest", {"details": False})
        self.name = str(hotkeys.get("modelName", "")) if hotkeys.get("modelLoaded") else ""
        self.hotkeys = [_hotkey(h) for h in hotkeys.get("availableHotkeys", []) if _is_dict(h)]
        self.expressions = [
            Expression(str(e.get("file", "")), str(e.get("name", "")), bool(e.get("active")))
            for e in expressions.get("expressions", [])
            if _is_dict(e)
        ]
        self.map()

    def map(self) -> None:
        """Work out each emotion's target; logged (with any problem) when it changes."""
        targets, problems = resolve(self.emotions, self.hotkeys, self.expressions, self.configured)
        self.targets = targets
        line = describe(self.name, targets) if self.name else "has no model loaded"
        if line != self._logged:
            self._logged = line
            log.info("VTube Studio %s", line)
            for problem in problems:
                log.warning(problem)

    async def show(self, conn: VTSConnection, emotion: str) -> None:
        if emotion not in self.targets:
            self.emotions = [*self.emotions, emotion]
            self.map()
        target = self.targets.get(emotion)
        if target is None:
            await self.rest(conn)  # a resting emotion, or one the model has nothing for
            return
        if target == self._shown:
            return
        await self.rest(conn)
        if target.kind == "expression":
            data = {"expressionFile": target.file, "active": True, "fadeTime": EXPRESSION_FADE_S}
            await conn.call("ExpressionActivationRequest", data)
        elif not target.file or not await self._active(conn, target.file):
            await conn.call("HotkeyTriggerRequest", {"hotkeyID": target.id})
        if target.file:
            self._shown = target

    async def rest(self, conn: VTSConnection) -> None:
        """Switch off the expression this plugin switched on, if it is still on."""
        target, self._shown = self._shown, None
        if target is None:
            return
        if target.kind == "expression":
            data = {"expressionFile": target.file, "active": False}
            await conn.call("ExpressionActivationRequest", data)
        elif await self._active(conn, target.file):
            await conn.call("HotkeyTriggerRequest", {"hotkeyID": target.id})  # toggles it off

    async def _active(self, conn: VTSConnection, file: str) -> bool:
        data = await conn.call("ExpressionStateRequest", {"details": False, "expressionFile": file})
        found = [e for e in data.get("expressions", []) if _is_dict(e)]
        return bool(found and found[0].get("active"))


def _is_dict(value: Any) -> bool:
    return isinstance(value, dict)


def _hotkey(wire: dict[str, Any]) -> Hotkey:
    return Hotkey(
        str(wire.get("hotkeyID", "")),
        str(wire.get("name", "")),
        str(wire.get("type", "")),
        str(wire.get("file", "")),
    )
