"""Run a real `kagura serve` process on a free loopback port, for tests and benchmarks.

A separate process is the honest test: real sockets, real start-up, and it can be killed
with SIGKILL mid-turn and started again on the same data.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Self

import httpx
import yaml

from kagura.config import deep_merge
from kagura.testing.ports import free_port


class KaguraProcess:
    """`kagura serve` with a config written from `overrides` into `workdir`."""

    def __init__(self, workdir: Path, overrides: dict[str, Any] | None = None) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.config_path = workdir / "conf.yaml"
        self.log_path = workdir / "server.log"
        base = {
            "system": {"host": "127.0.0.1", "port": self.port, "data_dir": str(workdir / "data")}
        }
        self.config = deep_merge(base, overrides or {})
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/client-ws"

    def command(self) -> list[str]:
        return [sys.executable, "-m", "kagura", "serve", "--config", str(self.config_path)]

    def ready_url(self) -> str:
        """Answers 200 once the server is up."""
        return f"{self.http_url}/health"

    def start(self, timeout_s: float = 120) -> Self:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(yaml.safe_dump(self.config), encoding="utf-8")
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "HF_HUB_OFFLINE": "1"}
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command(), cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT, env=env
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"kagura exited with {self.process.returncode}:\n{self.log()}")
            try:
                if httpx.get(self.ready_url(), timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise TimeoutError(f"kagura did not start in {timeout_s} s:\n{self.log()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None

    def kill(self) -> None:
        """SIGKILL: no clean-up at all, like a crash or a power cut of the process."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(5)
            self.process = None

    def log(self) -> str:
        return self.log_path.read_text("utf-8", "replace")[-4000:] if self.log_path.exists() else ""

    def whole_log(self) -> str:
        """All of the log on one line, Rich's wrapping of long lines undone: a message is found
        however it was wrapped."""
        text = self.log_path.read_text("utf-8", "replace") if self.log_path.exists() else ""
        return " ".join(text.split())

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
