"""Async access to long-term memory: one SQLite file beside the history, one worker thread.

Every call names its `scope`: the character (conf_uid) whose memory it is, or `SHARED` when
the streamer lets all characters share one. Nothing reads across scopes.
"""

from __future__ import annotations

import builtins
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from kagura.dbthread import DatabaseStore

from . import retention, sql
from .records import Kind, Note, Profile, Recall, Sighting, ViewerKey
from .retention import Pruned

__all__ = ["SHARED", "MemoryStore"]

SHARED = "*"  # the scope of memory shared by every character
DAY_S = 86_400.0
MAX_PAGE = 500


class MemoryStore(DatabaseStore):
    """Construct (no I/O), ``await open()``, use, ``await close()``."""

    def __init__(self, db_path: Path) -> None:
        super().__init__(db_path, sql.connect, "memory")

    async def seen(self, scope: str, sightings: Sequence[Sighting]) -> None:
        """Update the profile counters of the viewers behind `sightings` (one transaction)."""
        if sightings:
            await self._db.run(sql.seen, scope, sightings)

    async def add(
        self, scope: str, notes: Iterable[tuple[Kind, str, ViewerKey | None, str]]
    ) -> int:
        """Store notes as (kind, text, about whom or None, source message); returns how many
        were kept (one about a viewer without a profile is not)."""
        return await self._db.run(sql.add_notes, scope, builtins.list(notes), time.time())

    async def recall(
        self, scope: str, viewers: Sequence[ViewerKey], text: str, limit: int
    ) -> Recall:
        return await self._db.run(sql.recall, scope, viewers, text, limit)

    async def prune(
        self,
        scope: str,
        *,
        max_notes: int,
        max_viewers: int,
        max_age_days: float,
        protect_since: float | None = None,
    ) -> Pruned:
        """Apply the retention limits (`retention`); viewers with facts or payments seen
        since `protect_since` (epoch seconds: this stream's start) are not evicted."""
        before = time.time() - max_age_days * DAY_S if max_age_days > 0 else None
        return await self._db.run(
            retention.prune, scope, max_notes, max_viewers, before, protect_since
        )

    async def forget(self, scope: str, viewer: ViewerKey) -> int:
        """Delete everything kept about `viewer`; returns how many rows went."""
        return await self._db.run(sql.forget, scope, viewer)

    # -- the console --------------------------------------------------------------------

    async def viewers(
        self, scope: str, search: str = "", limit: int = 100, offset: int = 0
    ) -> builtins.list[Profile]:
        return await self._db.run(sql.list_viewers, scope, search, _page(limit), max(0, offset))

    async def notes(
        self,
        scope: str,
        search: str = "",
        viewer_id: int | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> builtins.list[Note]:
        return await self._db.run(
            sql.list_notes, scope, search, viewer_id, _page(limit), max(0, offset)
        )

    async def edit_note(self, scope: str, note_id: int, text: str) -> bool:
        return await self._db.run(sql.edit_note, scope, note_id, text)

    async def delete_note(self, scope: str, note_id: int) -> bool:
        return await self._db.run(sql.delete_note, scope, note_id)

    async def delete_viewer(self, scope: str, viewer_id: int) -> int:
        return await self._db.run(sql.delete_viewer, scope, viewer_id)

    async def count(self, scope: str) -> dict[str, int]:
        return await self._db.run(sql.count, scope)


def _page(limit: int) -> int:
    # SQLite reads a negative LIMIT as "no limit": that would defeat the bound.
    return min(max(0, limit), MAX_PAGE)
