"""The memory database's schema and statements; everything here runs on the worker thread.

Recall must take milliseconds with 100,000 notes, and must never show one viewer's facts in
another viewer's turn. So only notes about nobody in particular (summaries, facts about the
stream) are in the full-text index: an external-content FTS5 table (`trigram` tokenizer)
kept in step by triggers, so a note deleted by any path leaves the index. A viewer's own
facts are few: the speakers' newest ones are read by index and ranked here.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from kagura.dbthread import connect_wal

from . import erase
from .records import Kind, Note, Profile, Sighting, ViewerKey

SCHEMA_VERSION = 2  # 2: the vectors table
MAX_NAMES = 8  # names seen per viewer: the newest are kept
PROFILE_FACTS = 5  # facts shown with a profile in the prompt

_SCHEMA = (
    """
    CREATE TABLE IF NOT EXISTS viewers (
        id         INTEGER PRIMARY KEY,
        scope      TEXT NOT NULL,
        platform   TEXT NOT NULL,
        uid        TEXT NOT NULL,
        name       TEXT NOT NULL,
        names      TEXT NOT NULL,
        first_seen REAL NOT NULL,
        last_seen  REAL NOT NULL,
        messages   INTEGER NOT NULL DEFAULT 0,
        paid       TEXT NOT NULL DEFAULT '{}',
        UNIQUE (scope, platform, uid)
    )
    """,
    "CREATE INDEX IF NOT EXISTS viewers_by_seen ON viewers (scope, last_seen)",
    """
    CREATE TABLE IF NOT EXISTS notes (
        id        INTEGER PRIMARY KEY,
        scope     TEXT NOT NULL,
        kind      TEXT NOT NULL CHECK (kind IN ('fact', 'summary')),
        viewer_id INTEGER REFERENCES viewers(id) ON DELETE CASCADE,
        text      TEXT NOT NULL,
        source    TEXT NOT NULL DEFAULT '',
        created   REAL NOT NULL
    )
    """,
    "CREATE INDEX IF NOT EXISTS notes_by_viewer ON notes (viewer_id, id)",
    "CREATE INDEX IF NOT EXISTS notes_by_scope ON notes (scope, created)",
    "CREATE VIRTUAL TABLE IF NOT EXISTS notes_fts USING fts5("
    " text, content='notes', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER IF NOT EXISTS notes_ai AFTER INSERT ON notes"
    " WHEN new.viewer_id IS NULL BEGIN"
    " INSERT INTO notes_fts (rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER IF NOT EXISTS notes_ad AFTER DELETE ON notes"
    " WHEN old.viewer_id IS NULL BEGIN"
    " INSERT INTO notes_fts (notes_fts, rowid, text) VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER IF NOT EXISTS notes_au AFTER UPDATE OF text ON notes"
    " WHEN old.viewer_id IS NULL BEGIN"
    " INSERT INTO notes_fts (notes_fts, rowid, text) VALUES ('delete', old.id, old.text);"
    " INSERT INTO notes_fts (rowid, text) VALUES (new.id, new.text); END",
    # Each note's embedding (`vectors`), made from its text: derived, so an edit drops it
    # (the indexer makes it again) and a deleted note takes it along.
    """
    CREATE TABLE IF NOT EXISTS vectors (
        note_id INTEGER PRIMARY KEY REFERENCES notes(id) ON DELETE CASCADE,
        model   TEXT NOT NULL,
        data    BLOB NOT NULL
    )
    """,
    "CREATE TRIGGER IF NOT EXISTS notes_vector_stale AFTER UPDATE OF text ON notes"
    " BEGIN DELETE FROM vectors WHERE note_id = new.id; END",
)

NOTE_COLUMNS = "id, kind, text, created, viewer_id, source"
_VIEWER = "id, platform, uid, name, names, first_seen, last_seen, messages, paid"


def connect(db_path: Path) -> sqlite3.Connection:
    conn = connect_wal(db_path)
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise RuntimeError(
                f"{db_path} has memory schema version {version}, newer than this Kagura "
                f"supports ({SCHEMA_VERSION}); upgrade Kagura"
            )
        if version < SCHEMA_VERSION:
            with transaction(conn):
                for statement in _SCHEMA:
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    except BaseException:
        conn.close()
        raise
    return conn


class transaction:
    """BEGIN IMMEDIATE … COMMIT, rolled back on any error (the connection autocommits)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def __enter__(self) -> None:
        self._conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, *rest: object) -> None:
        self._conn.execute("ROLLBACK" if kind is not None else "COMMIT")


