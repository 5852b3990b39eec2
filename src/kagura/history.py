"""Conversation history, stored in SQLite one row per message.

Each character config (``conf_uid``) owns many histories, and each history is an
ordered list of messages. The store is append-only: saying something is a single
``INSERT`` committed at once, so a crash (even ``kill -9`` in the middle of a turn)
can lose at most the message being written, never what was already said. The only
destructive operations are deleting a whole history and the streamer's cut, which replaces
what one reply says with a note (`retract`).

SQLite runs in WAL mode with ``synchronous=NORMAL``: a committed transaction
survives the process dying at any point; only an OS crash or power cut may roll
back the last few commits, which is an acceptable trade for a chat log.

sqlite3 calls block, so none of them run on the event loop: every call goes to the
single worker thread of a `DatabaseThread`, which owns the only connection.
"""

from __future__ import annotations

import builtins
import sqlite3
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, get_args
from uuid import uuid4

from kagura.dbthread import DatabaseStore, connect_wal

__all__ = ["SCHEMA_VERSION", "HistoryStore", "HistorySummary", "Role", "StoredMessage"]

Role = Literal["human", "ai"]

# Bumped whenever the schema changes; `open()` refuses databases from the future.
SCHEMA_VERSION = 1

_ROLES: frozenset[str] = frozenset(get_args(Role))

_SCHEMA = (
    """
    CREATE TABLE IF NOT EXISTS histories (
        uid        TEXT PRIMARY KEY,
        conf_uid   TEXT NOT NULL,
        created_at TEXT NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS messages (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        history_uid TEXT NOT NULL REFERENCES histories(uid) ON DELETE CASCADE,
        role        TEXT NOT NULL CHECK (role IN ('human', 'ai')),
        content     TEXT NOT NULL,
        name        TEXT,
        avatar      TEXT,
        timestamp   TEXT NOT NULL,
        interrupted INTEGER NOT NULL DEFAULT 0
    )
    """,
    # Serves the "last N messages" read, the "latest message" lookup in list(),
    # and the cascade when a history is deleted.
    "CREATE INDEX IF NOT EXISTS messages_by_history ON messages (history_uid, id)",
    # Serves list() and the conf_uid check in exists()/delete().
    "CREATE INDEX IF NOT EXISTS histories_by_conf ON histories (conf_uid)",
)

_MESSAGE_COLUMNS = "role, content, timestamp, name, avatar, interrupted"


def _now() -> str:
    # Local time, no offset, whole seconds: the format the Open-LLM-VTuber
    # frontend already renders.
    return datetime.now().isoformat(timespec="seconds")


@dataclass(frozen=True)
class StoredMessage:
    """One message of a history, as stored."""

    role: Role
    content: str
    timestamp: str
    name: str | None = None
    avatar: str | None = None
    # True when the AI was cut off mid-reply; `content` is what was actually said.
    interrupted: bool = False
    # The row, as `append` returns it (so the streamer's cut can take the message back).
    id: int | None = field(default=None, compare=False)

    def to_wire(self) -> dict[str, Any]:
        """The frontend's message shape; `name`/`avatar` appear only when set."""
        wire: dict[str, Any] = {
            "role": self.role,
            "timestamp": self.timestamp,
            "content": self.content,
        }
        if self.name is not None:
            wire["name"] = self.name
        if self.avatar is not None:
            wire["avatar"] = self.avatar
        return wire


@dataclass(frozen=True)
class HistorySummary:
    """A history as shown in the frontend's history list."""

    uid: str
    latest_message: StoredMessage
    timestamp: str  # the latest message's timestamp

    def to_wire(self) -> dict[str, Any]:
        return {
            "uid": self.uid,
            "latest_message": self.latest_message.to_wire(),
            "timestamp": self.timestamp,
        }


