"""The fake VTube Studio's model: its hotkeys, expressions and parameters, and what plugins
did to them (hotkeys fired, expressions switched, parameter values sent), each with the
`time.monotonic()` it happened at. Errors are VTube Studio's (`Files/ErrorID.cs`)."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any

DEFAULT_PARAMETERS = frozenset(
    {"MouthOpen", "MouthSmile", "FaceAngleX", "FaceAngleY", "FaceAngleZ", "EyeOpenLeft"}
)
VALUE_LIMIT = 1_000_000


@dataclass
class FakeHotkey:
    name: str
    type: str
    file: str = ""
    id: str = field(default_factory=lambda: secrets.token_hex(16))

    def wire(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "description": self.type,
            "file": self.file,
            "hotkeyID": self.id,
            "keyCombination": [],
            "onScreenButtonID": -1,
        }


def default_hotkeys() -> list[FakeHotkey]:
    """A model rigged the usual way: expression toggles and an animation."""
    return [
        FakeHotkey("Smile", "ToggleExpression", "Smile.exp3.json"),
        FakeHotkey("Sad", "ToggleExpression", "Sad.exp3.json"),
        FakeHotkey("Angry face", "ToggleExpression", "Angry.exp3.json"),
        FakeHotkey("Wave", "TriggerAnimation", "Wave.motion3.json"),
        FakeHotkey("Next model", "ChangeVTSModel", "Other.vtube.json"),
    ]


class Refusal(Exception):
    """A request VTube Studio answers with `APIError`: its `errorID` and a message."""

    def __init__(self, error_id: int, message: str) -> None:
        super().__init__(message)
        self.error_id = error_id
        self.message = message


class FakeModel:
    def __init__(self) -> None:
        self.name = "Streamer's model"
        self.loaded = True
        self.hotkeys = default_hotkeys()
        self.expressions: dict[str, bool] = dict.fromkeys(  # file → active
            ("Smile.exp3.json", "Sad.exp3.json", "Angry.exp3.json", "Surprised.exp3.json"), False
        )
        self.parameters = set(DEFAULT_PARAMETERS)
        self.triggered: list[tuple[float, str]] = []  # (time.monotonic(), hotkey name)
        self.expression_changes: list[tuple[float, str, bool]] = []
        self.injected: list[tuple[float, dict[str, float]]] = []  # (time, id → value)

    def hotkey_list(self) -> dict[str, Any]:
        return {
            **self.info(),
            "availableHotkeys": [h.wire() for h in self.hotkeys] if self.loaded else [],
        }

    def info(self) -> dict[str, Any]:
        if not self.loaded:
            return {"modelLoaded": False, "modelName": "", "modelID": ""}
        return {"modelLoaded": True, "modelName": self.name, "modelID": "fake-model-id"}

    def trigger(self, data: dict[str, Any]) -> dict[str, Any]:
        wanted = str(data.get("hotkeyID", ""))
        if not self.loaded:
            raise Refusal(201, "No model is loaded.")
        hotkey = next((h for h in self.hotkeys if h.id == wanted), None) or next(
            (h for h in self.hotkeys if h.name and h.name.casefold() == wanted.casefold()), None
        )
        if hotkey is None:
            raise Refusal(202, f"Hotkey {wanted!r} not found in model.")
        self.triggered.append((time.monotonic(), hotkey.name))
        if hotkey.type == "ToggleExpression" and hotkey.file in self.expressions:
            self._set_expression(hotkey.file, not self.expressions[hotkey.file])
        return {"hotkeyID": hotkey.id}

    def expression_state(self, data: dict[str, Any]) -> dict[str, Any]:
        file = str(data.get("expressionFile") or "")
        if file and not file.endswith(".exp3.json"):
            raise Refusal(600, "expressionFile must end in .exp3.json.")
        if file and file not in self.expressions:
            raise Refusal(601, f"Expression {file!r} not found in model.")
        files = [file] if file else list(self.expressions) if self.loaded else []
        return {**self.info(), "expressions": [self._expression(f) for f in files]}

    def _expression(self, file: str) -> dict[str, Any]:
        return {
            "name": file.removesuffix(".exp3.json"),
            "file": file,
            "active": self.expressions[file],
            "deactivateWhenKeyIsLetGo": False,
            "autoDeactivateAfterSeconds": False,
            "secondsRemaining": 0,
            "usedInHotkeys": [],
            "parameters": [],
        }

    def activate(self, data: dict[str, Any]) -> dict[str, Any]:
        file = str(data.get("expressionFile") or "")
        if not file.endswith(".exp3.json"):
            raise Refusal(650, "expressionFile must end in .exp3.json.")
        if not self.loaded:
            raise Refusal(652, "No model is loaded.")
        if file not in self.expressions:
            raise Refusal(651, f"Expression {file!r} not found in model.")
        self._set_expression(file, bool(data.get("active")))
        return {}

    def _set_expression(self, file: str, active: bool) -> None:
        self.expressions[file] = active
        self.expression_changes.append((time.monotonic(), file, active))

    def inject(self, data: dict[str, Any]) -> dict[str, Any]:
        mode = data.get("mode", "set")
        if mode not in ("set", "add", None):
            raise Refusal(455, f"Unknown mode {mode!r}.")
        values = data.get("parameterValues")
        if not isinstance(values, list) or not values:
            raise Refusal(450, "No data provided.")
        received: dict[str, float] = {}
        for item in values:
            if not isinstance(item, dict):
                raise Refusal(450, "No data provided.")
            name, value = item.get("id"), item.get("value")
            if not isinstance(value, int | float) or not -VALUE_LIMIT <= value <= VALUE_LIMIT:
                raise Refusal(451, f"Value for {name!r} is invalid.")
            weight = item.get("weight", 1)
            if not isinstance(weight, int | float) or not 0 <= weight <= 1:
                raise Refusal(452, f"Weight for {name!r} is invalid.")
            if name not in self.parameters:
                raise Refusal(453, f"Parameter {name!r} not found.")
            received[str(name)] = float(value)
        self.injected.append((time.monotonic(), received))
        return {}
