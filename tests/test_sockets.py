"""Sockets that end: never-reading clients, slow handshakes and connection floods cost the
server nothing once their deadlines pass — its file descriptors return to the baseline."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time

import pytest
import websockets

from kagura.testing.fake_openai import FakeOpenAI, LLMScript
from tests.support.server import KaguraProcess
from tests.support.stage import StageClient, stage_url, stalled_client
from tests.support.wait import until

from .conftest import server_fixture

HANDSHAKE_S = 1.5
STALL_S = 2.0
PER_ADDRESS = 12


server = server_fixture(
    "sockets",
    system={
        "handshake_timeout_s": HANDSHAKE_S,
        "stalled_send_timeout_s": STALL_S,
        "max_connections_per_address": PER_ADDRESS,
    },
    stage={"client_queue_frames": 16, "batch_max": 1, "dedup_window_s": 0},
    conversation={"playback_margin_s": 0.2},
)


def open_fds(server: KaguraProcess) -> int:
    """How many client connections the server process holds open on its port (sockets it
    opened itself, to the fake LLM for instance, are not counted)."""
    assert server.process is not None
    fd_dir = f"/proc/{server.process.pid}/fd"
    inodes = set()
    for fd in os.listdir(fd_dir):
        with contextlib.suppress(OSError):
            target = os.readlink(f"{fd_dir}/{fd}")
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    held = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as rows:
            next(rows)
            for row in rows:
                fields = row.split()
                local_port = int(fields[1].rsplit(":", 1)[1], 16)
                listening = fields[3] == "0A"
                if local_port == server.port and not listening and fields[9] in inodes:
                    held += 1
    return held


async def settled_fds(server: KaguraProcess) -> int:
    """The count once it stops changing (health checks come and go)."""
    last = -1
    for _ in range(50):
        current = open_fds(server)
        if current == last:
            return current
        last = current
        await asyncio.sleep(0.1)
    return last


async def cut_by_server(sock: socket.socket, timeout_s: float) -> float:
    """Read until the server ends the connection; return how long that took."""
    loop = asyncio.get_running_loop()
    started = time.monotonic()
    async with asyncio.timeout(timeout_s):
        while True:
            try:
                if not await loop.sock_recv(sock, 65536):
                    break
            except ConnectionResetError:
                break
    return time.monotonic() - started


async def test_never_reading_clients_are_cut(server: KaguraProcess, fake: FakeOpenAI) -> None:
    baseline = await settled_fds(server)
    fake.script = LLMScript(reply="A long sentence to fill every buffer on the way. " * 8)
    stalled = [await stalled_client(stage_url(server)) for _ in range(8)]
    try:
        assert open_fds(server) >= baseline + 8
        async with StageClient(server) as admin:
            await admin.connect_sequence()
            for n in range(30):  # replies until the never-readers are gone
                await admin.turn(f"turn {n}", timeout=30)
                if open_fds(server) <= baseline + 1:
                    break
            # Only the reading client is left: sockets, buffers and tasks of the others are gone.
            await until(lambda: open_fds(server) <= baseline + 1, 15, "stalled sockets cut")
    finally:
        for sock in stalled:
            sock.close()
    log = server.log_path.read_text("utf-8", "replace")
    assert "cut the connection" in log or "is not reading" in log
    await until(lambda: open_fds(server) <= baseline, 15, "descriptors back at the baseline")


@pytest.mark.parametrize("sent", [b"", b"GET /proxy-ws HTTP/1.1\r\nHost: 127.0.0.1\r\n"])
async def test_slow_handshakes_are_cut(server: KaguraProcess, sent: bytes) -> None:
    baseline = await settled_fds(server)
    loop = asyncio.get_running_loop()
    slow = []
    for _ in range(4):
        sock = socket.socket()
        sock.setblocking(False)
        await loop.sock_connect(sock, ("127.0.0.1", server.port))
        slow.append(sock)

    async def dribble(sock: socket.socket) -> None:
        for byte in sent:  # one byte at a time, never the end of the headers
            await loop.sock_sendall(sock, bytes([byte]))
            await asyncio.sleep(0.05)

    dribbling = [asyncio.create_task(dribble(sock)) for sock in slow]
    try:
        waits = await asyncio.gather(*(cut_by_server(sock, HANDSHAKE_S + 10) for sock in slow))
    finally:
        for task in dribbling:
            task.cancel()
        for sock in slow:
            sock.close()
    assert all(wait >= HANDSHAKE_S * 0.5 for wait in waits)  # cut by the deadline, not at once
    await until(lambda: open_fds(server) <= baseline, 15, "descriptors back at the baseline")


async def test_connections_per_address_are_capped(server: KaguraProcess) -> None:
    url = stage_url(server, role="page")
    opened = [await websockets.connect(url) for _ in range(PER_ADDRESS)]
    try:
        with pytest.raises((OSError, EOFError, websockets.WebSocketException)):
            extra = await websockets.connect(url, open_timeout=5)
            await extra.recv()
        await opened.pop().close()
        again = await websockets.connect(url, open_timeout=5)  # room again
        opened.append(again)
        assert "group-update" in str(await asyncio.wait_for(again.recv(), 5))
    finally:
        for connection in opened:
            await connection.close()
    assert "open from its address" in server.log_path.read_text("utf-8", "replace")