# -- writing ------------------------------------------------------------------------------


def seen(conn: sqlite3.Connection, scope: str, sightings: Sequence[Sighting]) -> None:
    """Count each sighting into its viewer's profile, creating it when new."""
    with transaction(conn):
        for sighting in sightings:
            _count(conn, scope, sighting)


def _count(conn: sqlite3.Connection, scope: str, sighting: Sighting) -> None:
    key = sighting.key
    row = conn.execute(
        "SELECT id, names, paid FROM viewers WHERE scope = ? AND platform = ? AND uid = ?",
        (scope, key.platform, key.uid),
    ).fetchone()
    if row is None:
        paid = {sighting.currency: sighting.amount} if sighting.amount else {}
        conn.execute(
            "INSERT INTO viewers (scope, platform, uid, name, names, first_seen, last_seen,"
            " messages, paid) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?)",
            (
                scope,
                key.platform,
                key.uid,
                sighting.name,
                json.dumps([sighting.name] if sighting.name else []),
                sighting.at,
                sighting.at,
                json.dumps(paid),
            ),
        )
        return
    viewer_id, names_json, paid_json = row
    names = [name for name in json.loads(names_json) if name != sighting.name]
    if sighting.name:
        names.append(sighting.name)
    paid = json.loads(paid_json)
    if sighting.amount:
        paid[sighting.currency] = round(paid.get(sighting.currency, 0.0) + sighting.amount, 2)
    conn.execute(
        "UPDATE viewers SET name = coalesce(nullif(?, ''), name), names = ?, last_seen = ?,"
        " messages = messages + 1, paid = ? WHERE id = ?",
        (sighting.name, json.dumps(names[-MAX_NAMES:]), sighting.at, json.dumps(paid), viewer_id),
    )


def add_notes(
    conn: sqlite3.Connection,
    scope: str,
    notes: Iterable[tuple[Kind, str, ViewerKey | None, str]],
    at: float,
) -> int:
    """Store notes (kind, text, about whom, source); one about an unknown viewer is skipped."""
    added = 0
    with transaction(conn):
        for kind, text, about, source in notes:
            viewer_id = None
            if about is not None:
                viewer_id = _viewer_id(conn, scope, about)
                if viewer_id is None:
                    continue
            conn.execute(
                "INSERT INTO notes (scope, kind, viewer_id, text, source, created)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (scope, kind, viewer_id, text, source, at),
            )
            added += 1
    return added


def _viewer_id(conn: sqlite3.Connection, scope: str, key: ViewerKey) -> int | None:
    row = conn.execute(
        "SELECT id FROM viewers WHERE scope = ? AND platform = ? AND uid = ?",
        (scope, key.platform, key.uid),
    ).fetchone()
    return None if row is None else int(row[0])


# -- reading ------------------------------------------------------------------------------


def profile(conn: sqlite3.Connection, scope: str, key: ViewerKey) -> Profile | None:
    row = conn.execute(
        f"SELECT {_VIEWER} FROM viewers WHERE scope = ? AND platform = ? AND uid = ?",
        (scope, key.platform, key.uid),
    ).fetchone()
    if row is None:
        return None
    facts = conn.execute(
        f"SELECT {NOTE_COLUMNS} FROM notes WHERE viewer_id = ? ORDER BY id DESC LIMIT ?",
        (row[0], PROFILE_FACTS),
    ).fetchall()
    return _to_profile(row, tuple(note(fact) for fact in facts))


