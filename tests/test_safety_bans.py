"""Bans by platform identity and the safety audit log, on a real server.

The streamer bans a viewer over HTTP with the admin token: that viewer's chat never reaches
the LLM, while a namesake with another id is still answered; the ban survives a restart and
lifting it lets the viewer back in. Everything the guards kept off the stream, and every ban,
is in `data_dir/safety.jsonl`, bounded by its size limit. The ban list's own rules (identity,
bounds, an unreadable file) are checked on the class.
"""

from __future__ import annotations

import json
import logging
import stat
from pathlib import Path
from typing import Any

import httpx
import pytest

from kagura.auth import Role, role_token
from kagura.stage.bans import BanError, BanList, BanListFull
from kagura.stage.events import ChatEvent, Lane
from kagura.testing.fake_openai import FakeOpenAI, LLMScript
from tests.support.client import ProtocolClient
from tests.support.server import KaguraProcess
from tests.support.stage import StageClient, stage_stats, user_messages, viewer_and_page
from tests.support.wait import until

from .conftest import LLM_KEY, TTS_KEY, fake_engines, server_fixture

TOKEN = "bans-admin-token"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
PAGE = {"Authorization": f"Bearer {role_token(TOKEN, Role.PAGE)}"}
WORD = "pineapple"
MALLORY = {"platform": "bilibili", "user_id": "id-Mallory"}
LOG_KB = 16  # the smallest limit: rotation is quick to reach

banning = server_fixture(
    "bans",
    system={"auth_token": TOKEN},
    safety={"blocked_words": [WORD], "audit_log_max_kb": LOG_KB},
    stage={"user_rate_per_min": 0, "dedup_window_s": 0, "max_text_chars": 1000},
)


def viewer(name: str, uid: str, text: str) -> dict[str, Any]:
    """A Bilibili viewer's chat line, with the platform id the ban is keyed by."""
    user = {"name": name, "id": uid}
    source = {"platform": "bilibili", "kind": "danmaku", "user": user}
    return {"type": "text-input", "text": text, "source": source}


async def call(
    server: KaguraProcess,
    method: str,
    path: str,
    headers: dict[str, str] | None = None,
    **kwargs: Any,
) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.http_url, timeout=10) as http:
        chosen = ADMIN if headers is None else headers
        return await http.request(method, path, headers=chosen, **kwargs)


async def dropped(server: KaguraProcess, verdict: str) -> int:
    count: int = (await stage_stats(server))["dropped"].get(verdict, 0)
    return count


def audit_entries(server: KaguraProcess) -> list[dict[str, Any]]:
    path = Path(server.config["system"]["data_dir"]) / "safety.jsonl"
    older = path.with_name("safety.jsonl.1")
    text = (older.read_text("utf-8") if older.exists() else "") + path.read_text("utf-8")
    return [json.loads(line) for line in text.splitlines()]


# -- on the wire ------------------------------------------------------------------------------


async def test_a_banned_viewer_is_dropped_and_a_namesake_still_answered(
    banning: KaguraProcess, fake: FakeOpenAI
) -> None:
    fake.script = LLMScript(reply="Hello!")
    ban = {"platform": "bilibili", "user_id": "id-Mallory", "name": "Mallory", "reason": "spam"}
    answer = await call(banning, "POST", "/stage/ban", json=ban)
    assert answer.status_code == 200, answer.text
    assert answer.json()["banned"] == {**ban, "at": answer.json()["banned"]["at"]}
    listed = (await call(banning, "GET", "/stage/bans")).json()
    assert [(b["platform"], b["user_id"], b["name"]) for b in listed["bans"]] == [
        ("bilibili", "id-Mallory", "Mallory")
    ]
    before = await dropped(banning, "banned")
    async with viewer_and_page(banning) as (platform, seen):
        await platform.send(viewer("Mallory", "id-Mallory", "the banned one speaks"))
        await platform.send(viewer("Mallory", "other-42", "the other Mallory says hi"))
        await seen.wait_turns(1, timeout=20)
        assert await dropped(banning, "banned") == before + 1
        asked = user_messages(fake.chat_requests())
        assert asked == ["Mallory on bilibili says: «the other Mallory says hi»"]
        [line] = [m for m in seen.messages if m["type"] == "user-input-transcription"]
        assert (line["name"], line["user_id"]) == ("Mallory", "other-42")

        # Lifted: the same viewer is answered again.
        lifted = await call(banning, "DELETE", "/stage/ban", params=MALLORY)
        assert lifted.status_code == 200 and lifted.json()["lifted"]["user_id"] == "id-Mallory"
        await platform.send(viewer("Mallory", "id-Mallory", "am I back?"))
        await seen.wait_turns(2, timeout=20)
    assert user_messages(fake.chat_requests())[-1] == "Mallory on bilibili says: «am I back?»"
    assert not any("the banned one" in str(r) for r in fake.chat_requests())
    again = await call(banning, "DELETE", "/stage/ban", params=MALLORY)
    assert again.status_code == 404
    assert again.json() == {"error": "no ban of user_id 'id-Mallory' on 'bilibili'"}
    assert (await call(banning, "GET", "/stage/bans")).json() == {"bans": [], "count": 0}


