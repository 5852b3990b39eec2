"""Find the `kagura serve` to talk to, or start one as a child process.

A server answers `GET /health` with `{"status": "ok", ...}` as soon as its port is open;
its LLM and TTS go on loading behind it and say so in its log. A server the chat started
runs in its own process group (Ctrl-C in the terminal reaches the chat, which then stops
the server in order), logs to a file whose last line is the chat's progress line, and is
stopped when the chat exits, however it exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from .target import Target

PROBE_TIMEOUT_S = 3.0
POLL_S = 0.2
STOP_TIMEOUT_S = 10.0
LOG_TAIL_CHARS = 3000
# What the server's log says once start-up loading is over (`kagura.runtime`).
LOADED_MARKS = ("engines ready",)
LOG_COLUMNS = "200"  # the server's log lines unwrapped, so the last one is a whole line


class ServerError(Exception):
    """No server to talk to; the text names the URL and what to do."""


async def probe(target: Target) -> str | None:
    """None when a Kagura server answers at `target`; else why not (for the message)."""
    try:
        async with httpx.AsyncClient(timeout=PROBE_TIMEOUT_S, trust_env=False) as http:
            response = await http.get(target.health_url)
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if response.status_code != 200:
        return f"HTTP {response.status_code} (is this a Kagura server?)"
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if not isinstance(answer, dict) or answer.get("status") != "ok":
        return "it answers, but not as a Kagura server does"
    return None


class LocalServer:
    """`kagura serve` on the target's host and port, as a child of this process."""

    def __init__(self, target: Target, config: Path | None) -> None:
        self.target = target
        self.config = config
        self.process: subprocess.Popen[bytes] | None = None
        handle, name = tempfile.mkstemp(prefix="kagura-serve-", suffix=".log")
        os.close(handle)
        self.log_path = Path(name)

    def command(self) -> list[str]:
        command = [sys.executable, "-m", "kagura", "serve"]
        if self.config is not None:
            command += ["--config", str(self.config)]
        return [*command, "--host", self.target.host, "--port", str(self.target.port)]

    def start(self) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": LOG_COLUMNS}
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,  # Ctrl-C is the chat's to handle
            )

    async def ready(self, timeout_s: float, progress: Callable[[str], None]) -> None:
        """Wait until the server answers and has finished loading its engines (or the
        timeout), showing its latest log line; `ServerError` if it exits or never answers."""
        deadline = time.monotonic() + timeout_s
        answering = False
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                code = self.process.returncode if self.process is not None else None
                raise ServerError(
                    f"kagura serve exited (code {code}) before it answered at "
                    f"{self.target.health_url}; its log ({self.log_path}):\n{self.tail()}"
                )
            answering = answering or await probe(self.target) is None
            last = self.last_line()
            if answering and any(mark in self.tail() for mark in LOADED_MARKS):
                return
            progress(("loading: " if answering else "starting: ") + last)
            await asyncio.sleep(POLL_S)
        if answering:
            return  # it answers; the first turn waits for whatever is still loading
        raise ServerError(
            f"kagura serve did not answer at {self.target.health_url} within {timeout_s:g} s "
            f"(--start-timeout); its log ({self.log_path}):\n{self.tail()}"
        )

    def tail(self) -> str:
        try:
            text = self.log_path.read_text("utf-8", "replace")
        except OSError:
            return ""
        return text[-LOG_TAIL_CHARS:]

    def last_line(self) -> str:
        lines = [line.strip() for line in self.tail().splitlines() if line.strip()]
        return lines[-1] if lines else "kagura serve…"

    def discard_log(self) -> None:
        self.log_path.unlink(missing_ok=True)

    def stop(self) -> None:
        """SIGINT (a clean shutdown), then SIGKILL if it does not end in time."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGINT)
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT_S)
