"""Recall by meaning: the embedding index, the store and the indexer with the real local
model (Universal Sentence Encoder multilingual), and the OpenAI-compatible provider against
the fake server's `/v1/embeddings`."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import numpy as np
import pytest

from kagura.config import EmbeddingsConfig
from kagura.engines import embed
from kagura.engines.embed import EmbeddingEngine
from kagura.engines.errors import EngineError
from kagura.memory import Indexer, Meaning, MemoryStore, Recall, Sighting, ViewerKey
from kagura.memory.vectors import POOL, VectorIndex, pack
from kagura.testing.fake_openai import FakeOpenAI
from tests.support.wait import until

from .memory_helpers import ALICE_LATER, MOCHI, MOCHI_ZH

ALICE = ViewerKey("bilibili", "1")
BOB = ViewerKey("bilibili", "2")
BOB_CAT = "Bob's kitten is named Tom and loves boxes."
LEAST = EmbeddingsConfig().min_similarity


async def no_turns() -> None:
    """The indexer's `idle`: no turn is ever running here."""


def unit(vector: np.ndarray) -> np.ndarray:
    return (vector / np.linalg.norm(vector)).astype(np.float32)


# -- the index ----------------------------------------------------------------------------


def test_the_index_finds_the_nearest_note() -> None:
    rng = np.random.default_rng(3)
    vectors = [unit(rng.standard_normal(128)) for _ in range(5 * POOL)]
    index = VectorIndex(128)
    for n, vector in enumerate(vectors):
        index.add(n + 1, "c", None, pack(vector))
    matrix = np.stack(vectors)
    for n in range(20):
        query = unit(vectors[n * 37] + 0.05 * rng.standard_normal(128).astype(np.float32))
        exact = matrix @ query
        found = index.search(query, "c", 5)
        assert found[0][0] == n * 37 + 1
        # 8-bit values: each similarity is the exact one to within a hundredth, best first.
        assert all(abs(s - exact[note_id - 1]) < 0.01 for note_id, s in found)
        assert [s for _, s in found] == sorted((s for _, s in found), reverse=True)


def test_the_index_keeps_scopes_owners_and_removals_apart() -> None:
    rng = np.random.default_rng(4)
    index = VectorIndex(32)
    vector = unit(rng.standard_normal(32))
    index.add(1, "c", None, pack(vector))
    index.add(2, "c", 7, pack(vector))  # a viewer's fact: only by id, never by search
    index.add(3, "other", None, pack(vector))
    assert [note_id for note_id, _ in index.search(vector, "c", 5)] == [1]
    assert set(index.similarity(vector, [2, 99])) == {2}
    index.remove([1])
    assert index.search(vector, "c", 5) == [] and 1 not in index
    # Many removals compact the arrays; what stays is still found.
    for n in range(10, 3000):
        index.add(n, "c", None, pack(unit(rng.standard_normal(32))))
    index.remove([2, *range(10, 2999)])
    assert len(index) == 2 and index.search(vector, "other", 1)[0][0] == 3
    assert index.nbytes < 100_000  # compacted (3,000 rows held ~200 kB): the removed went


# -- the store and the indexer with the real local model ----------------------------------


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[MemoryStore]:
    store = MemoryStore(tmp_path / "memory.sqlite3")
    await store.open()
    now = time.time()
    await store.seen("c", [Sighting(ALICE, "Alice", now), Sighting(BOB, "Bob", now)])
    await store.add("c", [("fact", MOCHI, ALICE, ""), ("fact", MOCHI_ZH, ALICE, "")])
    await store.add("c", [("fact", text, ALICE, "") for text in ALICE_LATER])
    await store.add("c", [("fact", BOB_CAT, BOB, ""), ("summary", "We baked bread.", None, "")])
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture(scope="module")
def local() -> Iterator[EmbeddingEngine]:
    """One model for the module (it loads in the first test that embeds)."""
    engine = embed.create(EmbeddingsConfig(provider="local"))
    assert engine is not None
    yield engine
    asyncio.run(engine.aclose())


async def indexed(store: MemoryStore, engine: EmbeddingEngine) -> Indexer:
    indexer = Indexer(store, engine, no_turns)
    store.on_change.append(indexer.wake)
    indexer.start()
    await until(lambda: indexer.ready and not _unembedded(store), 30, "vectors")
    return indexer


def _unembedded(store: MemoryStore) -> bool:
    conn = sqlite3.connect(store.db_path)
    try:
        return bool(
            conn.execute(
                "SELECT 1 FROM notes WHERE id NOT IN (SELECT note_id FROM vectors)"
            ).fetchone()
        )
    finally:
        conn.close()


async def recall(store: MemoryStore, indexer: Indexer, text: str) -> Recall:
    vector = await indexer.meaning_of(text, 5)
    assert vector is not None
    return await store.recall("c", [ALICE], text, 6, Meaning(vector, LEAST))


async def by_meaning(indexer: Indexer, text: str) -> list[str]:
    """What meaning alone recalls for Alice (no words to search on)."""
    store = indexer._store
    vector = await indexer.meaning_of(text, 5)
    assert vector is not None
    found = await store.recall("c", [ALICE], "", 6, Meaning(vector, LEAST))
    return [n.text for n in found.notes]