async def test_a_page_token_is_refused_and_bad_requests_say_why(banning: KaguraProcess) -> None:
    body = {"platform": "bilibili", "user_id": "id-Eve"}
    for method, path, kwargs in (
        ("GET", "/stage/bans", {}),
        ("POST", "/stage/ban", {"json": body}),
        ("DELETE", "/stage/ban", {"params": body}),
        ("GET", "/stage/safety-log", {}),
    ):
        refused = await call(banning, method, path, PAGE, **kwargs)
        assert refused.status_code == 403, (method, path)
        assert refused.json() == {"error": f"the page role may not {method} {path} (admin only)"}
    assert (await call(banning, "GET", "/stage/bans")).json()["count"] == 0  # nothing banned

    # Every refusal in one form, `{"error": ...}`, naming the field (not FastAPI's "detail").
    missing = await call(banning, "POST", "/stage/ban", json={"platform": "bilibili"})
    assert missing.status_code == 422
    assert missing.json() == {"error": "body.user_id: Field required"}
    extra = await call(banning, "POST", "/stage/ban", json={**body, "nickname": "Eve"})
    assert extra.status_code == 422 and "body.nickname" in extra.json()["error"]
    blank = await call(banning, "POST", "/stage/ban", json={**body, "user_id": "   "})
    assert blank.status_code == 422
    assert blank.json() == {"error": "user_id is empty: a ban names the viewer's platform id"}
    nothing = await call(banning, "DELETE", "/stage/ban")
    assert nothing.status_code == 422 and "platform is empty" in nothing.json()["error"]
    too_many = await call(banning, "GET", "/stage/safety-log", params={"limit": 0})
    assert too_many.status_code == 422 and "limit" in too_many.json()["error"]


async def test_the_audit_log_has_what_was_withheld_dropped_renamed_and_banned(
    banning: KaguraProcess, fake: FakeOpenAI
) -> None:
    fake.script = LLMScript(reply=f"Sure thing. I love {WORD} on pizza.")
    async with viewer_and_page(banning) as (platform, seen):
        await platform.send(viewer("Ann", "ann-1", f"do you like p-i-n-e-a-p-p-l-e? {TOKEN}"))
        await platform.send(viewer("Pineapple_Fan", "fan-7", "what is your favourite fruit?"))
        await seen.wait_turns(1, timeout=20)
    # Named "a viewer" on pages, and without the id (it may spell the name): the streamer
    # bans them from the audit entry instead.
    [line] = [m for m in seen.messages if m["type"] == "user-input-transcription"]
    assert line["name"] == "a viewer" and "user_id" not in line
    async with ProtocolClient(banning.ws_url) as private:
        await private.connect_sequence()
        await private.turn("And you?")
    await call(banning, "POST", "/stage/ban", json={"platform": "bilibili", "user_id": "fan-7"})
    await call(banning, "DELETE", "/stage/ban", params={"platform": "bilibili", "user_id": "fan-7"})

    entries = audit_entries(banning)
    withheld = [e for e in entries if e["kind"] == "withheld"]
    assert sorted((e["where"], e["text"].strip(), e["rule"]) for e in withheld) == [
        ("private", f"I love {WORD} on pizza.", f"word:{WORD}"),
        ("stage", f"I love {WORD} on pizza.", f"word:{WORD}"),
    ]
    [unsafe] = [e for e in entries if e["kind"] == "dropped" and e["user_id"] == "ann-1"]
    assert unsafe["verdict"] == "unsafe" and unsafe["rule"] == f"word:{WORD}"
    assert unsafe["text"].startswith("do you like p-i-n-e-a-p-p-l-e?")
    [renamed] = [e for e in entries if e["kind"] == "name_replaced"]
    assert (renamed["text"], renamed["user_id"]) == ("Pineapple_Fan", "fan-7")
    kinds = [(e["kind"], e["user_id"]) for e in entries if e["kind"] in ("ban", "unban")]
    assert kinds[-2:] == [("ban", "fan-7"), ("unban", "fan-7")]
    # The admin page reads the same entries from memory, the newest last.
    shown = (await call(banning, "GET", "/stage/safety-log", params={"limit": 3})).json()
    assert [e["kind"] for e in shown["entries"]][-2:] == ["ban", "unban"]
    raw = json.dumps(entries)
    for secret in (LLM_KEY, TTS_KEY, role_token(TOKEN, Role.PAGE)):
        assert secret not in raw


