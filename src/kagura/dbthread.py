"""One SQLite connection owned by one worker thread, called from the event loop.

sqlite3 calls block, so none of them run on the event loop: every call goes to a single
dedicated thread that owns the only connection, which also serialises reads and writes
without any locking. Lifecycle is explicit, like an HTTP client: construct (no I/O),
``await open()``, use, ``await close()``; a closed database cannot be reopened.
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

__all__ = ["DatabaseStore", "DatabaseThread", "connect_wal"]

BUSY_TIMEOUT_MS = 5_000

_P = ParamSpec("_P")
_T = TypeVar("_T")


def connect_wal(db_path: Path) -> sqlite3.Connection:
    """An autocommit connection in WAL mode, `synchronous=NORMAL`, foreign keys on.

    A committed transaction survives the process dying at any point; only an OS crash or a
    power cut may roll back the last few commits."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(db_path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise RuntimeError(f"could not enable WAL mode on {db_path} (got {mode!r})")
        conn.execute("PRAGMA synchronous = NORMAL")
        # Per-connection and off by default; needed for ON DELETE CASCADE.
        conn.execute("PRAGMA foreign_keys = ON")
    except BaseException:
        conn.close()
        raise
    return conn


class DatabaseThread:
    """Runs functions of the connection on the worker thread; see the module docstring."""

    def __init__(
        self, db_path: Path, connect: Callable[[Path], sqlite3.Connection], name: str
    ) -> None:
        self.db_path = Path(db_path)
        self._connect = connect
        self._name = name
        self._executor: ThreadPoolExecutor | None = None
        # Created, used and closed only on the worker thread.
        self._conn: sqlite3.Connection | None = None
        self._closed = False

    async def open(self) -> None:
        if self._closed:
            raise RuntimeError(f"{self._name} is closed; create a new one")
        if self._executor is not None:
            return
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"kagura-{self._name}")
        try:
            conn = await asyncio.get_running_loop().run_in_executor(
                executor, self._connect, self.db_path
            )
        except BaseException:
            executor.shutdown(wait=False)
            raise
        self._executor, self._conn = executor, conn

    async def close(self) -> None:
        """Close the connection once the calls already submitted are done; idempotent."""
        if self._closed:
            return
        self._closed = True
        executor, conn = self._executor, self._conn
        self._executor = self._conn = None
        if executor is None or conn is None:
            return
        await asyncio.get_running_loop().run_in_executor(executor, conn.close)
        executor.shutdown(wait=True)

    async def run(
        self,
        fn: Callable[Concatenate[sqlite3.Connection, _P], _T],
        *args: _P.args,
        **kwargs: _P.kwargs,
    ) -> _T:
        if self._closed:
            raise RuntimeError(f"{self._name} is closed")
        if self._executor is None or self._conn is None:
            raise RuntimeError(f"{self._name} is not open; await open() first")
        call = functools.partial(fn, self._conn, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._executor, call)


class DatabaseStore:
    """The base of a store on its own `DatabaseThread`: its path and its lifecycle.
    Subclasses add the calls, each `await self._db.run(fn, ...)`."""

    def __init__(
        self, db_path: Path, connect: Callable[[Path], sqlite3.Connection], name: str
    ) -> None:
        self._db = DatabaseThread(db_path, connect, name)

    @property
    def db_path(self) -> Path:
        return self._db.db_path

    async def open(self) -> None:
        """Create the database (and its directory) if needed and apply the schema: what
        `connect` does, on the worker thread."""
        await self._db.open()

    async def close(self) -> None:
        """Close the connection once the calls already submitted are done; idempotent."""
        await self._db.close()
