"""Which hotkey or expression of the streamer's VTube Studio model each emotion fires.

The character's emotions are its model's emotion tags (`[joy]`, `[sadness]`, ... the keys
of the emotionMap the stage sends). The streamer's model knows nothing of them: it has
hotkeys and expression files named by whoever rigged it. `perform.vts.hotkeys` maps an
emotion to one by name; an emotion not mapped there gets the model's expression hotkey (or
animation hotkey, or expression file) whose name contains one of its usual words, so a
model with a "Smile" and a "Sad" hotkey works untouched. "neutral" fires nothing by
default: it is the model at rest.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

EXPRESSION_SUFFIX = ".exp3.json"
TOGGLE_EXPRESSION = "ToggleExpression"
TRIGGER_ANIMATION = "TriggerAnimation"
# Hotkeys an emotion may fire by default; others (change the model, the background, ...)
# only when the streamer names them.
EXPRESSIVE = (TOGGLE_EXPRESSION, TRIGGER_ANIMATION)
RESTING = frozenset({"neutral"})
# The words a rigger names an emotion's expression with, most telling first.
WORDS: dict[str, tuple[str, ...]] = {
    "joy": ("smile", "happy", "joy", "laugh", "glad"),
    "sadness": ("sad", "cry"),
    "anger": ("angry", "anger"),
    "surprise": ("surprise", "shock"),
    "fear": ("fear", "scared", "afraid"),
    "disgust": ("disgust",),
    "smirk": ("smirk",),
}


@dataclass(frozen=True)
class Hotkey:
    id: str
    name: str
    type: str
    file: str = ""


@dataclass(frozen=True)
class Expression:
    file: str
    name: str
    active: bool = False


@dataclass(frozen=True)
class Target:
    """What an emotion fires: a hotkey (by its ID) or an expression file switched on."""

    kind: Literal["hotkey", "expression"]
    id: str  # the hotkey's ID, or the expression's file
    name: str
    hotkey_type: str = ""
    file: str = ""  # the expression it switches (a ToggleExpression hotkey, an expression)

    @property
    def shown(self) -> str:
        if self.kind == "expression":
            return f"expression {self.file!r}"
        return f"hotkey {self.name!r} ({self.hotkey_type})"


Targets = dict[str, Target | None]


def hotkey_target(hotkey: Hotkey) -> Target:
    toggles = hotkey.type == TOGGLE_EXPRESSION and hotkey.file.endswith(EXPRESSION_SUFFIX)
    return Target("hotkey", hotkey.id, hotkey.name, hotkey.type, hotkey.file if toggles else "")


def expression_target(expression: Expression) -> Target:
    return Target("expression", expression.file, expression.name, file=expression.file)


def resolve(
    emotions: Iterable[str],
    hotkeys: list[Hotkey],
    expressions: list[Expression],
    configured: Mapping[str, str],
) -> tuple[Targets, list[str]]:
    """The target of each emotion (None: nothing), and the problems with `configured`."""
    mapping: Targets = {}
    problems: list[str] = []
    for emotion in dict.fromkeys([*emotions, *configured]):
        if emotion in configured:
            target = named(configured[emotion], hotkeys, expressions)
            if target is None and configured[emotion].strip():
                problems.append(
                    f"perform.vts.hotkeys.{emotion}: {configured[emotion]!r} is neither a "
                    f"hotkey nor an expression of the model (hotkeys: "
                    f"{_names(h.name for h in hotkeys)}; expressions: "
                    f"{_names(e.file for e in expressions)})"
                )
            mapping[emotion] = target
        else:
            mapping[emotion] = by_words(emotion, hotkeys, expressions)
    return mapping, problems


def named(name: str, hotkeys: list[Hotkey], expressions: list[Expression]) -> Target | None:
    """A hotkey by its name (any case) or ID, else an expression by its file or name."""
    wanted = name.strip().casefold()
    if not wanted:
        return None
    for hotkey in hotkeys:
        if wanted in (hotkey.name.casefold(), hotkey.id.casefold()):
            return hotkey_target(hotkey)
    for expression in expressions:
        if wanted in (expression.file.casefold(), expression.name.casefold()):
            return expression_target(expression)
    return None


def by_words(emotion: str, hotkeys: list[Hotkey], expressions: list[Expression]) -> Target | None:
    """The default: an expressive hotkey, else an expression file, whose name contains one
    of the emotion's words (expression hotkeys before animations, telling words first)."""
    key = emotion.casefold()
    if key in RESTING:
        return None
    words = WORDS.get(key, (key,))
    for kind in EXPRESSIVE:
        for word in words:
            for hotkey in hotkeys:
                if hotkey.type == kind and word in f"{hotkey.name} {hotkey.file}".casefold():
                    return hotkey_target(hotkey)
    for word in words:
        for expression in expressions:
            if word in expression.file.casefold():
                return expression_target(expression)
    return None


def describe(model: str, mapping: Targets) -> str:
    """One log line: `model "Haru": joy → hotkey 'Smile' (ToggleExpression), anger → none`."""
    parts = [
        f"{emotion} → {target.shown if target is not None else 'nothing'}"
        for emotion, target in mapping.items()
    ]
    return f"model {model!r}: " + (", ".join(parts) if parts else "no emotions known yet")


def _names(names: Iterable[str]) -> str:
    listed = [repr(name) for name in names if name]
    return ", ".join(listed) if listed else "none"
