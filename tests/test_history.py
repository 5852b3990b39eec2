"""Tests for the SQLite conversation history store."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
import textwrap
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest

from kagura.history import (
    SCHEMA_VERSION,
    HistoryStore,
    HistorySummary,
    StoredMessage,
)

SRC_DIR = Path(__file__).resolve().parents[1] / "src"


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "history.sqlite3"


@pytest.fixture
async def store(db_path: Path) -> AsyncIterator[HistoryStore]:
    store = HistoryStore(db_path)
    await store.open()
    try:
        yield store
    finally:
        await store.close()


@contextmanager
def _raw(db_path: Path) -> Iterator[sqlite3.Connection]:
    """A second, plain connection, to look at what is really on disk."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        yield conn
    finally:
        conn.close()


# --- opening -------------------------------------------------------------------


async def test_init_does_no_io_and_open_creates_parent_dir(db_path: Path) -> None:
    store = HistoryStore(db_path)
    assert not db_path.parent.exists()
    await store.open()
    try:
        assert db_path.is_file()
    finally:
        await store.close()


async def test_database_is_wal_with_schema_version(store: HistoryStore, db_path: Path) -> None:
    with _raw(db_path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        indexes = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert {"histories", "messages", "messages_by_history", "histories_by_conf"} <= indexes


async def test_open_refuses_a_newer_schema(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    with _raw(db_path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    store = HistoryStore(db_path)
    with pytest.raises(RuntimeError, match="newer"):
        await store.open()
    await store.close()


# --- lifecycle -----------------------------------------------------------------


async def test_calls_before_open_raise(db_path: Path) -> None:
    store = HistoryStore(db_path)
    with pytest.raises(RuntimeError, match="not open"):
        await store.create("conf")


async def test_close_twice_is_harmless_and_calls_after_close_raise(db_path: Path) -> None:
    store = HistoryStore(db_path)
    await store.open()
    uid = await store.create("conf")
    await store.close()
    await store.close()
    with pytest.raises(RuntimeError, match="closed"):
        await store.append(uid, "human", "hello?")
    with pytest.raises(RuntimeError, match="closed"):
        await store.list("conf")
    with pytest.raises(RuntimeError, match="closed"):
        await store.open()


async def test_calls_queued_before_close_still_complete(db_path: Path) -> None:
    store = HistoryStore(db_path)
    await store.open()
    uid = await store.create("conf")
    appends = [asyncio.ensure_future(store.append(uid, "human", f"m{i}")) for i in range(20)]
    await asyncio.sleep(0)  # let every append reach the worker queue
    await store.close()
    await asyncio.gather(*appends)

    reopened = HistoryStore(db_path)
    await reopened.open()
    try:
        assert len(await reopened.messages(uid, 100)) == 20
    finally:
        await reopened.close()


# --- writing and reading -------------------------------------------------------


async def test_append_returns_the_stored_message(store: HistoryStore) -> None:
    uid = await store.create("conf")
    sent = await store.append(uid, "ai", "hi there", name="Mao", avatar="mao.png")
    assert sent.role == "ai"
    assert sent.content == "hi there"
    assert (sent.name, sent.avatar, sent.interrupted) == ("Mao", "mao.png", False)

    parsed = datetime.fromisoformat(sent.timestamp)
    assert parsed.tzinfo is None
    assert sent.timestamp == parsed.isoformat(timespec="seconds")
    assert abs((datetime.now() - parsed).total_seconds()) < 60

    assert await store.messages(uid, 10) == [sent]


async def test_append_to_unknown_history_raises_key_error(store: HistoryStore) -> None:
    with pytest.raises(KeyError):
        await store.append("no-such-history", "human", "hello")


async def test_append_rejects_unknown_role(store: HistoryStore) -> None:
    uid = await store.create("conf")
    with pytest.raises(ValueError, match="role"):
        await store.append(uid, "system", "hello")  # type: ignore[arg-type]
    assert await store.messages(uid, 10) == []


async def test_concurrent_appends_are_all_kept_in_order(store: HistoryStore) -> None:
    uid = await store.create("conf")
    await asyncio.gather(*(store.append(uid, "human", f"m{i}") for i in range(50)))
    contents = [m.content for m in await store.messages(uid, 100)]
    assert contents == [f"m{i}" for i in range(50)]


async def test_messages_returns_the_last_limit_oldest_first(store: HistoryStore) -> None:
    uid = await store.create("conf")
    for i in range(10):
        await store.append(uid, "human" if i % 2 == 0 else "ai", f"m{i}")

    assert [m.content for m in await store.messages(uid, 3)] == ["m7", "m8", "m9"]
    assert [m.content for m in await store.messages(uid, 100)] == [f"m{i}" for i in range(10)]
    assert await store.messages(uid, 0) == []
    assert await store.messages("no-such-history", 10) == []
    with pytest.raises(ValueError, match="limit"):
        await store.messages(uid, -1)


async def test_interrupted_flag_round_trips(store: HistoryStore, db_path: Path) -> None:
    uid = await store.create("conf")
    await store.append(uid, "human", "tell me a story")
    await store.append(uid, "ai", "Once upon a", interrupted=True)
    await store.append(uid, "ai", "Sorry, go on.")
    await store.close()

    reopened = HistoryStore(db_path)
    await reopened.open()
    try:
        flags = [m.interrupted for m in await reopened.messages(uid, 10)]
        summary = (await reopened.list("conf"))[0]
    finally:
        await reopened.close()
    assert flags == [False, True, False]
    assert summary.latest_message.interrupted is False


async def test_list_is_newest_activity_first(store: HistoryStore) -> None:
    first = await store.create("conf")
    second = await store.create("conf")
    empty = await store.create("conf")

    await store.append(first, "human", "first: hello")
    await store.append(second, "human", "second: hello")
    latest = await store.append(first, "ai", "first: hi again")

    summaries = await store.list("conf")
    assert [s.uid for s in summaries] == [first, second]  # `empty` has no messages
    assert summaries[0] == HistorySummary(
        uid=first, latest_message=latest, timestamp=latest.timestamp
    )
    assert summaries[1].latest_message.content == "second: hello"
    assert empty not in {s.uid for s in summaries}

    assert [s.uid for s in await store.list("conf", limit=1)] == [first]
    with pytest.raises(ValueError, match="limit"):
        await store.list("conf", limit=-1)


async def test_list_and_delete_are_per_conf(store: HistoryStore, db_path: Path) -> None:
    mine = await store.create("alice")
    theirs = await store.create("bob")
    await store.append(mine, "human", "alice's")
    await store.append(theirs, "human", "bob's")

    assert [s.uid for s in await store.list("alice")] == [mine]
    assert [s.uid for s in await store.list("bob")] == [theirs]
    assert await store.list("carol") == []
    assert await store.exists("alice", mine)
    assert not await store.exists("bob", mine)

    # Another character cannot delete this history.
    assert await store.delete("bob", mine) is False
    assert [m.content for m in await store.messages(mine, 10)] == ["alice's"]

    assert await store.delete("alice", mine) is True
    assert await store.delete("alice", mine) is False
    assert not await store.exists("alice", mine)
    assert await store.list("alice") == []
    assert await store.messages(mine, 10) == []
    assert [s.uid for s in await store.list("bob")] == [theirs]
    with pytest.raises(KeyError):
        await store.append(mine, "human", "into a deleted history")

    # The messages went with the history rather than being orphaned.
    with _raw(db_path) as conn:
        (orphans,) = conn.execute(
            "SELECT count(*) FROM messages WHERE history_uid = ?", (mine,)
        ).fetchone()
    assert orphans == 0


async def test_history_persists_across_close_and_reopen(db_path: Path) -> None:
    store = HistoryStore(db_path)
    await store.open()
    uid = await store.create("conf")
    sent = [
        await store.append(uid, "human", "hello"),
        await store.append(uid, "ai", "hi!", name="Mao", avatar="mao.png"),
    ]
    await store.close()

    reopened = HistoryStore(db_path)
    await reopened.open()
    try:
        assert await reopened.exists("conf", uid)
        assert await reopened.messages(uid, 10) == sent
        assert [s.uid for s in await reopened.list("conf")] == [uid]
    finally:
        await reopened.close()


# --- wire format ---------------------------------------------------------------


def test_to_wire_includes_name_and_avatar_only_when_set() -> None:
    bare = StoredMessage(role="human", content="hi", timestamp="2025-01-02T03:04:05")
    assert bare.to_wire() == {"role": "human", "timestamp": "2025-01-02T03:04:05", "content": "hi"}

    full = StoredMessage(
        role="ai", content="yo", timestamp="2025-01-02T03:04:06", name="Mao", avatar="m.png"
    )
    assert full.to_wire() == {
        "role": "ai",
        "timestamp": "2025-01-02T03:04:06",
        "content": "yo",
        "name": "Mao",
        "avatar": "m.png",
    }

    summary = HistorySummary(uid="abc", latest_message=full, timestamp=full.timestamp)
    assert summary.to_wire() == {
        "uid": "abc",
        "latest_message": full.to_wire(),
        "timestamp": "2025-01-02T03:04:06",
    }


# --- crash safety --------------------------------------------------------------

# Appends forever, reporting each message only after append() returned, i.e.
# after its commit. The parent kills it with SIGKILL somewhere mid-stream.
_CHILD = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from kagura.history import HistoryStore

    async def main() -> None:
        store = HistoryStore(Path(sys.argv[1]))
        await store.open()
        uid = await store.create("conf")
        print(uid, flush=True)
        i = 0
        while True:
            await store.append(uid, "ai", f"m{i}", interrupted=i % 2 == 1)
            print(i, flush=True)
            i += 1

    asyncio.run(main())
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")
async def test_committed_messages_survive_kill_9(db_path: Path) -> None:
    acknowledged = 50
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC_DIR), env.get("PYTHONPATH")]))
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _CHILD,
        str(db_path),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert child.stdout is not None and child.stderr is not None
    try:
        uid = (await asyncio.wait_for(child.stdout.readline(), 60)).decode().strip()
        for expected in range(acknowledged):
            line = await asyncio.wait_for(child.stdout.readline(), 60)
            if not line:
                stderr = (await child.stderr.read()).decode()
                pytest.fail(f"child exited early:\n{stderr}")
            assert int(line) == expected
    finally:
        if child.returncode is None:
            child.send_signal(signal.SIGKILL)
        await child.wait()
    assert child.returncode == -signal.SIGKILL

    # The child died without closing anything, so the commits are still in the
    # WAL file: reopening has to recover them from there.
    assert db_path.with_name(db_path.name + "-wal").stat().st_size > 0
    store = HistoryStore(db_path)
    await store.open()
    try:
        recovered = await store.messages(uid, 1_000_000)
    finally:
        await store.close()
    assert len(recovered) >= acknowledged
    assert [m.content for m in recovered] == [f"m{i}" for i in range(len(recovered))]
    assert [m.interrupted for m in recovered] == [i % 2 == 1 for i in range(len(recovered))]

    with _raw(db_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
