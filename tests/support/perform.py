"""`kagura perform vts` as a real process, and a turn on the stage it performs, for tests.

The performer writes the voice to a WAV file (there is no sound device here) at the pace a
device would play it, and logs to a file the tests read.
"""

from __future__ import annotations

import base64
import io
import os
import signal
import subprocess
import sys
import time
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import yaml

from tests.support.server import KaguraProcess
from tests.support.stage import StageClient
from tests.support.wait import wait_until

START_TIMEOUT_S = 20.0


class PerformProcess:
    """`kagura perform vts --audio-file` for the stage of `server`, with `perform` settings
    laid over quick backoffs; its data (the VTS token) in `workdir/data`."""

    def __init__(
        self,
        workdir: Path,
        server: KaguraProcess,
        vts_url: str,
        perform: dict[str, Any] | None = None,
    ) -> None:
        self.workdir = workdir
        self.server = server
        self.vts_url = vts_url
        self.audio_file = workdir / "voice.wav"
        runs = len(list(workdir.glob("perform-*.log"))) if workdir.exists() else 0
        self.log_path = workdir / f"perform-{runs + 1}.log"  # this run's only
        self.token_file = workdir / "data" / "vts-token"
        self.config = {
            "system": {"data_dir": str(workdir / "data")},
            "perform": {"backoff_initial_s": 0.2, "backoff_max_s": 1.0, **(perform or {})},
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Self:
        self.workdir.mkdir(parents=True, exist_ok=True)
        config_path = self.workdir / "conf.yaml"
        config_path.write_text(yaml.safe_dump(self.config), encoding="utf-8")
        command = [sys.executable, "-m", "kagura", "perform", "vts", "--config", str(config_path)]
        command += ["--url", f"ws://127.0.0.1:{self.server.port}/proxy-ws"]
        command += ["--vts-url", self.vts_url, "--audio-file", str(self.audio_file)]
        env = {k: v for k, v in os.environ.items() if k != "KAGURA_AUTH_TOKEN"}
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT, env=env
            )
        # Greeted by the stage: its replies now reach the performer.
        self.wait_log("emotions", START_TIMEOUT_S)
        return self

    def stop(self) -> int:
        process, self.process = self.process, None
        if process is None:
            return 0
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                return process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
        return process.wait(5)

    def log(self) -> str:
        return self.log_path.read_text("utf-8", "replace") if self.log_path.exists() else ""

    def wait_log(self, text: str, timeout_s: float = 10.0) -> None:
        def seen() -> bool:
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(f"the performer exited:\n{self.log()}")
            return text in self.log()

        wait_until(seen, timeout_s, f"{text!r} in the performer's log:\n{self.log()}")

    def audio_s(self) -> float:
        """Seconds of voice in the file so far (its header is kept up to date)."""
        with wave.open(str(self.audio_file), "rb") as wav:
            return wav.getnframes() / wav.getframerate()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


@dataclass
class Turn:
    """One turn on the stage, as a client that does not acknowledge saw it."""

    messages: list[tuple[float, dict[str, Any]]]  # (time.monotonic(), message)

    def first(self, kind: str, text: str | None = None) -> float:
        return next(
            t
            for t, m in self.messages
            if m["type"] == kind and (text is None or m.get("text") == text)
        )

    @property
    def audio_s(self) -> float:
        """The seconds of audio the turn's payloads carry."""
        total = 0.0
        for _, message in self.messages:
            if message["type"] == "audio" and message.get("audio"):
                data = base64.b64decode(message["audio"])
                with wave.open(io.BytesIO(data), "rb") as wav:
                    total += wav.getnframes() / wav.getframerate()
        return total

    @property
    def ended_after_audio_s(self) -> float:
        """From the first audio's arrival to the end of the turn."""
        return self.first("control", "conversation-chain-end") - self.first("audio")


async def stage_turn(admin: StageClient, text: str, timeout_s: float = 30) -> Turn:
    """Say `text` on the stage as the admin and collect its turn (never acknowledging it)."""
    await admin.send({"type": "text-input", "text": text})
    seen: list[tuple[float, dict[str, Any]]] = []
    deadline = time.monotonic() + timeout_s
    while True:
        message = await admin.recv(max(0.1, deadline - time.monotonic()))
        seen.append((time.monotonic(), message))
        if message == {"type": "control", "text": "conversation-chain-end"}:
            return Turn(seen)