class HistoryStore(DatabaseStore):
    """Async access to the history database.

    Lifecycle is explicit, like an HTTP client: construct (no I/O), ``await open()``,
    use, ``await close()``. A closed store cannot be reopened; make a new one.
    """

    def __init__(self, db_path: Path) -> None:
        super().__init__(db_path, _connect, "history")
        self._run = self._db.run
        # Histories that a live conversation records into, and how many hold each.
        self._held: Counter[str] = Counter()

    async def create(self, conf_uid: str) -> str:
        """Start a new, empty history for `conf_uid` and return its uid."""
        return await self._run(_create, conf_uid)

    async def exists(self, conf_uid: str, history_uid: str) -> bool:
        """Whether `history_uid` exists and belongs to `conf_uid`."""
        return await self._run(_exists, conf_uid, history_uid)

    async def append(
        self,
        history_uid: str,
        role: Role,
        content: str,
        *,
        name: str | None = None,
        avatar: str | None = None,
        interrupted: bool = False,
    ) -> StoredMessage:
        """Add a message to the end of a history; it is committed on return.

        Raises `KeyError` if the history does not exist. If the awaiting task is
        cancelled, the insert may still be committed: it is already on the worker.
        """
        if role not in _ROLES:
            raise ValueError(f"role must be 'human' or 'ai', not {role!r}")
        message = StoredMessage(
            role=role,
            content=content,
            timestamp=_now(),
            name=name,
            avatar=avatar,
            interrupted=interrupted,
        )
        row = await self._run(_append, history_uid, message)
        return replace(message, id=row)

    async def retract(self, history_uid: str, message_id: int, content: str) -> bool:
        """Replace what a message says with `content` (marked interrupted): the streamer cut
        a reply after it was written, and the history must not keep it as said. The one
        change to a message the store allows; False if the message is not there."""
        return await self._run(_retract, history_uid, message_id, content)

    async def messages(self, history_uid: str, limit: int) -> builtins.list[StoredMessage]:
        """The last `limit` messages of a history, oldest first.

        There is deliberately no "everything" option: histories grow without bound
        and every caller (LLM context, frontend replay) only needs a tail. An
        unknown history has no messages.
        """
        _check_limit(limit)
        return await self._run(_messages, history_uid, limit)

    async def list(self, conf_uid: str, limit: int = 200) -> builtins.list[HistorySummary]:
        """Histories of `conf_uid` that have messages, most recent activity first."""
        _check_limit(limit)
        return await self._run(_list, conf_uid, limit)

    async def delete(self, conf_uid: str, history_uid: str) -> bool:
        """Delete a history and its messages; False if no such history for `conf_uid`."""
        return await self._run(_delete, conf_uid, history_uid)

    # -- histories in use ---------------------------------------------------------------
    # A conversation holds the history it records into, so that no other conversation can
    # delete it from under it (the stage would then have nowhere to record).

    def hold(self, history_uid: str) -> None:
        self._held[history_uid] += 1

    def release(self, history_uid: str) -> None:
        self._held[history_uid] -= 1
        if self._held[history_uid] <= 0:
            del self._held[history_uid]

    def holders(self, history_uid: str) -> int:
        """How many live conversations record into `history_uid`."""
        return self._held[history_uid]


def _check_limit(limit: int) -> None:
    # SQLite treats a negative LIMIT as "no limit", which would defeat the bound.
    if limit < 0:
        raise ValueError(f"limit must be >= 0, not {limit}")


# --- Everything below runs on the worker thread. ---------------------------------


def _connect(db_path: Path) -> sqlite3.Connection:
    # Autocommit: each statement is its own transaction, committed when it returns. Every
    # write here is a single statement, so that is exactly "append-only, committed at once".
    conn = connect_wal(db_path)
    try:
        _migrate(conn, db_path)
    except BaseException:
        conn.close()
        raise
    return conn


