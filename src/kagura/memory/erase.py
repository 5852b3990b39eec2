"""Forgetting one viewer, by identity; runs on the worker thread inside a transaction.

What is theirs goes: their profile and the facts about them (`notes.viewer_id`). What merely
mentions them stays, without their name: a stream summary is everyone's, so deleting it
because one viewer asked would erase the others in it. Names are matched as whole words
("Ali" is not in "Alice" or "Italian"); a name another remembered viewer also uses is left
alone, since display names are not unique and anyone can take one: a `!forget me` from a
namesake must not scrub somebody else out of the stream's memory.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable

from .search import CJK_RUN

PLACEHOLDER = "a viewer"
PLACEHOLDER_ZH = "某位观众"
MIN_NAME_CHARS = 2  # a one-letter name would rewrite every "a" and "I"


def delete_viewer(conn: sqlite3.Connection, scope: str, viewer_id: int, names: list[str]) -> int:
    """Delete the viewer's profile and facts, and take their names out of the notes about
    nobody in particular; returns the rows deleted or rewritten."""
    removed = conn.execute("DELETE FROM notes WHERE viewer_id = ?", (viewer_id,)).rowcount
    removed += conn.execute("DELETE FROM viewers WHERE id = ?", (viewer_id,)).rowcount
    own = [name for name in dict.fromkeys(names) if len(name) >= MIN_NAME_CHARS]
    others = _names_in_use(conn, scope, own)
    return removed + scrub(conn, scope, [name for name in own if name.casefold() not in others])


def _names_in_use(conn: sqlite3.Connection, scope: str, names: list[str]) -> set[str]:
    """Which of `names` (casefolded) a remaining viewer of `scope` goes or went by."""
    used: set[str] = set()
    for name in names:
        pattern = f"%{json.dumps(name)[1:-1].casefold()}%"
        for (names_json,) in conn.execute(
            "SELECT names FROM viewers WHERE scope = ? AND lower(names) LIKE ?", (scope, pattern)
        ):
            if any(n.casefold() == name.casefold() for n in json.loads(names_json)):
                used.add(name.casefold())
    return used


def scrub(conn: sqlite3.Connection, scope: str, names: Iterable[str]) -> int:
    """Replace `names` (whole words) in the notes about nobody in particular, text and
    source, with a placeholder; returns how many notes changed."""
    changed = 0
    for name in names:
        pattern = _pattern(name)
        rows = conn.execute(
            "SELECT id, text, source FROM notes WHERE scope = ? AND viewer_id IS NULL"
            " AND (instr(lower(text), lower(?)) > 0 OR instr(lower(source), lower(?)) > 0)",
            (scope, name, name),
        ).fetchall()
        for note_id, text, source in rows:
            new_text, new_source = _replace(pattern, text), _replace(pattern, source)
            if (new_text, new_source) != (text, source):
                conn.execute(
                    "UPDATE notes SET text = ?, source = ? WHERE id = ?",
                    (new_text, new_source, note_id),
                )
                changed += 1
    return changed


def _pattern(name: str) -> re.Pattern[str]:
    """`name` as a whole word. A Chinese or Japanese name has no spaces around it, so there
    it is matched wherever it stands (a two-character name inside a longer word is rare)."""
    escaped = re.escape(name)
    if CJK_RUN.search(name):
        return re.compile(escaped, re.IGNORECASE)
    return re.compile(rf"(?<!\w){escaped}(?!\w)", re.IGNORECASE)


def _replace(pattern: re.Pattern[str], text: str) -> str:
    zh = bool(CJK_RUN.search(text))
    return pattern.sub(PLACEHOLDER_ZH if zh else PLACEHOLDER, text)
