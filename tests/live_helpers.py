"""Helpers for the live-platform tests: a fake Bilibili with test rooms, a client process
pointed at it, and waits on what the fake and the stage have seen."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kagura.config import deep_merge
from kagura.testing.fake_bilibili import SESSDATA, FakeBilibili
from kagura.testing.live import LiveClient
from kagura.testing.proxy_recorder import ProxyRecorder
from kagura.testing.wait import until

ROOM, REAL = 7, 21_452_505  # the short id a streamer shares, and the room's real id
OTHER = 8_080_808
TOKEN = "platform-token-for-tests"


def fake_bilibili(tmp_path: Path) -> FakeBilibili:
    return FakeBilibili(tmp_path / "bili", rooms={ROOM: REAL, REAL: REAL, OTHER: OTHER})


def bilibili_client(
    tmp_path: Path,
    bili: FakeBilibili,
    proxy_url: str,
    *rooms: int,
    token: str | None = TOKEN,
    live: dict[str, Any] | None = None,
) -> LiveClient:
    """`kagura live bilibili` pointed at the fake and at `proxy_url`."""
    args = ["bilibili", *[f"--room={room}" for room in rooms or (ROOM,)]]
    args += ["--web-api", bili.api_url, "--live-api", bili.api_url, "--ca-file", str(bili.ca_file)]
    args += ["--proxy-url", proxy_url]
    if token is not None:
        args += ["--token", token]
    # The secret comes from the environment, as the config file's comments advise.
    section = {"bilibili": {"heartbeat_s": 0.5, "sessdata": "${BILIBILI_SESSDATA}"}}
    return LiveClient(
        tmp_path / "client",
        args,
        deep_merge(section, live or {}),
        env={"BILIBILI_SESSDATA": SESSDATA},
    )


async def connected(bili: FakeBilibili, count: int = 1, connects: int | None = None) -> None:
    """Wait for `count` authenticated connections (after at least `connects` in all)."""

    def ready() -> bool:
        opened = bili.read(lambda: bili.danmaku.connects)
        return bili.connected() == count and (connects is None or opened >= connects)

    await until(ready, 20, f"{count} authenticated connection(s)")


async def received(stage: ProxyRecorder, count: int) -> list[dict[str, Any]]:
    await until(lambda: len(stage.snapshot()) >= count, 15, f"{count} messages at the stage")
    return stage.snapshot()


def summary(message: dict[str, Any]) -> tuple[Any, ...]:
    if message["type"] == "chat-withdraw":
        return ("withdraw", *message["ids"])
    source = message["source"]
    name = source.get("user", {}).get("name")
    return (source["kind"], message["text"], name, source.get("amount"), source["free"])
