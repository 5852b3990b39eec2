"""Twitch chat's IRC lines: parsed with IRCv3 tags, and the few a reader sends.

A WebSocket frame may hold several lines separated by CRLF. A line is
`[@tags ][:prefix ]COMMAND [params…][ :trailing]`; tag values escape `;` as `\\:`, space
as `\\s`, backslash as `\\\\`, CR and LF as `\\r` and `\\n` (an unknown escape stands for
the character itself, a lone trailing backslash for nothing). Nothing here trusts the
server: a line that is not IRC is reported, never raised past the session.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_LINE_CHARS = 16 * 1024  # Twitch lines are at most a few kilobytes, tags included
CAPABILITIES = "twitch.tv/tags twitch.tv/commands"
_ESCAPES = {":": ";", "s": " ", "\\": "\\", "r": "\r", "n": "\n"}


class IrcError(ValueError):
    """A line that is not IRC; the text says what is wrong with it."""


@dataclass(frozen=True, slots=True)
class Line:
    """One IRC message: `params` holds the middle parameters and the trailing one last."""

    command: str
    params: tuple[str, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)
    prefix: str = ""

    @property
    def login(self) -> str:
        """The sender's login name (`foo` of `foo!foo@foo.tmi.twitch.tv`)."""
        return self.prefix.partition("!")[0].lower()

    @property
    def channel(self) -> str:
        """The channel the line is about, without `#` ("" for none)."""
        first = self.params[0] if self.params else ""
        return first[1:].lower() if first.startswith("#") else ""

    @property
    def text(self) -> str:
        """The last parameter after the channel ("" when there is none)."""
        return self.params[-1] if len(self.params) > 1 else ""


def lines(frame: str) -> list[str]:
    """The lines of one WebSocket frame (CRLF separated; a bare LF is tolerated)."""
    return [line.rstrip("\r") for line in frame.split("\n") if line.strip("\r ")]


def parse(raw: str) -> Line:
    if len(raw) > MAX_LINE_CHARS:
        raise IrcError(f"a line of {len(raw)} characters")
    rest = raw
    tags: dict[str, str] = {}
    if rest.startswith("@"):
        block, _, rest = rest[1:].partition(" ")
        tags = parse_tags(block)
    rest = rest.lstrip(" ")
    prefix = ""
    if rest.startswith(":"):
        prefix, _, rest = rest[1:].partition(" ")
        rest = rest.lstrip(" ")
    middle, found, trailing = rest.partition(" :")
    if not found and middle.startswith(":"):
        middle, trailing, found = "", middle[1:], " :"
    words = middle.split()
    if not words:
        raise IrcError(f"no command in {raw[:80]!r}")
    params = (*words[1:], trailing) if found else tuple(words[1:])
    return Line(words[0].upper(), params, tags, prefix)


def parse_tags(block: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    for item in block.split(";"):
        if item:
            key, _, value = item.partition("=")
            tags[key] = unescape(value)
    return tags


def unescape(value: str) -> str:
    if "\\" not in value:
        return value
    out: list[str] = []
    chars = iter(value)
    for char in chars:
        if char == "\\":
            following = next(chars, "")
            out.append(_ESCAPES.get(following, following))
        else:
            out.append(char)
    return "".join(out)


def oauth(token: str) -> str:
    """The PASS line's value: the token with exactly one `oauth:` in front."""
    return f"oauth:{token.strip().removeprefix('oauth:')}"
