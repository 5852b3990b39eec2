"""Viewers the streamer banned: their chat is dropped by the stage, across restarts.

A ban is keyed by platform identity, (platform, user id), never by display name: names are
chosen by viewers, changed at will and shared by strangers, so a ban by name would silence the
wrong people and miss the right one. A platform that gives no user id identifies a viewer only
by name; such an event's identity is `name:<name>` (`ChatEvent.viewer`), and a ban of
`name:<name>` works for it as it is, with the weakness that comes with it.

Kept in `data_dir/bans.json` (0600), rewritten whole on each change through a temporary file
and a rename, in a worker thread (a full list is a few MB of JSON): a crash leaves the old
list or the new one, never half of one. A file that cannot be read is set aside (never
overwritten), logged, and the stage starts with no bans. At most `MAX_BANS` entries.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kagura.conversation.framing import clean
from kagura.safety.audit import AuditLog

from .events import ChatEvent, platform_name

log = logging.getLogger(__name__)

MAX_BANS = 100_000
MAX_ID_CHARS = 200
MAX_NAME_CHARS = 100
MAX_REASON_CHARS = 200
FILE_MODE = 0o600
VERSION = 1


class BanError(ValueError):
    """A ban request that cannot be carried out; the message says why."""


class BanListFull(BanError):
    pass


@dataclass(frozen=True, slots=True)
class Ban:
    platform: str
    user_id: str
    name: str  # as last seen or given, for the list: never what the ban matches
    at: str  # when, ISO-8601 UTC
    reason: str = ""

    def to_json(self) -> dict[str, str]:
        return {
            "platform": self.platform,
            "user_id": self.user_id,
            "name": self.name,
            "at": self.at,
            "reason": self.reason,
        }


Key = tuple[str, str]


def ban_key(platform: str, user_id: str) -> Key:
    """What a ban matches: the platform as events name it (case aside) and the exact id."""
    return platform_name(platform).casefold(), user_id.strip()


def _checked(platform: str, user_id: str) -> tuple[str, str]:
    shown = platform_name(platform)
    uid = user_id.strip()
    if not shown:
        raise BanError("platform is empty (e.g. bilibili, twitch, youtube)")
    if not uid:
        raise BanError("user_id is empty: a ban names the viewer's platform id")
    if len(uid) > MAX_ID_CHARS:
        raise BanError(f"user_id is longer than {MAX_ID_CHARS} characters")
    return shown, uid


class BanList:
    def __init__(self, path: Path, audit: AuditLog | None = None, limit: int = MAX_BANS) -> None:
        self.path = path
        self.audit = audit
        self.limit = limit
        self._bans: dict[Key, Ban] = {}
        self._lock = asyncio.Lock()  # one write at a time, each of the latest list

    # -- the stage's question ------------------------------------------------------------

    def covers(self, event: ChatEvent) -> bool:
        """Whether `event` comes from a banned viewer (the streamer never is one)."""
        viewer = event.viewer
        return viewer is not None and ban_key(viewer.platform, viewer.uid) in self._bans

    # -- the streamer's changes ------------------------------------------------------------

    async def ban(self, platform: str, user_id: str, name: str = "", reason: str = "") -> Ban:
        """Ban a viewer (again: the name and reason are updated, the time kept). Raises
        `BanError` for a bad identity or a full list, `OSError` when it could not be saved
        (the ban holds until the server stops)."""
        shown, uid = _checked(platform, user_id)
        key = ban_key(shown, uid)
        earlier = self._bans.get(key)
        if earlier is None and len(self._bans) >= self.limit:
            raise BanListFull(f"the ban list is full ({self.limit} viewers): lift some first")
        at = earlier.at if earlier else datetime.now(UTC).isoformat(timespec="seconds")
        ban = Ban(shown, uid, clean(name, MAX_NAME_CHARS), at, clean(reason, MAX_REASON_CHARS))
        self._bans[key] = ban
        log.info("banned a %s viewer (%d banned)", shown, len(self._bans))
        if self.audit is not None:
            self.audit.record(
                "ban", text=ban.name, platform=shown, user_id=uid, reason=ban.reason
            )
        await self._save()
        return ban

    async def lift(self, platform: str, user_id: str) -> Ban | None:
        """Lift a ban; None when there was none. `OSError`: lifted, but not saved."""
        shown, uid = _checked(platform, user_id)
        ban = self._bans.pop(ban_key(shown, uid), None)
        if ban is None:
            return None
        log.info("lifted the ban of a %s viewer (%d banned)", shown, len(self._bans))
        if self.audit is not None:
            self.audit.record("unban", text=ban.name, platform=ban.platform, user_id=ban.user_id)
        await self._save()
        return ban

    def listed(self) -> list[Ban]:
        """Every ban, the latest first."""
        return list(reversed(self._bans.values()))

    def __len__(self) -> int:
        return len(self._bans)

    # -- the file --------------------------------------------------------------------------

    def load(self) -> None:
        """Read the saved bans (at start-up, before any chat). Unreadable: set aside, logged,
        and the stage starts with none rather than not at all."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return
        except OSError as exc:
            log.error("bans: could not read %s (%s); starting with no bans", self.path, exc)
            return
        try:
            entries, skipped = _parse(json.loads(raw))
        except (ValueError, TypeError) as exc:
            self._set_aside(f"it is not a ban list ({exc})")
            return
        for ban in entries:
            if len(self._bans) >= self.limit:
                skipped += 1
                continue
            self._bans[ban_key(ban.platform, ban.user_id)] = ban
        if skipped:
            self._set_aside(f"{skipped} entr{'y' if skipped == 1 else 'ies'} could not be used")
        log.info("bans: %d viewer(s) banned", len(self._bans))

    def _set_aside(self, why: str) -> None:
        aside = self.path.with_name(f"{self.path.name}.unreadable-{int(time.time())}")
        with contextlib.suppress(OSError):
            os.replace(self.path, aside)
        log.error(
            "bans: %s: %s; kept as %s, %d ban(s) loaded", self.path, why, aside, len(self._bans)
        )

    async def _save(self) -> None:
        async with self._lock:
            snapshot = tuple(self._bans.values())  # the latest list, whoever changed it
            await asyncio.to_thread(_write, self.path, snapshot)


def _parse(data: Any) -> tuple[list[Ban], int]:
    if not isinstance(data, dict) or not isinstance(data.get("bans"), list):
        raise ValueError('expected {"version": 1, "bans": [...]}')
    bans: list[Ban] = []
    skipped = 0
    for item in data["bans"]:
        try:
            fields = {key: item[key] for key in ("platform", "user_id", "name", "at")}
            if not all(isinstance(value, str) for value in fields.values()):
                raise TypeError("not text")
            reason = item.get("reason", "")
            shown, uid = _checked(fields["platform"], fields["user_id"])
            bans.append(Ban(shown, uid, fields["name"], fields["at"], str(reason)))
        except (KeyError, TypeError, BanError):
            skipped += 1
    return bans, skipped


def _write(path: Path, bans: Iterable[Ban]) -> None:
    data = {"version": VERSION, "bans": [ban.to_json() for ban in bans]}
    payload = json.dumps(data, ensure_ascii=False, indent=1).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f"{path.name}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "wb") as file:
        os.fchmod(fd, FILE_MODE)  # a temporary file left by a crash keeps its old mode
        file.write(payload)
        file.flush()
        os.fsync(fd)
    os.replace(temporary, path)
