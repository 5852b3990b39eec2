"""What a turn remembers: its speakers' profiles, then notes found by words and by meaning.

Two rankings meet here. By words: the speakers' other facts and the full-text matches among
notes about nobody in particular, scored by the search terms they contain. By meaning: the
same two pools compared with the message's embedding, kept when similar enough. The two are
fused by reciprocal rank (a note high in either list ranks high; one in both, higher), which
needs no common scale between a term count and a cosine.

One viewer's facts never reach another's turn: the pools are the speakers' own facts and the
notes about nobody in particular, and every note found by meaning is read back from the
database with that condition, whatever the index says.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from .records import Note, Recall, ViewerKey
from .search import score, terms
from .sql import NOTE_COLUMNS, PROFILE_FACTS, note, profile
from .vectors import Vector, VectorIndex

VIEWER_CANDIDATES = 50  # a speaker's further facts ranked by words
VIEWER_VECTOR_CANDIDATES = 500  # … and by meaning (a dot product each: cheap)
# Notes about nobody in particular that match the message, newest first, ranked here: an
# FTS5 bm25 ranking over every match would take tens of milliseconds on a common word.
SEARCH_CANDIDATES = 100
MEANING_CANDIDATES = 30  # notes about nobody in particular taken from the index
RRF_K = 60  # the usual constant of reciprocal rank fusion: damps the top ranks' lead
# Notes about nobody in particular must be this much closer than a speaker's own facts: a
# channel gathers thousands, and a low bar lets a few unrelated ones into every turn.
SHARED_NOTE_MARGIN = 0.15


@dataclass(frozen=True)
class Meaning:
    """The message's embedding and how close a note must be to count."""

    vector: Vector
    min_similarity: float


def recall(
    conn: sqlite3.Connection,
    scope: str,
    keys: Sequence[ViewerKey],
    text: str,
    limit: int,
    index: VectorIndex | None = None,
    meaning: Meaning | None = None,
) -> Recall:
    """The profiles of `keys` with their newest facts, and the `limit` notes that best match
    `text` among the speakers' other facts and the notes about nobody in particular."""
    profiles = [p for p in (profile(conn, scope, key) for key in keys) if p is not None]
    if limit <= 0:
        return Recall(tuple(profiles))
    shown = {fact.id for p in profiles for fact in p.facts}
    owners = [p.id for p in profiles]
    by_words = _by_words(conn, scope, owners, text)
    by_meaning: list[int] = []
    if index is not None and meaning is not None:
        by_meaning = _by_meaning(conn, scope, owners, index, meaning)
    notes = {n.id: n for n in by_words}
    missing = [note_id for note_id in by_meaning if note_id not in notes]
    notes.update((n.id, n) for n in _read(conn, scope, owners, missing))
    ranked = _fuse([n.id for n in by_words], [i for i in by_meaning if i in notes])
    chosen = [notes[note_id] for note_id in ranked if note_id not in shown]
    return Recall(tuple(profiles), tuple(chosen[:limit]))


def _by_words(conn: sqlite3.Connection, scope: str, owners: list[int], text: str) -> list[Note]:
    """Notes containing the message's search terms, best first."""
    words = terms(text)
    if not words:
        return []
    candidates = [
        note(row)
        for owner in owners
        for row in conn.execute(
            f"SELECT {NOTE_COLUMNS} FROM notes WHERE viewer_id = ? ORDER BY id DESC LIMIT ? "
            "OFFSET ?",
            (owner, VIEWER_CANDIDATES, PROFILE_FACTS),
        )
    ]
    query = " OR ".join('"' + word.replace('"', '""') + '"' for word in words)
    candidates += map(
        note,
        conn.execute(
            "SELECT n.id, n.kind, n.text, n.created, n.viewer_id, n.source"
            " FROM notes_fts JOIN notes AS n ON n.id = notes_fts.rowid"
            " WHERE notes_fts MATCH ? AND n.scope = ? ORDER BY notes_fts.rowid DESC LIMIT ?",
            (query, scope, SEARCH_CANDIDATES),
        ),
    )
    scored = [(score(n.text, words), n) for n in candidates]
    scored = [(points, n) for points, n in scored if points > 0]
    scored.sort(key=lambda pair: (pair[0], pair[1].id), reverse=True)
    return [n for _, n in scored]


def _by_meaning(
    conn: sqlite3.Connection,
    scope: str,
    owners: list[int],
    index: VectorIndex,
    meaning: Meaning,
) -> list[int]:
    """Ids of the notes whose meaning is close to the message's, closest first."""
    own = [
        int(note_id)
        for owner in owners
        for (note_id,) in conn.execute(
            "SELECT id FROM notes WHERE viewer_id = ? ORDER BY id DESC LIMIT ?",
            (owner, VIEWER_VECTOR_CANDIDATES),
        )
    ]
    least = meaning.min_similarity
    close = [(s, i) for i, s in index.similarity(meaning.vector, own).items() if s >= least]
    shared = index.search(meaning.vector, scope, MEANING_CANDIDATES)
    close += [(s, i) for i, s in shared if s >= least + SHARED_NOTE_MARGIN]
    close.sort(reverse=True)
    return [note_id for _, note_id in close]


def _read(
    conn: sqlite3.Connection, scope: str, owners: list[int], note_ids: list[int]
) -> list[Note]:
    """The notes named that this turn may see: in `scope`, about a speaker or nobody. Read
    by primary key and checked here: with the conditions in SQL the planner may walk the
    whole scope's index instead (measured: 12 ms at 100,000 notes)."""
    if not note_ids:
        return []
    allowed = {None, *owners}
    rows = conn.execute(
        f"SELECT scope, {NOTE_COLUMNS} FROM notes WHERE id IN ({','.join('?' * len(note_ids))})",
        note_ids,
    )
    return [note(row[1:]) for row in rows if row[0] == scope and row[5] in allowed]


def _fuse(*rankings: list[int]) -> list[int]:
    """Reciprocal rank fusion of best-first lists of ids; ties go to the newer note."""
    points: dict[int, float] = {}
    for ranking in rankings:
        for rank, note_id in enumerate(ranking):
            points[note_id] = points.get(note_id, 0.0) + 1.0 / (RRF_K + rank + 1)
    return sorted(points, key=lambda note_id: (points[note_id], note_id), reverse=True)
