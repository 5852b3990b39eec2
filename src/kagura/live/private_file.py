"""Files that hold a login (cookies, tokens): readable only by the user, written atomically.

Whoever reads such a file can act as the account, so it is created with mode 0600 from the
first byte (never chmod-ed after the fact, whatever the umask) and replaced atomically: a
crash mid-write leaves the old file, not half of a new one. Reading one that others may
read costs a warning naming the fix (never the content).
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger(__name__)

PRIVATE = 0o600


def read_private(path: Path) -> str | None:
    """The text at `path`, None when there is no file. An `OSError` when it is there but
    cannot be read."""
    try:
        text = path.read_text("utf-8")
        mode = path.stat().st_mode
    except FileNotFoundError:
        return None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("%s is readable by others: run `chmod 600 %s`", path, path)
    return text


def write_private(path: Path, body: bytes) -> None:
    """Replace the file at `path` with `body`, atomically, readable only by the user."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.unlink(missing_ok=True)
    # O_EXCL with mode 0600: the file never exists with wider rights, whatever the umask.
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(body)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
