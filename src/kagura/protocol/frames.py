"""The parse skeleton every dialect shares: a frame → a JSON object with a `type` → a model.

`/client-ws`, `/proxy-ws` and the widget channel differ in their vocabularies, not in how a
bad frame is answered: anything that is not a JSON object with a known `type` and valid
fields becomes one `ProtocolError` whose text names the problem, which goes back to the
sender as an `error` while the connection stays open.
"""

from __future__ import annotations

import json
import re
from typing import Any, Generic, TypeVar, get_args

from pydantic import TypeAdapter, ValidationError

from kagura.clipping import clip

M = TypeVar("M")
MAX_PROBLEMS = 3  # validation problems named in one error
QUOTED_CHARS = 40  # of a client's text quoted in an error (a log line, not the frame)
# No message of any dialect nests deeper than a few levels; a frame nested thousands deep
# would make the JSON decoder recurse until Python gives up, so it is refused first.
MAX_DEPTH = 32
# A JSON string (escapes included) or one bracket: what nesting is counted over.
_NESTING_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


class ProtocolError(ValueError):
    """A frame we cannot use; its text is sent back to the client as an `error`."""


def error(message: str, message_id: str | None = None) -> dict[str, Any]:
    """The `error` message of every dialect (`id` names the widget message it refers to)."""
    frame: dict[str, Any] = {"type": "error", "message": message}
    if message_id is not None:
        frame["id"] = message_id
    return frame


def message_types(union: Any) -> tuple[str, ...]:
    """The `type` literals of the models in an (annotated) union, in declaration order."""
    members = get_args(union)
    if members and not isinstance(members[0], type):  # Annotated[Union[...], Field(...)]
        members = get_args(members[0])
    types: list[str] = []
    for model in members:
        types.extend(get_args(model.model_fields["type"].annotation))
    return tuple(types)


class Dialect(Generic[M]):
    """One vocabulary: a discriminated union of message models, parsed with the skeleton."""

    def __init__(self, union: Any) -> None:
        self._adapter: TypeAdapter[M] = TypeAdapter(union)
        self.types = message_types(union)

    def parse(self, frame: str | bytes) -> M:
        """Decode and validate one frame from the wire."""
        if isinstance(frame, bytes):
            raise ProtocolError("binary frames are not supported; send JSON text")
        check_depth(frame)
        try:
            data = json.loads(frame)
        except json.JSONDecodeError as exc:
            raise ProtocolError(f"not valid JSON: {exc.msg} at position {exc.pos}") from None
        except (ValueError, RecursionError) as exc:  # e.g. an integer of 100,000 digits
            raise ProtocolError(f"not usable JSON: {clip(str(exc), 2 * QUOTED_CHARS)}") from None
        return self.validate(data)

    def validate(self, data: Any) -> M:
        """Validate a decoded object (a frame from the wire, or a dict built in-process)."""
        if not isinstance(data, dict):
            raise ProtocolError("a message must be a JSON object with a 'type'")
        kind = data.get("type")
        if not isinstance(kind, str):
            raise ProtocolError("the message has no 'type' (a string)")
        if kind not in self.types:
            expected = ", ".join(self.types)
            raise ProtocolError(
                f"unknown message type {clip(kind, QUOTED_CHARS)!r}; expected one of: {expected}"
            )
        try:
            return self._adapter.validate_python(data)
        except ValidationError as exc:
            raise ProtocolError(f"bad {kind!r} message: {describe(exc)}") from None
        except RecursionError:
            raise ProtocolError("the message is nested too deeply") from None


def check_depth(frame: str) -> None:
    """Refuse a frame nested deeper than `MAX_DEPTH`, before anything recurses into it.

    Counting brackets cannot overcount the depth, so almost every frame passes on that
    alone; only frames with many brackets are scanned, strings skipped.
    """
    if frame.count("[") + frame.count("{") <= MAX_DEPTH:
        return
    depth = 0
    for token in _NESTING_TOKENS.finditer(frame):
        bracket = token.group()
        if bracket in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise ProtocolError(f"the message is nested deeper than {MAX_DEPTH} levels")
        elif bracket in "]}":
            depth -= 1


def describe(exc: ValidationError) -> str:
    """The first few problems, each as `field.path: what is wrong`."""
    problems = []
    for problem in exc.errors()[:MAX_PROBLEMS]:
        where = ".".join(str(part) for part in problem["loc"][1:]) or "message"
        problems.append(f"{where}: {problem['msg']}")
    return "; ".join(problems)