async def test_how_is_my_kitty_recalls_the_cat_in_english_and_chinese(
    store: MemoryStore, local: EmbeddingEngine
) -> None:
    indexer = await indexed(store, local)
    try:
        for question in ("how is my kitty?", "我的猫咪怎么样？"):
            by_words = await store.recall("c", [ALICE], question, 6)
            assert MOCHI not in [n.text for n in by_words.notes]  # no shared word
            found = [n.text for n in (await recall(store, indexer, question)).notes]
            assert MOCHI in found and MOCHI_ZH in found, (question, found)
            # Bob's cat is as close in meaning, and never in Alice's turn.
            assert BOB_CAT not in found
            assert found.index(MOCHI) < len(found)
        unrelated = await recall(store, indexer, "what a nice sunny morning")
        assert MOCHI not in [n.text for n in unrelated.notes]
    finally:
        await indexer.close()


async def test_the_index_is_rebuilt_from_the_database_and_follows_edits(
    store: MemoryStore, local: EmbeddingEngine
) -> None:
    indexer = await indexed(store, local)
    await indexer.close()
    # The next start: the vectors are read back, none made again.
    indexer = Indexer(store, local, no_turns)
    store.on_change.append(indexer.wake)
    indexer.start()
    await until(lambda: indexer.ready, 30, "the index loaded")
    assert store.index_stats()["vectors"] == 2 + len(ALICE_LATER) + 2 and indexer.made == 0
    try:
        [cat] = [n for n in await store.notes("c") if n.text == MOCHI]
        # Edited: the old text's vector goes at once, the new one is made (the cat's was
        # not close enough to a hamster question).
        assert await store.edit_note("c", cat.id, "Alice's hamster is called Mochi.")
        await until(lambda: indexer.made == 1, 30, "the edited note's vector")
        assert "Alice's hamster is called Mochi." in await by_meaning(indexer, "is my hamster ok?")
        # Forgotten: nothing of Alice is found by meaning any more.
        await store.forget("c", ALICE)
        assert store.index_stats()["vectors"] == 2
        found = await recall(store, indexer, "how is my kitty?")
        assert found.profiles == () and MOCHI_ZH not in [n.text for n in found.notes]
    finally:
        await indexer.close()


async def test_without_vectors_recall_is_by_words(store: MemoryStore) -> None:
    """No index yet (provider none, or still loading): the same call recalls by words."""
    meaning = Meaning(unit(np.ones(512, dtype=np.float32)), LEAST)
    found = await store.recall("c", [ALICE], "any bread today?", 6, meaning)
    assert [n.text for n in found.notes] == ["We baked bread."]


# -- the OpenAI-compatible provider ------------------------------------------------------


def openai_engine(base_url: str, **settings: object) -> EmbeddingEngine:
    config = EmbeddingsConfig.model_validate(
        {"provider": "openai", "openai": {"base_url": base_url, "model": "bge-m3", **settings}}
    )
    engine = embed.create(config)
    assert engine is not None
    return engine


async def test_the_openai_provider_asks_the_server_and_degrades_when_it_fails(
    store: MemoryStore, caplog: pytest.LogCaptureFixture
) -> None:
    with FakeOpenAI() as fake:
        engine = openai_engine(fake.base_url, api_key="embed-secret")
        indexer = await indexed(store, engine)
        try:
            [request, *_] = fake.embeddings_requests()
            assert request["model"] == "bge-m3" and isinstance(request["input"], list)
            assert all(r.authorization == "Bearer embed-secret" for r in fake.requests)
            found = await recall(store, indexer, "Tom loves boxes")  # shares Bob's words
            assert BOB_CAT not in [n.text for n in found.notes]  # but is Bob's, not Alice's
            # The server fails: one warning, then recall by words without asking it again.
            fake.embeddings_script.failure = "status_500"
            caplog.set_level(logging.INFO)
            asked = len(fake.embeddings_requests())
            for _ in range(3):
                assert await indexer.meaning_of("any bread today?", 5) is None
            assert len(fake.embeddings_requests()) == asked + 1
            warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
            assert len(warnings) == 1 and fake.base_url in warnings[0], warnings
            assert "embed-secret" not in caplog.text
            assert indexer.status.startswith("failing")
        finally:
            await indexer.close()
            await engine.aclose()


async def test_garbage_from_the_server_is_an_error_never_a_vector() -> None:
    with FakeOpenAI() as fake:
        fake.embeddings_script.failure = "garbage"
        engine = openai_engine(fake.base_url)
        with pytest.raises(EngineError, match="unexpected answer"):
            await engine.embed(["hello"])
        await engine.aclose()


async def test_an_unreachable_server_names_the_url_and_the_setting() -> None:
    engine = openai_engine("http://127.0.0.1:9/v1")
    with pytest.raises(EngineError) as failure:
        await asyncio.wait_for(engine.embed(["hello"]), 10)
    assert "127.0.0.1:9" in str(failure.value)
    assert "memory.embeddings.openai.base_url" in str(failure.value)
    await engine.aclose()
