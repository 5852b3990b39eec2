"""`kagura live demo` end to end: a real `kagura serve` (fake LLM), and the demo as a real
process — its fake Bilibili room, its scripted viewers and its own `kagura live bilibili`
client process — whose viewers the stage answers, in English and Chinese, gifts thanked. A
SIGTERM or SIGINT to the demo stops it and its client: no process is left behind."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import random
import signal
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from kagura.demo.viewers import LINES_EN, LINES_ZH, NAMES_EN, NAMES_ZH, RHYTHM, crowd
from kagura.testing.fake_openai import FakeOpenAI
from tests.support.live import LiveClient
from tests.support.server import KaguraProcess
from tests.support.stage import Watcher, stage_stats, stage_url, user_messages, watched_page
from tests.support.wait import until

from .conftest import server_fixture

pytestmark = pytest.mark.live

PACE_S = 0.3  # quick viewers: every kind of event within a few seconds
demo_stage = server_fixture("demo-stage", conversation={"playback_margin_s": 0.3})


def demo(tmp_path: Path, server: KaguraProcess) -> LiveClient:
    args = ["demo", "--proxy-url", stage_url(server), "--pace", str(PACE_S)]
    return LiveClient(tmp_path / "demo", args)


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (from /proc: the demo names no child itself)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue  # it ended while we looked
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def running(pid: int) -> bool:
    """The process exists and is not a zombie awaiting its parent's wait."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


@contextlib.contextmanager
def no_orphan(pid: int) -> Iterator[None]:
    """Kill the demo's client if the test failed to see it stopped, so that a failure does
    not leave it running."""
    try:
        yield
    finally:
        if running(pid):
            os.kill(pid, signal.SIGKILL)


def asked_in(fake: FakeOpenAI, lines: tuple[str, ...]) -> bool:
    return any(line in asked for asked in user_messages(fake.chat_requests()) for line in lines)


def thanked(seen: Watcher) -> bool:
    """A template thank-you to a demo viewer for a gift, performed on the stage."""
    names = (*NAMES_EN, *NAMES_ZH)
    return any(
        message["type"] == "audio"
        and "Thank you" in (said := message["display_text"]["text"])
        and any(name in said for name in names)
        for message in seen.messages
    )


def test_the_demo_room_deals_every_line_and_every_kind_of_event_with_fresh_ids() -> None:
    events = list(itertools.islice(crowd(random.Random(7)), 3 * len(RHYTHM)))
    kinds = Counter(event["cmd"].partition(":")[0] for event in events)
    assert kinds.keys() == {"DANMU_MSG", "SEND_GIFT", "SUPER_CHAT_MESSAGE", "GUARD_BUY"}
    chat = [event["info"] for event in events if event["cmd"].startswith("DANMU_MSG")]
    said = [info[1] for info in chat]
    assert set(said) == {*LINES_EN, *LINES_ZH}  # every line before any comes again
    assert all(a != b for a, b in itertools.pairwise(said))
    ids = [json.loads(info[0][15]["extra"])["id_str"] for info in chat]
    ids += [event["data"]["tid"] for event in events if event["cmd"] == "SEND_GIFT"]
    assert len(set(ids)) == len(ids)


async def test_the_stage_answers_the_demo_viewers_and_sigterm_stops_demo_and_client(
    tmp_path: Path, demo_stage: KaguraProcess, fake: FakeOpenAI
) -> None:
    async with watched_page(demo_stage) as seen:
        with demo(tmp_path, demo_stage) as process:
            [client] = await until(lambda: children(process.pid), 15, "the demo's client")
            with no_orphan(client):
                await until(lambda: asked_in(fake, LINES_EN), 20, "an English line answered")
                await until(lambda: asked_in(fake, LINES_ZH), 10, "a Chinese line answered")
                await until(lambda: thanked(seen), 10, "a gift thanked on the stage")
                assert process.stop(signal.SIGTERM) == 0
                assert not running(client), process.log()[-3000:]
    log = process.log()
    assert f"watch the replies on http://127.0.0.1:{demo_stage.port}/stage" in log
    assert "stopping" in log  # the client's own clean shutdown, not a kill


async def test_sigint_to_the_demo_alone_stops_its_client_too(
    tmp_path: Path, demo_stage: KaguraProcess
) -> None:
    before = (await stage_stats(demo_stage))["accepted"]
    with demo(tmp_path, demo_stage) as process:
        [client] = await until(lambda: children(process.pid), 15, "the demo's client")

        async def fed() -> bool:
            return bool((await stage_stats(demo_stage))["accepted"] > before)

        with no_orphan(client):
            await until(fed, 20, "the client feeding the stage")
            assert process.stop(signal.SIGINT) == 0  # to the demo alone, not its process group
            assert not running(client), process.log()[-3000:]