def _migrate(conn: sqlite3.Connection, db_path: Path) -> None:
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise RuntimeError(
            f"{db_path} has schema version {version}, newer than this Kagura "
            f"supports ({SCHEMA_VERSION}); upgrade Kagura"
        )
    if version == SCHEMA_VERSION:
        return
    # executescript() would commit on its own; wrap schema and version in one
    # transaction so a crash never leaves a half-created schema marked current.
    conn.execute("BEGIN IMMEDIATE")
    try:
        for statement in _SCHEMA:
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _create(conn: sqlite3.Connection, conf_uid: str) -> str:
    uid = uuid4().hex
    conn.execute(
        "INSERT INTO histories (uid, conf_uid, created_at) VALUES (?, ?, ?)",
        (uid, conf_uid, _now()),
    )
    return uid


def _exists(conn: sqlite3.Connection, conf_uid: str, history_uid: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM histories WHERE uid = ? AND conf_uid = ?", (history_uid, conf_uid)
    ).fetchone()
    return row is not None


def _append(conn: sqlite3.Connection, history_uid: str, message: StoredMessage) -> int:
    # Check and insert in one statement, so there is no window between them.
    cursor = conn.execute(
        f"INSERT INTO messages (history_uid, {_MESSAGE_COLUMNS}) "
        "SELECT ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM histories WHERE uid = ?)",
        (
            history_uid,
            message.role,
            message.content,
            message.timestamp,
            message.name,
            message.avatar,
            int(message.interrupted),
            history_uid,
        ),
    )
    if cursor.rowcount == 0 or cursor.lastrowid is None:
        raise KeyError(history_uid)
    return cursor.lastrowid


def _retract(conn: sqlite3.Connection, history_uid: str, message_id: int, content: str) -> bool:
    cursor = conn.execute(
        "UPDATE messages SET content = ?, interrupted = 1 WHERE id = ? AND history_uid = ?",
        (content, message_id, history_uid),
    )
    return cursor.rowcount > 0


def _messages(conn: sqlite3.Connection, history_uid: str, limit: int) -> list[StoredMessage]:
    rows = conn.execute(
        f"SELECT {_MESSAGE_COLUMNS} FROM ("
        f"  SELECT id, {_MESSAGE_COLUMNS} FROM messages WHERE history_uid = ?"
        "   ORDER BY id DESC LIMIT ?"
        ") ORDER BY id",
        (history_uid, limit),
    ).fetchall()
    return [_to_message(row) for row in rows]


def _list(conn: sqlite3.Connection, conf_uid: str, limit: int) -> list[HistorySummary]:
    # Activity order is by message id rather than timestamp: ids are strictly
    # increasing, while timestamps tie within a second and jump with the clock.
    rows = conn.execute(
        "SELECT h.uid, m.role, m.content, m.timestamp, m.name, m.avatar, m.interrupted"
        " FROM histories AS h"
        " JOIN messages AS m"
        "   ON m.id = (SELECT max(id) FROM messages WHERE history_uid = h.uid)"
        " WHERE h.conf_uid = ?"
        " ORDER BY m.id DESC LIMIT ?",
        (conf_uid, limit),
    ).fetchall()
    summaries = []
    for uid, *columns in rows:
        latest = _to_message(tuple(columns))
        summaries.append(HistorySummary(uid=uid, latest_message=latest, timestamp=latest.timestamp))
    return summaries


def _delete(conn: sqlite3.Connection, conf_uid: str, history_uid: str) -> bool:
    # The messages go with it through ON DELETE CASCADE, in the same statement.
    cursor = conn.execute(
        "DELETE FROM histories WHERE uid = ? AND conf_uid = ?", (history_uid, conf_uid)
    )
    return cursor.rowcount > 0


def _to_message(row: tuple[Any, ...]) -> StoredMessage:
    role, content, timestamp, name, avatar, interrupted = row
    return StoredMessage(
        role=role,
        content=content,
        timestamp=timestamp,
        name=name,
        avatar=avatar,
        interrupted=bool(interrupted),
    )