async def test_the_audit_log_rotates_at_its_size_limit(banning: KaguraProcess) -> None:
    path = Path(banning.config["system"]["data_dir"]) / "safety.jsonl"
    before = await dropped(banning, "unsafe")
    lines = 80  # of ~700 bytes each: well over two files' worth
    async with StageClient(banning, "platform") as platform:
        await platform.connect_sequence()
        for n in range(lines):
            await platform.send(viewer("Spammer", "spam-1", f"{n} {WORD} " + "x" * 500))
        await until(
            _dropped_at_least(banning, "unsafe", before + lines), 20, "every line dropped"
        )
    limit = LOG_KB * 1024
    older = path.with_name("safety.jsonl.1")
    assert path.stat().st_size <= limit and older.exists() and older.stat().st_size <= limit
    assert not path.with_name("safety.jsonl.2").exists()
    last = json.loads(path.read_text("utf-8").splitlines()[-1])
    assert last["text"].startswith(f"{lines - 1} {WORD}")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def _dropped_at_least(server: KaguraProcess, verdict: str, count: int) -> Any:
    async def check() -> bool:
        return await dropped(server, verdict) >= count

    return check


async def test_a_ban_survives_a_restart_and_an_unreadable_list_is_set_aside(
    fake: FakeOpenAI, tmp_path: Path
) -> None:
    fake.script = LLMScript(reply="Hi!")
    config = fake_engines(fake, system={"auth_token": TOKEN})
    with KaguraProcess(tmp_path, config) as server:
        ban = {"platform": "bilibili", "user_id": "id-Troll", "name": "Troll"}
        assert (await call(server, "POST", "/stage/ban", json=ban)).status_code == 200
    saved = tmp_path / "data" / "bans.json"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    with KaguraProcess(tmp_path, config) as server:
        listed = (await call(server, "GET", "/stage/bans")).json()["bans"]
        assert [(b["user_id"], b["name"]) for b in listed] == [("id-Troll", "Troll")]
        async with viewer_and_page(server) as (platform, seen):
            await platform.send(viewer("Troll", "id-Troll", "I am back"))
            await platform.send(viewer("Friend", "id-Friend", "hello"))
            await seen.wait_turns(1, timeout=20)
        assert await dropped(server, "banned") == 1
        assert user_messages(fake.chat_requests()) == ["Friend on bilibili says: «hello»"]
    saved.write_text("{not json", "utf-8")
    with KaguraProcess(tmp_path, config) as server:
        assert (await call(server, "GET", "/stage/bans")).json()["count"] == 0
        assert "bans.json: it is not a ban list" in server.whole_log()
    [aside] = list(saved.parent.glob("bans.json.unreadable-*"))
    assert aside.read_text("utf-8") == "{not json"


# -- the list on its own ----------------------------------------------------------------------


def chat(name: str, uid: str = "", platform: str = "bilibili") -> ChatEvent:
    return ChatEvent(Lane.DANMAKU, "hi", user_name=name, user_id=uid, platform=platform)


async def test_a_ban_is_by_identity_never_by_name(tmp_path: Path) -> None:
    bans = BanList(tmp_path / "bans.json")
    await bans.ban("Bilibili", "42", name="Mallory")
    assert bans.covers(chat("Mallory", "42"))
    assert bans.covers(chat("Someone Else", "42"))  # renamed: still banned
    assert not bans.covers(chat("Mallory", "43"))  # a namesake is not
    assert not bans.covers(chat("Mallory", "42", platform="twitch"))  # another platform
    assert not bans.covers(ChatEvent(Lane.STREAMER, "hi", user_name="Mallory"))
    # A platform without ids: the `name:` identity, as events carry it.
    await bans.ban("twitch", "name:nameless")
    assert bans.covers(chat("nameless", platform="twitch"))
    assert not bans.covers(chat("nameless", "7", platform="twitch"))


async def test_banning_again_keeps_the_time_and_the_list_is_bounded(tmp_path: Path) -> None:
    bans = BanList(tmp_path / "bans.json", limit=2)
    first = await bans.ban("bilibili", "1", name="A")
    again = await bans.ban("bilibili", "1", name="A2", reason="still")
    assert (again.at, again.name, again.reason) == (first.at, "A2", "still")
    await bans.ban("bilibili", "2")
    with pytest.raises(BanListFull, match="the ban list is full"):
        await bans.ban("bilibili", "3")
    with pytest.raises(BanError, match="user_id is longer"):
        await bans.ban("bilibili", "x" * 201)
    with pytest.raises(BanError, match="platform is empty"):
        await bans.ban("\u200b", "1")
    reloaded = BanList(tmp_path / "bans.json")
    reloaded.load()
    assert [(b.user_id, b.name) for b in reloaded.listed()] == [("2", ""), ("1", "A2")]


async def test_unusable_entries_are_skipped_and_the_file_kept_aside(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "bans.json"
    good = {"platform": "bilibili", "user_id": "1", "name": "A", "at": "2026-01-01T00:00:00"}
    path.write_text(json.dumps({"version": 1, "bans": [good, {"platform": 3}, "x"]}), "utf-8")
    bans = BanList(path)
    with caplog.at_level(logging.ERROR, "kagura.stage.bans"):
        bans.load()
    assert len(bans) == 1 and bans.covers(chat("A", "1"))
    assert "2 entries could not be used" in caplog.text
    assert len(list(tmp_path.glob("bans.json.unreadable-*"))) == 1
