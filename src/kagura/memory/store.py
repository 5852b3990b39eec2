"""Async access to long-term memory: one SQLite file beside the history, one worker thread.

Every call names its `scope`: the character (conf_uid) whose memory it is, or `SHARED` when
the streamer lets all characters share one. Nothing reads across scopes.

The embedding index (`vectors`) lives beside the connection and is used only on the worker
thread; it is built from the database by `load_vectors` and kept in step by every call that
adds, edits or deletes notes.
"""

from __future__ import annotations

import builtins
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from kagura.dbthread import DatabaseStore

from . import indexing, recall, retention, sql
from .recall import Meaning
from .records import Kind, Note, Profile, Recall, Sighting, ViewerKey
from .retention import Pruned
from .vectors import Vector, VectorIndex

__all__ = ["SHARED", "MemoryStore"]

SHARED = "*"  # the scope of memory shared by every character
DAY_S = 86_400.0
MAX_PAGE = 500


class MemoryStore(DatabaseStore):
    """Construct (no I/O), ``await open()``, use, ``await close()``."""

    def __init__(self, db_path: Path) -> None:
        super().__init__(db_path, sql.connect, "memory")
        self._index: VectorIndex | None = None
        self._model = ""  # whose vectors the index holds ("": none loaded)
        self._backlog = indexing.Backlog()  # where notes without a vector may be
        # Told when notes were added or edited (the indexer has vectors to make).
        self.on_change: builtins.list[Callable[[], None]] = []

    async def seen(self, scope: str, sightings: Sequence[Sighting]) -> None:
        """Update the profile counters of the viewers behind `sightings` (one transaction)."""
        if sightings:
            await self._db.run(sql.seen, scope, sightings)

    async def add(
        self, scope: str, notes: Iterable[tuple[Kind, str, ViewerKey | None, str]]
    ) -> int:
        """Store notes as (kind, text, about whom or None, source message); returns how many
        were kept (one about a viewer without a profile is not)."""
        kept = await self._db.run(sql.add_notes, scope, builtins.list(notes), time.time())
        if kept:
            self._changed()
        return kept

    async def recall(
        self,
        scope: str,
        viewers: Sequence[ViewerKey],
        text: str,
        limit: int,
        meaning: Meaning | None = None,
    ) -> Recall:
        """Profiles and notes for a turn (`recall`); by meaning too when `meaning` is given
        and the index has vectors."""
        index = self._index if meaning is not None else None
        return await self._db.run(recall.recall, scope, viewers, text, limit, index, meaning)

    # -- the embedding index ------------------------------------------------------------

    async def load_vectors(self, model: str) -> int:
        """Build the index from the vectors `model` made (kept in the database); returns
        how many it holds. Notes without one are found by `unembedded`."""
        self._index = await self._db.run(indexing.build, model)
        self._model = model
        self._backlog.rescan()
        return len(self._index) if self._index is not None else 0

    async def unembedded(self, limit: int) -> tuple[builtins.list[tuple[int, str]], bool]:
        """Up to `limit` notes without a vector of the loaded model, as (id, text), and
        whether to ask again (a search through older notes is under way)."""
        if not self._model:
            return [], False
        return await self._db.run(indexing.unembedded, self._model, limit, self._backlog)

    def rescan(self) -> None:
        """Look through every note for missing vectors again (some were not made)."""
        self._backlog.rescan()

    async def put_vectors(self, made: Sequence[tuple[int, str, Vector]]) -> None:
        """Keep vectors made for (note id, the text they were made from)."""
        if self._model:
            self._index = await self._db.run(indexing.store, self._index, self._model, made)

    def index_stats(self) -> dict[str, int | str]:
        index = self._index
        return {
            "model": self._model,
            "vectors": len(index) if index is not None else 0,
            "index_bytes": index.nbytes if index is not None else 0,
        }

    async def _deleted(self) -> None:
        """Notes went or changed (by any path, cascades included): the index keeps only the
        vectors the database still has."""
        if self._index is not None:
            await self._db.run(indexing.sync, self._index)

    def _changed(self) -> None:
        for listener in builtins.list(self.on_change):
            listener()

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
        pruned = await self._db.run(
            retention.prune, scope, max_notes, max_viewers, before, protect_since
        )
        if pruned.removed:
            await self._deleted()
        return pruned

    async def forget(self, scope: str, viewer: ViewerKey) -> int:
        """Delete everything kept about `viewer`; returns how many rows went."""
        gone = await self._db.run(sql.forget, scope, viewer)
        await self._deleted()  # the notes that named them were rewritten, too
        self._backlog.rescan()
        self._changed()
        return gone

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
        edited = await self._db.run(sql.edit_note, scope, note_id, text)
        if edited:
            await self._deleted()  # its vector was of the old text
            self._backlog.rescan()
            self._changed()
        return edited

    async def delete_note(self, scope: str, note_id: int) -> bool:
        deleted = await self._db.run(sql.delete_note, scope, note_id)
        if deleted:
            await self._deleted()
        return deleted

    async def delete_viewer(self, scope: str, viewer_id: int) -> int:
        gone = await self._db.run(sql.delete_viewer, scope, viewer_id)
        await self._deleted()
        return gone

    async def count(self, scope: str) -> dict[str, int]:
        return await self._db.run(sql.count, scope)


def _page(limit: int) -> int:
    # SQLite reads a negative LIMIT as "no limit": that would defeat the bound.
    return min(max(0, limit), MAX_PAGE)
