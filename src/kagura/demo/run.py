"""Run the demo: the fake room, its scripted viewers, and a real `kagura live bilibili`.

The client is a separate process, started exactly as a user would start it against
Bilibili, with the fake's addresses and throwaway CA as its flags. Where it sends (the
stage's `/proxy-ws`) and with which token is resolved here, from the same `--proxy-url`,
`--token` and config as every `kagura live` command, and handed over without the user's
config: the client gets a config of its own with nothing secret in it (a real SESSDATA
cookie must not go to a fake), the URL in that file and the token in its environment,
never on its command line, which every local user can read.

SIGINT (Ctrl-C) and SIGTERM stop the viewers, then the client (SIGTERM, which it answers
by flushing and closing; killed if it has not exited in time), then the fake. The demo
exits with the client's code when the client stops on its own (e.g. refused by the stage).
"""

from __future__ import annotations

import dataclasses
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import yaml

from kagura.config import KaguraConfig
from kagura.link import safe_url
from kagura.live.settings import PLATFORM_TOKEN_ENV, RunnerSettings
from kagura.testing.fake_bilibili import SESSDATA, FakeBilibili

from .viewers import crowd

ROOM = 21_452_505  # the demo room's id (the fake's rooms know only this one)
JITTER = 0.5  # each gap is the pace times 1 ± this, at random: no metronome
CLIENT_STOP_TIMEOUT_S = 15.0  # the client's own shutdown is bounded well within this
CLIENT_KILL_TIMEOUT_S = 5.0
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def run_demo(config: KaguraConfig, settings: RunnerSettings, pace_s: float) -> int:
    """Run until SIGINT/SIGTERM (0) or until the client exits (its code); an event about
    every `pace_s`."""
    stop = threading.Event()
    alone: int | None = None  # the client's code, when it stopped before the demo did
    with (
        _stopped_by_signals(stop),
        tempfile.TemporaryDirectory(prefix="kagura-demo-") as workdir,
        FakeBilibili(Path(workdir), rooms={ROOM: ROOM}) as room,
    ):
        client = _start_client(room, config, settings, Path(workdir))
        try:
            print(_banner(settings), file=sys.stderr, flush=True)
            _watch(client, stop)
            _perform(room, stop, pace_s)
            alone = client.poll()  # (or with it: a Ctrl-C reaches both)
        finally:
            _stop(client)
    if alone:
        print(f"Demo stopped: the client exited with code {alone}", file=sys.stderr)
    return client.returncode if client.returncode >= 0 else 1  # 1: killed by a signal


def _banner(settings: RunnerSettings) -> str:
    return (
        f"Demo: a local fake Bilibili room ({ROOM}) with scripted viewers (English and Chinese "
        "chat, gifts, super chats, a captain), read by `kagura live bilibili` and sent to "
        f"{safe_url(settings.proxy_url)}; watch the replies on "
        f"{stage_page(settings.proxy_url)} (`kagura serve` must be running). Ctrl-C stops it."
    )


def stage_page(proxy_url: str) -> str:
    """The stage page of the server whose `/proxy-ws` is `proxy_url` (under the same prefix,
    behind a reverse proxy), without the URL's user, password or query."""
    parts = urlsplit(proxy_url)
    scheme = "https" if parts.scheme == "wss" else "http"
    netloc = parts.netloc.rpartition("@")[2]
    path = parts.path.rstrip("/").removesuffix("/proxy-ws") + "/stage"
    return urlunsplit((scheme, netloc, path, "", ""))


def _perform(room: FakeBilibili, stop: threading.Event, pace_s: float) -> None:
    """Push the viewers' events, one every `pace_s` or so, until `stop`."""
    rng = random.Random()
    for command in crowd(rng):
        if stop.wait(pace_s * rng.uniform(1 - JITTER, 1 + JITTER)):
            return
        room.push(command)  # to nobody while the client is (re)connecting: it is live chat


def _start_client(
    room: FakeBilibili, config: KaguraConfig, settings: RunnerSettings, workdir: Path
) -> subprocess.Popen[bytes]:
    client_config = workdir / "client.yaml"
    client_config.write_text(
        yaml.safe_dump(_client_config(config, settings), allow_unicode=True), "utf-8"
    )
    command = [sys.executable, "-m", "kagura", "live", "bilibili", "--room", str(ROOM)]
    command += ["--web-api", room.api_url, "--live-api", room.api_url]
    command += ["--home-url", f"{room.api_url}/", "--ca-file", str(room.ca_file)]
    command += ["--config", str(client_config)]
    env = {**os.environ, PLATFORM_TOKEN_ENV: settings.token}
    # Its log goes where the demo's does: the user sees it connect (or retry, no server).
    return subprocess.Popen(command, env=env)


def _client_config(config: KaguraConfig, settings: RunnerSettings) -> dict[str, Any]:
    """The client's config: the resolved `live` settings but the token, the fake's login
    cookie, and the user's log level and data folder (where a saved server token is found)."""
    live = {k: v for k, v in dataclasses.asdict(settings).items() if k != "token"}
    return {
        "system": {
            "log_level": config.system.log_level,
            "data_dir": str(config.resolve_path(config.system.data_dir)),
        },
        "live": {**live, "bilibili": {"sessdata": SESSDATA}},
    }


def _watch(client: subprocess.Popen[bytes], stop: threading.Event) -> None:
    """Stop the demo when the client exits on its own (a fatal problem, e.g. a refused
    token): the viewers would be talking to no one."""

    def wait() -> None:
        client.wait()
        stop.set()

    threading.Thread(target=wait, name="demo-client", daemon=True).start()


def _stop(client: subprocess.Popen[bytes]) -> None:
    if client.poll() is None:
        client.send_signal(signal.SIGTERM)  # also after a Ctrl-C it got: a stop is a stop
        try:
            client.wait(CLIENT_STOP_TIMEOUT_S)
            return
        except subprocess.TimeoutExpired:
            print("the client did not stop in time: killing it", file=sys.stderr)
            client.kill()
    client.wait(CLIENT_KILL_TIMEOUT_S)


@contextmanager
def _stopped_by_signals(stop: threading.Event) -> Iterator[None]:
    """SIGINT and SIGTERM set `stop` (instead of raising in whatever the demo is doing),
    so the client and the fake are always stopped in order."""

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
