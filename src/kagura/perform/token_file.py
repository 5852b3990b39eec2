"""The VTube Studio plugin token, kept between runs so the streamer approves the plugin once.

The token lets any program on this machine act as the plugin, so the file is the user's
alone (mode 0600, set as it is created: never readable by others, not even for a moment),
and the token itself is never logged.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

MAX_TOKEN_CHARS = 512  # VTube Studio's are at most 64; a larger file is not a token


class TokenFile:
    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> str:
        """The saved token, "" when there is none (or the file cannot be read)."""
        try:
            text = self.path.read_text("utf-8")
        except (OSError, UnicodeDecodeError):
            return ""
        token = text.strip()
        return token if 0 < len(token) <= MAX_TOKEN_CHARS else ""

    def write(self, token: str) -> None:
        """Save `token` (replacing any), readable by this user only. `OSError` if it cannot."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(self.path.name + ".tmp")
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            out.write(token + "\n")
        os.replace(partial, self.path)  # a crash never leaves half a token behind
