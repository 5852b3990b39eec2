"""The safety audit log: what the guards kept off the stream, and what the streamer did.

Every withheld segment, dropped chat line, replaced viewer name, ban and unban (and later
cuts and panics) is one JSON line in `data_dir/safety.jsonl`: the time (ISO-8601, UTC), the
kind, the rule or verdict, the text (clipped) and a few details. The streamer reads it to see
what the guards did on their behalf; the admin page shows the last entries from memory, so
showing them never reads the file.

Bounded everywhere: each text is clipped, the file moves to `safety.jsonl.1` (replacing the
one before) when it would pass `max_bytes`, and the in-memory tail keeps `RECENT` entries.

Written synchronously, on purpose: a record is one unbuffered `write()` of well under 2 KB
to the page cache (no fsync), a few microseconds, and rotation is a rename. A queue and a
worker thread would add a second place where records wait and can be lost, for no
measurable gain on the event loop. A write that fails is logged once (and again only after
writing has worked since), never raised into the turn or the stage.

Secrets never appear: only text, rule and plain details are kept, and every URL in them
loses its user name, password, query and fragment (where API keys and tokens travel).
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import re
from collections import deque
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from kagura.clipping import clip

log = logging.getLogger(__name__)

RECENT = 500  # entries kept in memory for the admin page
MAX_TEXT_CHARS = 500  # a withheld segment or a chat line, as recorded
MAX_DETAIL_CHARS = 200  # a rule, a name, a platform id, a reason
MAX_DETAILS = 16
# Read at start-up to show the last entries again after a restart: their tail only.
TAIL_BYTES = 256 * 1024
FILE_MODE = 0o600  # viewers' chat and the streamer's decisions: not for other local users

_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s\"'<>]+")

Detail = str | int | float | None


def scrub_urls(text: str) -> str:
    """`text` with every URL cut to scheme, host and path: no user, password, query or
    fragment (where keys and tokens are passed)."""

    def cut(match: re.Match[str]) -> str:
        try:
            parts = urlsplit(match.group(0))
            host = parts.hostname or ""
            port = f":{parts.port}" if parts.port else ""
        except ValueError:  # a malformed URL (a bad port): keep only its scheme
            return match.group(0).split("://", 1)[0] + "://…"
        return urlunsplit((parts.scheme, host + port, parts.path, "", ""))

    return _URL.sub(cut, text)


def _clean(value: str, limit: int) -> str:
    return clip(scrub_urls(value), limit)


class AuditLog:
    """Append-only JSON lines at `path`, rotated to `path.1` … `path.<backups>` past
    `max_bytes`; the last `RECENT` entries are also kept in memory."""

    def __init__(self, path: Path, max_bytes: int, backups: int = 1) -> None:
        if max_bytes < 1024:
            raise ValueError(f"the audit log needs at least 1024 bytes, not {max_bytes}")
        if backups < 1:
            raise ValueError(f"the audit log keeps at least one older file, not {backups}")
        self.path = path
        self.max_bytes = max_bytes
        self.backups = backups
        self._recent: deque[dict[str, Any]] = deque(maxlen=RECENT)
        self._fd: int | None = None
        self._size = 0
        self._failing = False  # a write failed and was logged: quiet until one works

    # -- start-up ------------------------------------------------------------------------

    def load(self) -> None:
        """Show the last entries of an earlier run again (the file's tail). Unreadable lines
        (a crash mid-write, an edited file) are skipped with one log line."""
        try:
            with self.path.open("rb") as file:
                size = file.seek(0, os.SEEK_END)
                file.seek(max(0, size - TAIL_BYTES))
                tail = file.read()
        except FileNotFoundError:
            return
        except OSError as exc:
            log.warning("safety audit: could not read %s: %s", self.path, exc)
            return
        lines = tail.split(b"\n")
        if len(tail) < size:
            lines = lines[1:]  # the first line was cut by the tail
        bad = 0
        for line in lines:
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                bad += 1
                continue
            if isinstance(entry, dict) and isinstance(entry.get("kind"), str):
                self._recent.append(entry)
            else:
                bad += 1
        if bad:
            log.warning("safety audit: skipped %d unreadable line(s) in %s", bad, self.path)

    # -- recording -----------------------------------------------------------------------

    def record(self, kind: str, *, text: str = "", rule: str = "", **details: Detail) -> None:
        """Append one entry: `kind` (withheld, dropped, name_replaced, ban, unban, cut,
        panic…), the `rule` or verdict, the `text` concerned and plain `details`. Never
        raises: a failed write is logged and the entry still shows on the admin page."""
        entry: dict[str, Any] = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "kind": clip(kind, MAX_DETAIL_CHARS),
            "rule": _clean(rule, MAX_DETAIL_CHARS),
            "text": _clean(text, MAX_TEXT_CHARS),
        }
        for key, value in list(details.items())[:MAX_DETAILS]:
            if key in entry:
                continue  # a detail never overwrites the fields every entry has
            if isinstance(value, str):
                value = _clean(value, MAX_DETAIL_CHARS)
            elif isinstance(value, float) and not math.isfinite(value):  # not JSON
                value = None
            entry[clip(key, 40)] = value
        self._recent.append(entry)
        try:
            self._write((json.dumps(entry, ensure_ascii=False) + "\n").encode())
        except (OSError, ValueError) as exc:
            if not self._failing:
                log.error("safety audit: could not write %s: %s", self.path, exc)
            self._failing = True
            self._close_fd()
        else:
            self._failing = False

    def recent(self, limit: int) -> list[dict[str, Any]]:
        """The last `limit` entries, oldest first."""
        if limit <= 0:
            return []
        entries = list(self._recent)
        return entries[-limit:]

    def close(self) -> None:
        self._close_fd()

    # -- the file ------------------------------------------------------------------------

    def _write(self, line: bytes) -> None:
        if self._fd is None:
            self._open()
        if self._size and self._size + len(line) > self.max_bytes:
            self._rotate()
        assert self._fd is not None
        os.write(self._fd, line)
        self._size += len(line)

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
        fd = os.open(self.path, flags, FILE_MODE)
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                os.write(fd, b"\n")  # a line cut by a crash stays one bad line, not two
                size += 1
        except OSError:
            os.close(fd)
            raise
        self._fd, self._size = fd, size

    def _rotate(self) -> None:
        self._close_fd()
        for number in range(self.backups - 1, 0, -1):
            older = self.path.with_name(f"{self.path.name}.{number}")
            if older.exists():
                os.replace(older, self.path.with_name(f"{self.path.name}.{number + 1}"))
        os.replace(self.path, self.path.with_name(f"{self.path.name}.1"))
        self._open()

    def _close_fd(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            with contextlib.suppress(OSError):
                os.close(fd)
