"""The `vectors` table and the in-memory index built from it; runs on the worker thread.

Vectors are made off this thread (by the embedding engine) and handed in with the text they
were made from: a note edited or deleted meanwhile keeps no vector of its old text.

Notes leave by many paths (the console, `!forget me`, retention, cascades from a deleted
viewer, an edit that drops the vector). Rather than each path telling the index, a trigger
of this connection's own (TEMP: nothing on disk) writes down every vector row deleted, and
`sync` takes those out of the index: the cost is the rows deleted, not the table's size.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from .sql import transaction
from .vectors import Packed, Vector, VectorIndex, pack

READ_BATCH = 10_000  # rows read at a time when the index is built


_TRACK_DELETIONS = (
    "CREATE TEMP TABLE IF NOT EXISTS vectors_gone (note_id INTEGER NOT NULL)",
    "CREATE TEMP TRIGGER IF NOT EXISTS vectors_deleted AFTER DELETE ON main.vectors"
    " BEGIN INSERT INTO vectors_gone (note_id) VALUES (old.note_id); END",
)


def build(conn: sqlite3.Connection, model: str) -> VectorIndex | None:
    """The index of every vector made by `model` (None when there is none yet); from now
    on, deleted vectors are written down for `sync`."""
    _track_deletions(conn)
    conn.execute("DELETE FROM temp.vectors_gone")
    index: VectorIndex | None = None
    cursor = conn.execute(
        "SELECT v.note_id, n.scope, n.viewer_id, v.data"
        " FROM vectors AS v JOIN notes AS n ON n.id = v.note_id WHERE v.model = ?",
        (model,),
    )
    while rows := cursor.fetchmany(READ_BATCH):
        for note_id, scope, owner, data in rows:
            packed = Packed.from_bytes(data)
            if index is None:
                index = VectorIndex(len(packed.values))
            if len(packed.values) == index.dim:
                index.add(note_id, scope, owner, packed)
    return index


def _track_deletions(conn: sqlite3.Connection) -> None:
    for statement in _TRACK_DELETIONS:
        conn.execute(statement)


SCAN_STEP = 4_096  # note ids looked at per call of a pass: a few ms of the worker thread


class Backlog:
    """Where the notes without a vector may be, so that finding them never scans the whole
    table while a turn waits for the worker thread: notes newer than `checked_upto` (the
    usual case: a note just written), and a pass down all the ids in windows of
    `SCAN_STEP` (at the start; again after an edit or a forget rewrote old notes)."""

    def __init__(self) -> None:
        self.checked_upto = 0  # every note up to this id has a vector (or is being made one)
        self.cursor: int | None = None  # the pass looks below this id next; None: no pass
        self.rescan()

    def rescan(self) -> None:
        self.cursor = -1  # a pass starts at the next call


def unembedded(
    conn: sqlite3.Connection, model: str, limit: int, backlog: Backlog
) -> tuple[list[tuple[int, str]], bool]:
    """Up to `limit` notes with no vector by `model`, as (id, text), and whether a pass is
    still under way (more may be found by calling again)."""
    if backlog.cursor == -1:
        top = int(conn.execute("SELECT coalesce(max(id), 0) FROM notes").fetchone()[0])
        backlog.cursor, backlog.checked_upto = top + 1, top
    newest = _missing(conn, model, backlog.checked_upto, None, limit)
    if newest:
        return newest, True
    backlog.checked_upto = int(
        conn.execute("SELECT coalesce(max(id), 0) FROM notes").fetchone()[0]
    )
    if backlog.cursor is None:
        return [], False
    floor = max(0, backlog.cursor - SCAN_STEP)
    found = _missing(conn, model, floor, backlog.cursor, limit)
    if len(found) == limit:
        backlog.cursor = found[-1][0]
    else:
        backlog.cursor = floor if floor > 0 else None
    return found, backlog.cursor is not None


def _missing(
    conn: sqlite3.Connection, model: str, above: int, below: int | None, limit: int
) -> list[tuple[int, str]]:
    """Notes with ids in (above, below) and no vector by `model`, newest first."""
    return [
        (int(note_id), text)
        for note_id, text in conn.execute(
            "SELECT n.id, n.text FROM notes AS n"
            " LEFT JOIN vectors AS v ON v.note_id = n.id AND v.model = ?"
            " WHERE n.id > ? AND n.id < ? AND v.note_id IS NULL ORDER BY n.id DESC LIMIT ?",
            (model, above, below if below is not None else 2**62, limit),
        )
    ]


def store(
    conn: sqlite3.Connection,
    index: VectorIndex | None,
    model: str,
    made: Sequence[tuple[int, str, Vector]],
) -> VectorIndex | None:
    """Keep the vectors made for (note id, its text then); returns the index (a new one
    for the first vectors, or for vectors of a new length: the model has changed)."""
    if not made:
        return index
    if index is None or index.dim != len(made[0][2]):
        index = VectorIndex(len(made[0][2]))
    _track_deletions(conn)
    with transaction(conn):
        for note_id, text, vector in made:
            row = conn.execute(
                "SELECT scope, viewer_id FROM notes WHERE id = ? AND text = ?", (note_id, text)
            ).fetchone()
            if row is None:  # deleted or edited meanwhile
                continue
            packed = pack(vector)
            conn.execute(
                "INSERT OR REPLACE INTO vectors (note_id, model, data) VALUES (?, ?, ?)",
                (note_id, model, packed.to_bytes()),
            )
            index.add(note_id, row[0], row[1], packed)
        # A vector replaced is not a vector gone (were the trigger to see the replacement).
        ids = [note_id for note_id, _, _ in made]
        conn.execute(
            f"DELETE FROM temp.vectors_gone WHERE note_id IN ({','.join('?' * len(ids))})", ids
        )
    return index


def sync(conn: sqlite3.Connection, index: VectorIndex) -> int:
    """Take out of the index the vectors deleted since the last call; returns how many."""
    gone = [int(note_id) for (note_id,) in conn.execute("SELECT note_id FROM temp.vectors_gone")]
    if gone:
        conn.execute("DELETE FROM temp.vectors_gone")
        index.remove(gone)
    return len(gone)
