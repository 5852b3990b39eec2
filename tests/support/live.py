"""Run a live-platform client (`kagura live <platform> ...`) as a real process, for tests.

The client gets a config file written from `live` overrides (short heartbeats, watchdog
and backoff make tests quick) and logs to a file the test reads. It is stopped the way a
user stops it: SIGTERM (or SIGINT), then its exit code is checked.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any, Self

import yaml

from kagura.config import deep_merge

# Quick reconnects and a short watchdog: a test of a disconnect takes a second, not minutes.
TEST_LIVE: dict[str, Any] = {
    "watchdog_s": 5,
    "backoff_initial_s": 0.05,
    "backoff_max_s": 0.5,
    "status_interval_s": 1,
}


class LiveClient:
    def __init__(
        self,
        workdir: Path,
        args: list[str],
        live: dict[str, Any] | None = None,
        *,
        system: dict[str, Any] | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.workdir = workdir
        self.args = args
        self.config = {
            "system": {"log_level": "info", "data_dir": str(workdir / "data"), **(system or {})},
            "live": deep_merge(TEST_LIVE, live or {}),
        }
        self.env = env or {}
        self.config_path = workdir / "live.yaml"
        self.log_path = workdir / "live.log"
        self.process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        config = ["--config", str(self.config_path)]
        return [sys.executable, "-m", "kagura", "live", *self.args, *config]

    def start(self) -> Self:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(yaml.safe_dump(self.config, allow_unicode=True), "utf-8")
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command(), cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT, env=env
            )
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log(self) -> str:
        return self.log_path.read_text("utf-8", "replace") if self.log_path.exists() else ""

    def peak_rss_mb(self) -> float:
        """The most memory the process has held so far (VmHWM), in MB."""
        status = Path(f"/proc/{self.pid}/status").read_text()
        line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
        return int(line.split()[1]) / 1024

    def stop(self, sig: int = signal.SIGTERM, timeout_s: float = 15) -> int:
        """Signal the process and return its exit code (killed if it does not exit)."""
        process = self.process
        if process is None:
            return 0
        if process.poll() is None:
            process.send_signal(sig)
            try:
                process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
                raise AssertionError(f"the client ignored {sig!r}:\n{self.log()[-3000:]}") from None
        return process.returncode

    def wait(self, timeout_s: float = 30) -> int:
        assert self.process is not None
        return self.process.wait(timeout_s)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)
