"""Retention and forgetting in the store itself (issue #23): who is evicted first, that a
raid of strangers pushes out nobody with facts or payments, and that forgetting a viewer
takes their name out of shared notes as whole words, never a namesake's."""

from __future__ import annotations

import time
from pathlib import Path

from kagura.memory import MemoryStore, Sighting, ViewerKey


def key(uid: str) -> ViewerKey:
    return ViewerKey("bilibili", uid)


async def open_store(tmp_path: Path) -> MemoryStore:
    store = MemoryStore(tmp_path / "memory.sqlite3")
    await store.open()
    return store


async def names(store: MemoryStore) -> list[str]:
    return sorted(v.name for v in await store.viewers("c", limit=500))


async def test_strangers_go_first_and_facts_or_payments_are_kept(tmp_path: Path) -> None:
    store = await open_store(tmp_path)
    try:
        t = time.time()
        await store.seen(
            "c",
            [
                Sighting(key("fan"), "Fan", t - 50),  # the oldest, with a fact
                Sighting(key("payer"), "Payer", t - 40, 30, "CNY"),  # paid once
                Sighting(key("regular"), "Regular", t - 30),
                Sighting(key("regular"), "Regular", t - 29),  # twice: not a stranger
                Sighting(key("old"), "Old", t - 20),  # strangers, oldest first
                Sighting(key("new"), "New", t - 10),
            ],
        )
        await store.add("c", [("fact", "Fan draws cats.", key("fan"), "")])
        limits = {"max_notes": 10, "max_age_days": 0.0, "protect_since": t - 100}
        pruned = await store.prune("c", max_viewers=4, **limits)
        assert (pruned.viewers, pruned.strangers, pruned.over_cap) == (1, 1, 0)
        assert await names(store) == ["Fan", "New", "Payer", "Regular"]
        pruned = await store.prune("c", max_viewers=2, **limits)
        # The stranger, then the regular (nothing known of them): never the fan or payer.
        assert (pruned.viewers, pruned.strangers) == (2, 2)
        assert await names(store) == ["Fan", "Payer"]
        pruned = await store.prune("c", max_viewers=1, **limits)
        assert (pruned.viewers, pruned.over_cap) == (0, 1)  # kept over the cap, reported
        assert await names(store) == ["Fan", "Payer"]
        # Not seen this stream: then the least recently seen of them may go.
        pruned = await store.prune("c", max_viewers=1, **{**limits, "protect_since": t})
        assert (pruned.viewers, pruned.over_cap) == (1, 0)
        assert await names(store) == ["Payer"]
        assert await store.notes("c") == []  # the fan's fact went with them
    finally:
        await store.close()


async def test_the_hard_ceiling_bounds_protected_viewers(tmp_path: Path) -> None:
    store = await open_store(tmp_path)
    try:
        t = time.time()
        await store.seen("c", [Sighting(key(f"p{n}"), f"P{n}", t + n, 1, "CNY") for n in range(7)])
        pruned = await store.prune(
            "c", max_notes=10, max_viewers=3, max_age_days=0, protect_since=t - 1
        )
        # Twice the cap at most, whatever they paid: the least recently seen go.
        assert (pruned.viewers, pruned.over_cap) == (1, 3)
        assert await names(store) == [f"P{n}" for n in range(1, 7)]
    finally:
        await store.close()


async def test_a_raid_of_100k_strangers_keeps_every_viewer_with_facts(tmp_path: Path) -> None:
    store = await open_store(tmp_path)
    try:
        t = time.time()
        regulars = [Sighting(key(f"fan{n}"), f"Fan{n}", t) for n in range(20)]
        await store.seen("c", regulars)
        await store.add(
            "c", [("fact", f"Fan{n} likes tea.", key(f"fan{n}"), "") for n in range(20)]
        )
        started = time.monotonic()
        for batch in range(100):  # as the writer flushes: a batch, then a prune
            raid = [
                Sighting(key(f"r{batch}-{n}"), f"Raider{n}", t + 1 + batch) for n in range(1_000)
            ]
            await store.seen("c", raid)
            await store.prune(
                "c", max_notes=1_000, max_viewers=500, max_age_days=0, protect_since=t
            )
        took_s = time.monotonic() - started
        counts = await store.count("c")
        assert counts == {"viewers": 500, "notes": 20}
        fans = [v for v in await store.viewers("c", "fan", limit=500)]
        assert len(fans) == 20
        assert took_s < 30, f"100,000 sightings and their prunes took {took_s:.1f} s"
    finally:
        await store.close()


async def test_forgetting_rewrites_names_as_whole_words_only(tmp_path: Path) -> None:
    store = await open_store(tmp_path)
    try:
        t = time.time()
        await store.seen(
            "c",
            [
                Sighting(key("1"), "Alice", t),
                Sighting(key("2"), "Ali", t),
                Sighting(key("3"), "Ali", t),  # a namesake: another uid
                Sighting(key("4"), "Bea", t),
                Sighting(key("5"), "小林", t),
            ],
        )
        notes = [
            ("fact", "Alice has a cat named Tom.", key("1"), ""),
            ("summary", "We talked about Italian cooking with Alice.", None, ""),
            ("summary", "Bea and Alice sang; bea's song won.", None, "Bea on bilibili says: «hi»"),
            ("summary", "小林说他的猫叫麻糬。", None, ""),
            ("summary", "Ali won the quiz.", None, ""),
        ]
        await store.add("c", notes)
        await store.forget("c", key("4"))
        await store.forget("c", key("5"))
        await store.forget("c", key("2"))  # "Ali" is still the name of viewer 3: left as is
        texts = sorted(n.text for n in await store.notes("c"))
        assert texts == [
            "Ali won the quiz.",
            "Alice has a cat named Tom.",
            "We talked about Italian cooking with Alice.",
            "a viewer and Alice sang; a viewer's song won.",
            "某位观众说他的猫叫麻糬。",
        ]
        sources = {n.source for n in await store.notes("c")}
        assert "a viewer on bilibili says: «hi»" in sources
        assert await names(store) == ["Ali", "Alice"]
    finally:
        await store.close()
