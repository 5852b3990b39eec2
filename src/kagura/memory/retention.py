"""Retention: what goes when memory is at its limits (`memory.max_viewers`, `max_facts`,
`max_age_days`); runs on the worker thread.

A viewer is worth what memory holds of them. A raid of a hundred thousand one-message
strangers must not push out the regulars: strangers go first, and a viewer with facts or
payments is never evicted for a newcomer within one stream.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from .sql import transaction

# Viewers with facts or payments seen this stream are never evicted for a newcomer; if they
# alone outgrow `max_viewers`, the store holds up to this many times it before any goes.
HARD_CAP_FACTOR = 2


@dataclass
class Pruned:
    """What a prune removed: rows of each table; `strangers`: the viewers among them with
    no facts and no payments; `over_cap`: viewers over the cap kept for their facts or
    payments."""

    notes: int = 0
    viewers: int = 0
    strangers: int = 0
    over_cap: int = 0

    @property
    def removed(self) -> int:
        return self.notes + self.viewers


def prune(
    conn: sqlite3.Connection,
    scope: str,
    max_notes: int,
    max_viewers: int,
    before: float | None,
    protect_since: float | None = None,
) -> Pruned:
    """Apply the retention limits. Every statement walks an index from its oldest end, so a
    prune with nothing to do costs two counts."""
    pruned = Pruned()
    with transaction(conn):
        if before is not None:
            pruned.notes += conn.execute(
                "DELETE FROM notes WHERE scope = ? AND created < ?", (scope, before)
            ).rowcount
            pruned.viewers += conn.execute(
                "DELETE FROM viewers WHERE scope = ? AND last_seen < ?", (scope, before)
            ).rowcount
        _evict_viewers(conn, scope, max_viewers, protect_since, pruned)
        total = conn.execute("SELECT count(*) FROM notes WHERE scope = ?", (scope,))
        excess = int(total.fetchone()[0]) - max_notes
        if excess > 0:
            pruned.notes += conn.execute(
                "DELETE FROM notes WHERE id IN (SELECT id FROM notes"
                " WHERE scope = ? ORDER BY created LIMIT ?)",
                (scope, excess),
            ).rowcount
    return pruned


def _evict_viewers(
    conn: sqlite3.Connection,
    scope: str,
    limit: int,
    protect_since: float | None,
    pruned: Pruned,
) -> None:
    """Make room under `limit`, cheapest memories first: strangers (no facts, nothing paid,
    seen once), then other viewers with no facts and nothing paid, least recently seen
    first. A viewer with facts or payments goes only if not seen since `protect_since`
    (this stream's start): a raid of strangers never pushes out a regular. What cannot be
    evicted so stays, up to `HARD_CAP_FACTOR` times the limit, and is reported."""
    total = conn.execute("SELECT count(*) FROM viewers WHERE scope = ?", (scope,))
    excess = int(total.fetchone()[0]) - limit
    if excess <= 0:
        return
    plain = "paid = '{}' AND NOT EXISTS (SELECT 1 FROM notes WHERE notes.viewer_id = viewers.id)"
    pruned.strangers = conn.execute(
        f"DELETE FROM viewers WHERE id IN (SELECT id FROM viewers WHERE scope = ?"
        f" AND {plain} ORDER BY messages > 1, last_seen LIMIT ?)",
        (scope, excess),
    ).rowcount
    pruned.viewers += pruned.strangers
    excess -= pruned.strangers
    if excess <= 0:
        return
    since = -1.0 if protect_since is None else protect_since
    hard = max(0, excess - (HARD_CAP_FACTOR - 1) * limit)
    protected = pruned.viewers
    pruned.viewers += conn.execute(
        "DELETE FROM viewers WHERE id IN (SELECT id FROM viewers WHERE scope = ?"
        " AND last_seen < ? ORDER BY last_seen LIMIT ?)",
        (scope, since, excess),
    ).rowcount
    excess -= pruned.viewers - protected
    if hard > 0 and excess > 0:  # the ceiling: the oldest go, whatever they hold
        gone = conn.execute(
            "DELETE FROM viewers WHERE id IN (SELECT id FROM viewers WHERE scope = ?"
            " ORDER BY last_seen LIMIT ?)",
            (scope, min(hard, excess)),
        ).rowcount
        pruned.viewers += gone
        excess -= gone
    pruned.over_cap = max(0, excess)