def _to_profile(row: Sequence[Any], facts: tuple[Note, ...] = ()) -> Profile:
    viewer_id, platform, uid, name, names, first_seen, last_seen, messages, paid = row
    return Profile(
        id=viewer_id,
        platform=platform,
        uid=uid,
        name=name,
        names=tuple(json.loads(names)),
        first_seen=first_seen,
        last_seen=last_seen,
        messages=messages,
        paid=json.loads(paid),
        facts=facts,
    )


def note(row: Sequence[Any]) -> Note:
    note_id, kind, text, created, viewer_id, source = row
    return Note(note_id, kind, text, created, viewer_id, source)


# -- the console and the forget command --------------------------------------------------


def forget(conn: sqlite3.Connection, scope: str, key: ViewerKey) -> int:
    """Delete a viewer's profile and the facts about them; take their names out of the
    notes about nobody in particular (`erase`)."""
    with transaction(conn):
        row = conn.execute(
            "SELECT id, names FROM viewers WHERE scope = ? AND platform = ? AND uid = ?",
            (scope, key.platform, key.uid),
        ).fetchone()
        if row is None:
            return 0
        return _delete_viewer(conn, scope, int(row[0]), json.loads(row[1]))


def delete_viewer(conn: sqlite3.Connection, scope: str, viewer_id: int) -> int:
    with transaction(conn):
        row = conn.execute(
            "SELECT names FROM viewers WHERE scope = ? AND id = ?", (scope, viewer_id)
        ).fetchone()
        if row is None:
            return 0
        return _delete_viewer(conn, scope, viewer_id, json.loads(row[0]))


def _delete_viewer(conn: sqlite3.Connection, scope: str, viewer_id: int, names: list[str]) -> int:
    return erase.delete_viewer(conn, scope, viewer_id, names)


def list_viewers(
    conn: sqlite3.Connection, scope: str, search: str, limit: int, offset: int
) -> list[Profile]:
    pattern = f"%{search.casefold()}%"
    rows = conn.execute(
        f"SELECT {_VIEWER} FROM viewers WHERE scope = ? AND (? = '' OR lower(names) LIKE ?"
        " OR lower(uid) LIKE ?) ORDER BY last_seen DESC LIMIT ? OFFSET ?",
        (scope, search, pattern, pattern, limit, offset),
    ).fetchall()
    return [_to_profile(row) for row in rows]


def list_notes(
    conn: sqlite3.Connection,
    scope: str,
    search: str,
    viewer_id: int | None,
    limit: int,
    offset: int,
) -> list[Note]:
    """Notes newest first, those containing `search` (any length, any script) if given."""
    rows = conn.execute(
        f"SELECT {NOTE_COLUMNS} FROM notes"
        " WHERE scope = ? AND (? = '' OR instr(lower(text), ?) > 0)"
        " AND (? IS NULL OR viewer_id = ?) ORDER BY id DESC LIMIT ? OFFSET ?",
        (scope, search, search.casefold(), viewer_id, viewer_id, limit, offset),
    ).fetchall()
    return [note(row) for row in rows]


def edit_note(conn: sqlite3.Connection, scope: str, note_id: int, text: str) -> bool:
    cursor = conn.execute(
        "UPDATE notes SET text = ? WHERE scope = ? AND id = ?", (text, scope, note_id)
    )
    return cursor.rowcount > 0


def delete_note(conn: sqlite3.Connection, scope: str, note_id: int) -> bool:
    cursor = conn.execute("DELETE FROM notes WHERE scope = ? AND id = ?", (scope, note_id))
    return cursor.rowcount > 0


def count(conn: sqlite3.Connection, scope: str) -> dict[str, int]:
    viewers = conn.execute("SELECT count(*) FROM viewers WHERE scope = ?", (scope,)).fetchone()
    notes = conn.execute("SELECT count(*) FROM notes WHERE scope = ?", (scope,)).fetchone()
    return {"viewers": int(viewers[0]), "notes": int(notes[0])}
