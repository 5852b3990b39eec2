"""The safety audit log on its own: one JSON line per record, bounded text, rotation at the
size limit, the last entries again after a restart, unreadable lines skipped, no secrets, and
a write error that is logged once and never raised."""

from __future__ import annotations

import json
import logging
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from kagura.safety.audit import MAX_TEXT_CHARS, RECENT, AuditLog, scrub_urls


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


def test_a_record_is_one_json_line_with_time_kind_rule_and_text(tmp_path: Path) -> None:
    path = tmp_path / "data" / "safety.jsonl"
    audit = AuditLog(path, 64 * 1024)
    audit.record("withheld", text="I love pineapple.", rule="word:pineapple", where="stage")
    audit.record("ban", text="Alice", platform="bilibili", user_id="42", amount=1.5, none=None)
    [first, second] = lines(path)
    assert first["kind"] == "withheld" and first["rule"] == "word:pineapple"
    assert first["text"] == "I love pineapple." and first["where"] == "stage"
    assert first["time"].endswith("+00:00") and "T" in first["time"]  # ISO-8601, UTC
    assert second == {**second, "platform": "bilibili", "user_id": "42", "amount": 1.5}
    assert second["none"] is None
    assert audit.recent(1) == [second] and audit.recent(10) == [first, second]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    audit.close()


def test_text_is_clipped_and_a_detail_cannot_replace_the_fields(tmp_path: Path) -> None:
    audit = AuditLog(tmp_path / "safety.jsonl", 64 * 1024)
    audit.record("dropped", text="x" * 10_000, rule="unsafe", kind_of="nothing")
    [entry] = lines(audit.path)
    assert len(entry["text"]) == MAX_TEXT_CHARS and entry["text"].endswith("…")
    audit.record("dropped", text="hi", **{"time": "forged"})
    assert lines(audit.path)[-1]["time"] != "forged"
    audit.close()


def test_the_file_rotates_at_its_limit_and_stays_bounded(tmp_path: Path) -> None:
    path = tmp_path / "safety.jsonl"
    limit = 4096
    audit = AuditLog(path, limit)
    for n in range(200):
        audit.record("dropped", text=f"line {n} " + "y" * 100, rule="unsafe")
        assert path.stat().st_size <= limit
    older = path.with_name("safety.jsonl.1")
    assert older.exists() and older.stat().st_size <= limit
    assert not path.with_name("safety.jsonl.2").exists()  # one backup, the older dropped
    newest = lines(path)[-1]
    assert newest["text"].startswith("line 199 ")
    # Nothing lost between the two files: the backup ends where the current one begins.
    first_now = int(lines(path)[0]["text"].split()[1])
    last_before = int(lines(older)[-1]["text"].split()[1])
    assert first_now == last_before + 1
    assert len(audit.recent(RECENT)) == 200
    audit.close()


def test_more_backups_shift_along(tmp_path: Path) -> None:
    path = tmp_path / "safety.jsonl"
    audit = AuditLog(path, 2048, backups=3)
    for n in range(200):
        audit.record("dropped", text=f"{n} " + "z" * 200)
    assert all(path.with_name(f"safety.jsonl.{i}").exists() for i in (1, 2, 3))
    assert not path.with_name("safety.jsonl.4").exists()
    audit.close()


def test_the_last_entries_come_back_after_a_restart_and_bad_lines_are_skipped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "safety.jsonl"
    audit = AuditLog(path, 64 * 1024)
    audit.record("ban", text="Alice")
    audit.close()
    with path.open("ab") as file:
        file.write(b'{"not": "an entry"}\n[1, 2]\n{broken json\n{"kind": "cut", "text": "half')
    again = AuditLog(path, 64 * 1024)
    with caplog.at_level(logging.WARNING, "kagura.safety.audit"):
        again.load()
    assert [entry["kind"] for entry in again.recent(10)] == ["ban"]
    assert "skipped 4 unreadable line(s)" in caplog.text
    # The line cut by a crash stays one bad line: the next record starts a line of its own.
    again.record("unban", text="Alice")
    assert json.loads(path.read_text("utf-8").splitlines()[-1])["kind"] == "unban"
    again.close()


def test_the_in_memory_tail_is_bounded(tmp_path: Path) -> None:
    audit = AuditLog(tmp_path / "safety.jsonl", 1024 * 1024)
    for n in range(RECENT + 50):
        audit.record("dropped", text=str(n))
    entries = audit.recent(10_000)
    assert len(entries) == RECENT and entries[-1]["text"] == str(RECENT + 49)
    assert audit.recent(0) == []
    audit.close()


def test_urls_lose_their_credentials_query_and_fragment(tmp_path: Path) -> None:
    assert (
        scrub_urls("guard at https://user:sk-secret@guard.example:8443/v1/check?key=sk-1#x ok")
        == "guard at https://guard.example:8443/v1/check ok"
    )
    audit = AuditLog(tmp_path / "safety.jsonl", 64 * 1024)
    audit.record(
        "withheld",
        text="see http://a.example/?token=abc",
        rule="guard:http://me:pw@127.0.0.1:9/x?api_key=k",
        url="wss://h.example/ws?token=t",
    )
    raw = audit.path.read_text("utf-8")
    for secret in ("abc", "pw", "api_key", "token="):
        assert secret not in raw
    assert "http://127.0.0.1:9/x" in raw
    audit.close()


def test_a_write_error_is_logged_once_and_never_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the folder should be", "utf-8")
    audit = AuditLog(blocked / "safety.jsonl", 64 * 1024)
    with caplog.at_level(logging.ERROR, "kagura.safety.audit"):
        audit.record("withheld", text="one")
        audit.record("withheld", text="two")
    errors = [r for r in caplog.records if "could not write" in r.getMessage()]
    assert len(errors) == 1
    assert [entry["text"] for entry in audit.recent(5)] == ["one", "two"]  # still shown
    audit.close()


def test_a_limit_too_small_for_one_record_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 1024 bytes"):
        AuditLog(tmp_path / "safety.jsonl", 100)


def test_a_file_that_cannot_be_read_at_start_is_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "safety.jsonl"
    folder.mkdir()  # a folder where the file should be
    audit = AuditLog(folder, 64 * 1024)
    with caplog.at_level(logging.WARNING, "kagura.safety.audit"):
        audit.load()
    assert "could not read" in caplog.text
    assert audit.recent(5) == []
    assert os.path.isdir(folder)
