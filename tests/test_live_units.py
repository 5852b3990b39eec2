"""The live-platform pieces on their own: WBI signing, packet framing, bounded
decompression, protobuf payloads, command handlers, events, outbox, backoff, settings.

Payloads are built by the fake server's own writers (`kagura.testing.fake_bilibili`),
independent of the client's parsers, so the two cannot agree on a mistake.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import zlib
from pathlib import Path
from typing import Any

import brotli
import pytest

from kagura.auth import Role, role_token
from kagura.backoff import Backoff
from kagura.config import KaguraConfig
from kagura.link import safe_url
from kagura.live.bilibili import commands, packets, proto, wbi
from kagura.live.bilibili.open_api import signed_headers
from kagura.live.events import LiveEvent, Withdrawal, withdrawals
from kagura.live.outbox import Outbox
from kagura.live.platform import CommandTable
from kagura.live.settings import PLATFORM_TOKEN_ENV, platform_token, with_role
from kagura.protocol.client import parse
from kagura.testing.fake_bilibili import messages as m
from kagura.testing.fake_bilibili import wire
from kagura.testing.fake_bilibili.open_api import OpenApiState

# -- WBI ----------------------------------------------------------------------------------


def test_wbi_signature_matches_bilibilis_published_example() -> None:
    key = wbi.mixin_key(
        "https://i0.hdslb.com/bfs/wbi/7cd084941338484aae1ad9425b84077c.png",
        "https://i0.hdslb.com/bfs/wbi/4932caff0ff746eab6f01bf08b70ac45.png",
    )
    assert key == "ea1db124af3c7062474693fa704f4ff8"
    signed = wbi.sign({"foo": "114", "bar": "514", "zab": 1919810}, key, now=1702204169)
    assert signed["wts"] == "1702204169"
    assert signed["w_rid"] == "8f6f2b5b3d485fe1886cec6a0be8c5d4"


# -- framing ------------------------------------------------------------------------------


def test_several_packets_in_one_frame_and_the_heartbeat_reply_tail() -> None:
    frame = wire.command({"cmd": "A"}) + wire.command({"cmd": "B"})
    found, problem = packets.split(frame)
    assert problem is None and [p.json()["cmd"] for p in found] == ["A", "B"]
    # The reply's length leaves out the echoed body: exactly 4 bytes are read.
    reply = wire.heartbeat_reply(777, b"[object Object]")
    found, problem = packets.split(reply)
    assert problem is None and len(found) == 1
    assert found[0].op == packets.Op.HEARTBEAT_REPLY and int.from_bytes(found[0].body) == 777


@pytest.mark.parametrize(
    ("frame", "problem"),
    [
        (b"not a packet at all, just text", "bad header"),
        (wire.command({"cmd": "A"})[:-5], "claims"),
        (wire.command({"cmd": "A"}) + b"\x00\x00", "stray bytes"),
        (wire.heartbeat_reply(1, b"")[:18], "cut short"),
    ],
)
def test_bad_frames_are_reported_not_raised(frame: bytes, problem: str) -> None:
    _, found = packets.split(frame)
    assert found is not None and problem in str(found)


@pytest.mark.parametrize("compression", ["zlib", "brotli"])
async def test_compressed_batches_open_into_their_packets(compression: str) -> None:
    batch = wire.batch([wire.command({"cmd": f"C{n}"}) for n in range(5)], compression)
    found, problems = await packets.unpack(batch + wire.command({"cmd": "plain"}))
    assert problems == []
    assert [p.json()["cmd"] for p in found] == ["C0", "C1", "C2", "C3", "C4", "plain"]


async def test_a_decompression_bomb_is_refused_with_memory_bounded() -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    bomb = wire.bomb(2**30)
    assert len(bomb) < 4096  # a gigabyte of zeros, in a few kilobytes
    found, problems = await packets.unpack(bomb + wire.command({"cmd": "after"}))
    assert [p.json()["cmd"] for p in found] == ["after"]
    assert len(problems) == 1 and "expands beyond" in str(problems[0])
    zlib_bomb = wire.packet(wire.OP_COMMAND, zlib.compress(bytes(64 * 2**20)), wire.VER_ZLIB)
    found, problems = await packets.unpack(zlib_bomb)
    assert not found and "expands beyond" in str(problems[0])
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 4 * packets.MAX_BATCH_BYTES / 2**20 + 64  # the zlib input itself: 64 MB


@pytest.mark.parametrize(
    ("body", "ver"),
    [
        (brotli.compress(wire.command({"cmd": "A"}) * 50)[:-4], wire.VER_BROTLI),
        (zlib.compress(wire.command({"cmd": "A"}) * 50)[:-4], wire.VER_ZLIB),
        (b"\x00garbage that is not compressed", wire.VER_BROTLI),
        (b"\x00garbage that is not compressed", wire.VER_ZLIB),
    ],
)
async def test_truncated_or_garbage_batches_are_skipped(body: bytes, ver: int) -> None:
    found, problems = await packets.unpack(wire.packet(wire.OP_COMMAND, body, ver))
    assert found == [] and len(problems) == 1


async def test_a_batch_inside_a_batch_is_refused() -> None:
    inner = wire.batch([wire.command({"cmd": "deep"})], "zlib")
    found, problems = await packets.unpack(wire.batch([inner], "brotli"))
    assert found == [] and "inside" in str(problems[0])


async def test_large_batches_decompress_off_the_event_loop() -> None:
    # An incompressible body well over the inline threshold: the loop stays free to tick.
    noise = wire.command({"cmd": "X", "data": os.urandom(200_000).hex()})
    batch = wire.batch([noise], "brotli")
    assert len(batch) > packets.OFFLOOP_INPUT_BYTES
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    ticker = asyncio.create_task(tick())
    await asyncio.sleep(0)
    found, _ = await packets.unpack(batch)
    ticker.cancel()
    assert found[0].json()["cmd"] == "X" and ticks > 1


# -- protobuf and commands ----------------------------------------------------------------


def test_v2_payloads_read_with_unknown_fields_skipped() -> None:
    gift = m.gift_v2(42, "Alice", [{"name": "Rocket", "num": 2, "price": 1000, "tid": "t-1"}])
    message = proto.decode("SendGiftV2", gift["data"]["pb"])
    assert (message.uid, message.uname) == (42, "Alice")
    [item] = message.gift_list
    assert (item.gift_name, item.num, item.total_coin, item.coin_type, item.tid) == (
        "Rocket",
        2,
        2000,
        "gold",
        "t-1",
    )
    interact = proto.decode("InteractWordV2", m.interact_word_v2(7, "Bob", 2)["data"]["pb"])
    assert (interact.uid, interact.uname, interact.msg_type) == (7, "Bob", 2)
    with pytest.raises(proto.PayloadError):
        proto.decode("SendGiftV2", "%%% not base64")


def events_of(*sent: dict[str, Any], mirrored: bool = False) -> list[Any]:
    room = commands.Room(1007, mirrored=mirrored)
    return [item for command in sent for item in commands.handle(room, command)]


def test_a_gift_in_both_forms_is_one_event() -> None:
    found = events_of(
        m.gift(42, "Alice", "Rocket", 2, price=1000, tid="t-1"),
        m.gift_v2(42, "Alice", [{"name": "Rocket", "num": 2, "price": 1000, "tid": "t-1"}]),
        m.gift_v2(42, "Alice", [{"name": "Rocket", "num": 1, "price": 1000, "tid": "t-2"}]),
        m.gift(42, "Alice", "Rocket", 1, price=1000, tid="t-2"),
    )
    assert [(e.label, e.text, e.amount, e.id) for e in found] == [
        ("Rocket x2", "", 2.0, "gift:t-1"),  # the gift's name is a label, not viewer words
        ("Rocket", "", 1.0, "gift:t-2"),
    ]


def test_event_shapes() -> None:
    found = events_of(
        m.danmaku("hi", 1, "A", id_str="x1"),
        m.danmaku("[dog]", 2, "B", emoticon=True),
        m.danmaku("from elsewhere", 3, "C", mirror=True),
        m.gift(4, "D", "Heart", 5, price=100, coin_type="silver", tid="s-1"),
        m.super_chat(9, 5, "E", 30, "read me"),
        m.super_chat_jpn(9, 5, "E", 30, "read me"),
        m.super_chat_delete(9, 10),
        m.guard_buy(6, "F", 3),
        m.user_toast_v2(6, "F", 3),
        m.interact_word(7, "G", 2),
        m.interact_word_v2(7, "G", 2),
        m.interact_word(8, "H", 1),
        m.like(9, "I"),
        m.watched_change(100),
    )
    summary = [
        (
            type(e).__name__,
            getattr(e, "kind", ""),
            getattr(e, "label", "") or getattr(e, "text", ""),
            getattr(e, "free", ""),
        )
        for e in found
    ]
    assert summary == [
        ("LiveEvent", "danmaku", "hi", False),
        ("LiveEvent", "danmaku", "(emoticon: [dog])", False),
        ("LiveEvent", "gift", "Heart x5", True),
        ("LiveEvent", "superchat", "read me", False),
        ("Withdrawal", "", "", ""),
        ("LiveEvent", "guard", "舰长", False),
        ("LiveEvent", "follow", "", False),
        ("LiveEvent", "enter", "", False),
        ("LiveEvent", "like", "为主播点赞了", False),
    ]
    assert found[4] == Withdrawal("bilibili", ("sc:9", "sc:10"))
    assert found[2].amount is None and found[3].amount == 30 and found[5].amount == 198
    assert all(e.room == 1007 for e in found if isinstance(e, LiveEvent))
    mirrored = events_of(m.danmaku("from elsewhere", 3, "C", mirror=True), mirrored=True)
    assert [e.text for e in mirrored] == ["from elsewhere"]


def test_unreadable_commands_are_skipped_and_counted() -> None:
    table: CommandTable[None, dict[str, Any]] = CommandTable("test")

    @table.on("X")
    def _x(context: None, payload: dict[str, Any]) -> list[Any]:
        return [payload["missing"]]

    assert table.dispatch(None, "X", {}) == [] and table.unreadable == 1
    assert table.dispatch(None, "UNKNOWN", {}) == [] and table.unreadable == 1
    assert events_of({"cmd": "DANMU_MSG", "info": "not a list"}, ["not a dict"]) == []  # type: ignore[arg-type]


# -- events, outbox, backoff, settings ----------------------------------------------------


def test_events_always_make_messages_the_stage_accepts() -> None:
    long = LiveEvent(
        "bilibili",
        "superchat",
        text="x" * 10_000,
        user_name="N" * 500,
        user_id="u" * 500,
        amount=1e12,
        currency="CNY",
        id="i" * 500,
        room=1007,
        label="L" * 500,
    )
    message = parse(json.dumps(long.message()))
    assert message.type == "text-input"
    assert message.source is not None and message.source.label == "L" * 199 + "…"
    assert "label" not in LiveEvent("p", "danmaku", text="hi").message()["source"]
    assert all(parse(json.dumps(w.message())) for w in withdrawals("b", list(range(250))))
    assert [len(w.ids) for w in withdrawals("b", list(range(250)))] == [100, 100, 50]


async def test_outbox_drops_the_oldest_and_puts_failed_sends_back_in_front() -> None:
    outbox = Outbox(3)
    events = [LiveEvent("p", "danmaku", text=str(n)) for n in range(5)]
    for event in events:
        outbox.put(event)
    assert outbox.dropped == 2 and len(outbox) == 3
    first = await outbox.get()
    assert first is events[2]
    outbox.put_back(first)  # a send failed: it is first again
    assert await outbox.get() is events[2]
    outbox.put(events[0])  # full again: [3, 4, 0]
    outbox.put_back(events[2])  # a failed send meets a full outbox: it is the oldest, dropped
    assert outbox.dropped == 3
    assert [await outbox.get() for _ in range(3)] == [events[3], events[4], events[0]]


def test_backoff_doubles_with_jitter_up_to_its_cap_and_resets() -> None:
    low = Backoff(1, 10, rng=lambda: 0.0)
    high = Backoff(1, 10, rng=lambda: 1.0)
    assert [low.next_delay() for _ in range(6)] == [0.5, 1, 2, 4, 5, 5]
    assert [high.next_delay() for _ in range(6)] == [1, 2, 4, 8, 10, 10]
    high.reset()
    assert high.next_delay() == 1
    assert high.after(9.9) == 2  # a connection shorter than the cap is still a failure
    assert high.after(10) == 1  # one that lived as long as the cap starts it over
    assert high.after(None) == 2  # one that never opened


def test_platform_token_sources_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PLATFORM_TOKEN_ENV, raising=False)
    monkeypatch.delenv("KAGURA_AUTH_TOKEN", raising=False)
    config = KaguraConfig.model_validate({"system": {"data_dir": str(tmp_path)}})
    assert platform_token(config) == ""  # a loopback server that needs none
    (tmp_path / "auth_token").write_text("saved-admin\n")
    assert platform_token(config) == role_token("saved-admin", Role.PLATFORM)
    monkeypatch.setenv("KAGURA_AUTH_TOKEN", "env-admin")
    assert platform_token(config) == role_token("env-admin", Role.PLATFORM)
    monkeypatch.setenv(PLATFORM_TOKEN_ENV, "env-platform")
    assert platform_token(config) == "env-platform"
    config.live.token = "configured"
    assert platform_token(config) == "configured"
    assert platform_token(config, "flag") == "flag"


def test_urls_in_logs_carry_no_secrets() -> None:
    url = "wss://user:pw@example.com:8443/proxy-ws?token=s3cret&x=1#frag"
    assert safe_url(url) == "wss://example.com:8443/proxy-ws"
    assert (
        with_role("ws://h/proxy-ws?role=admin&token=t") == "ws://h/proxy-ws?token=t&role=platform"
    )


def test_open_platform_signature_is_what_the_platform_checks() -> None:
    state = OpenApiState("key-id", "secret", 1, "CODE", 1)
    body = b'{"code":"CODE","app_id":1}'

    class Request:
        def __init__(self, headers: dict[str, str]) -> None:
            self.headers = {k.lower(): v for k, v in headers.items()}

    assert state.refusal(Request(signed_headers(body, "key-id", "secret")), body) is None  # type: ignore[arg-type]
    wrong = Request(signed_headers(body, "key-id", "another secret"))
    assert state.refusal(wrong, body) == (4002, "bad signature")  # type: ignore[arg-type]
    tampered = Request(signed_headers(body, "key-id", "secret"))
    assert state.refusal(tampered, body + b" ")[0] == 4012  # type: ignore[arg-type,index]


def test_replies_become_chat_lines_at_sentence_ends_within_the_limit() -> None:
    from kagura.live.chat_out import chat_lines

    assert chat_lines("Hi! Ok.", 20) == ["Hi! Ok."]  # short sentences share a line
    english = chat_lines("Definitely the one with the cats. It is so cozy!", 20)
    assert english == ["Definitely the one", "with the cats.", "It is so cozy!"]
    chinese = chat_lines("我最喜欢的是那个有猫的游戏。真的好温馨！你也喜欢这种温馨的游戏吗？", 20)
    assert chinese == ["我最喜欢的是那个有猫的游戏。真的好温馨！", "你也喜欢这种温馨的游戏吗？"]
    unbroken = chat_lines("一" * 45, 20)  # no punctuation, no spaces: cut anywhere
    assert [len(line) for line in unbroken] == [20, 20, 5]
    assert all(len(line) <= 7 for line in chat_lines("a, b; c: dddddddddd e", 7))
    assert chat_lines("   ", 20) == []
