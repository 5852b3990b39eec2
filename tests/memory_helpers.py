"""A scripted LLM that answers memory requests with extraction JSON, and database reads."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from tests.support.server import KaguraProcess

REPLY = "Nice to hear from you, friend."
# Extraction answers by a word of the exchange: the viewer's number, the fact.
FACTS: dict[str, tuple[int | None, str]] = {
    "Mochi": (1, "Alice's cat is called Mochi."),
    "Rex": (1, "Bob's dog is called Rex."),
    "麻糬": (1, "小林的猫叫麻糬。"),
    "北海道": (None, "主播下周要去北海道旅行。"),
    "piano": (1, "This viewer plays the piano."),
}
MALFORMED = "broken-json-please"
# Recall by meaning: the cat, then newer facts of Alice's. The profile shows a viewer's five
# newest facts, so the cat is found only by search, and no word of "how is my kitty?" is in it.
MOCHI = "Alice's cat is called Mochi."
MOCHI_ZH = "爱丽丝的猫叫麻薯"
ALICE_LATER = [
    "Alice works at a bakery on weekends.",
    "Alice is learning to drive.",
    "Alice supports a football team from Lisbon.",
    "Alice watched every season of a detective show.",
    "Alice moved to a flat near the river.",
    "Alice's favourite colour is green.",
]
SUMMARY = "The stream talked about the volcano trip and its lava tubes."


def is_memory_request(body: dict[str, Any]) -> bool:
    return "long-term memory" in str(body["messages"][0]["content"])


def brain(body: dict[str, Any]) -> str:
    """Replies to chat; facts or a summary as JSON to memory requests."""
    if not is_memory_request(body):
        return REPLY
    system = str(body["messages"][0]["content"])
    said = str(body["messages"][-1]["content"])
    if '"summary"' in system:
        return json.dumps({"summary": SUMMARY})
    if MALFORMED in said:
        return "Sure! The facts are: the viewer likes {broken json"
    facts = [{"viewer": who, "text": text} for word, (who, text) in FACTS.items() if word in said]
    return f"```json\n{json.dumps({'facts': facts}, ensure_ascii=False)}\n```"


def reply_prompts(chat_requests: list[dict[str, Any]]) -> list[str]:
    """The new user message of each reply request (memory requests left out)."""
    return [
        str(body["messages"][-1]["content"])
        for body in chat_requests
        if not is_memory_request(body)
    ]


def memory_rows(server: KaguraProcess, query: str, *args: Any) -> list[tuple[Any, ...]]:
    """Rows of the server's memory database, read by another connection as a tool would."""
    path = Path(server.config["system"]["data_dir"]) / "memory.sqlite3"
    if not path.exists():
        return []
    conn = sqlite3.connect(path, timeout=5)
    try:
        return conn.execute(query, args).fetchall()
    finally:
        conn.close()


def facts_of(server: KaguraProcess, uid: str) -> list[str]:
    rows = memory_rows(
        server,
        "SELECT n.text FROM notes AS n JOIN viewers AS v ON v.id = n.viewer_id WHERE v.uid = ?",
        uid,
    )
    return [row[0] for row in rows]


def viewer_uids(server: KaguraProcess) -> list[str]:
    return [row[0] for row in memory_rows(server, "SELECT uid FROM viewers ORDER BY id")]
