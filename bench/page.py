"""First audio on the embedded defaults with the stage page open in Chromium on the same machine.

A real `kagura serve` with nothing in its config but a port (SmolLM2, piper: the defaults)
answers typed chat lines on the stage. A WebSocket client on `/proxy-ws` sends each line and
times the first `audio` message, in each of these settings, taken in turn in every round so
the machine's load falls on all of them alike:

- no page: the client alone (the floor: what the engines take on this machine);
- the stage page open in Debian's Chromium (headless, so WebGL is drawn on the CPU by
  SwiftShader, as on any machine without a GPU), drawn as the pages now draw on a software
  renderer: at most 10 fps while something moves, nothing while the model stands idle;
- the same page at 30 fps while something moves (`?fps=30`: the rate on a GPU);
- the same page drawn at the screen's rate (`?fps=60&idle_fps=60`), as every page did before.

With a page open, the page plays the reply and acknowledges it, as a streamer's would; the
page is opened afresh for its turn and left to load and settle first. Beside first audio: the
CPU of the server, of Chromium and of everything else while the turn waited for it, the
frames the page drew meanwhile, when the whole reply had been synthesised, and the later
segments that arrived after the one before had finished playing. Writes its section of
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import websockets
from playwright.async_api import Browser, ViewportSize, async_playwright

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent))  # tests.support, tests.web_browser
from first_audio import wav_seconds
from first_audio_report import playback_waits
from report import exit_on_sigterm, machine, write_section

from tests.support.server import KaguraProcess
from tests.web_browser import CHROMIUM, CHROMIUM_ARGS, MODEL_TIMEOUT_MS

VIEWPORT: ViewportSize = {"width": 1280, "height": 720}  # the stage page in a browser window
SETTLE_S = 3.0  # a page opened just now has finished loading its model; the machine calms
TURN_TIMEOUT_S = 120.0
CHAIN_END = {"type": "control", "text": "conversation-chain-end"}
LINES = [  # chat as the streamer types it: each round's line, the same in every setting
    "Hello! Who are you?",
    "What games do you like to play?",
    "I just got home from work, so tired.",
    "What is your favourite food?",
    "Tell us a fun fact, please.",
    "Good evening everyone!",
]


@dataclass(frozen=True)
class Setting:
    name: str
    query: str | None  # the stage page's query string; None: no page at all


SETTINGS = [
    Setting("no page (WebSocket client only)", None),
    Setting("**stage page open**, drawn as now (software WebGL: ≤ 10 fps, none when idle)", ""),
    Setting("stage page, ≤ 30 fps while moving (`?fps=30`, the rate on a GPU)", "?fps=30"),
    Setting(
        "stage page drawn at the screen's rate, as before (`?fps=60&idle_fps=60`)",
        "?fps=60&idle_fps=60",
    ),
]


@dataclass(frozen=True)
class Cpu:
    """CPU seconds: of the server, of Chromium (all its processes: the page, and the GPU
    process where SwiftShader draws), and of the whole machine (everyone's)."""

    server: float
    browser: float
    machine: float

    def __sub__(self, other: Cpu) -> Cpu:
        return Cpu(
            self.server - other.server, self.browser - other.browser, self.machine - other.machine
        )

    @property
    def others(self) -> float:
        """The rest of the machine: this benchmark's client, and whatever else runs."""
        return max(0.0, self.machine - self.server - self.browser)


@dataclass
class Turn:
    first_audio_s: float
    waiting: Cpu  # from sending the line to its first audio
    frames: int  # frames the page drew meanwhile
    synthesised_s: float  # until `backend-synth-complete`: the whole reply generated and spoken
    replying: Cpu  # from sending the line until then
    segments: list[tuple[float, float]]  # (arrival s, duration s) of each audio


@dataclass
class Measured:
    setting: Setting
    turns: list[Turn] = field(default_factory=list)


def cpu(server_pid: int) -> Cpu:
    """CPU used so far by the server, by the Chromium this benchmark started, and by all."""
    tick = os.sysconf("SC_CLK_TCK")
    me, parents, times, browsers = os.getpid(), {}, {}, []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                comm = (entry / "comm").read_text().strip()
            except OSError:
                continue  # gone meanwhile
            pid = int(entry.name)
            parents[pid] = int(fields[1])
            times[pid] = (int(fields[11]) + int(fields[12])) / tick  # utime + stime
            if comm.startswith("chrom"):
                browsers.append(pid)

    def ours(pid: int) -> bool:
        while pid not in (0, 1, me):
            pid = parents.get(pid, 0)
        return pid == me

    busy = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, busy[:8])
    return Cpu(
        server=times.get(server_pid, 0.0),
        browser=sum(times[pid] for pid in browsers if ours(pid)),
        machine=(user + nice + system + irq + softirq + steal) / tick,
    )


async def turn(ws: Any, server_pid: int, text: str, frames: Any, ack: bool) -> Turn:
    """One typed line, timed from sending it to its first audio; the rest of the reply is
    heard out (`ack`: this client acknowledges playback, there being no page to do it)."""
    frames_before, cpu_before = await frames(), cpu(server_pid)
    started = time.perf_counter()
    await ws.send(json.dumps({"type": "text-input", "text": text}))
    first: tuple[float, Cpu, int] | None = None
    synthesised: tuple[float, Cpu] | None = None
    segments: list[tuple[float, float]] = []
    async with asyncio.timeout(TURN_TIMEOUT_S):
        while (message := json.loads(await ws.recv())) != CHAIN_END:
            arrived = time.perf_counter() - started
            if message["type"] == "audio" and message.get("audio"):
                if first is None:
                    used = cpu(server_pid) - cpu_before
                    first = (arrived, used, await frames() - frames_before)
                segments.append((arrived, wav_seconds(message["audio"])))
            elif message["type"] == "backend-synth-complete":
                synthesised = (arrived, cpu(server_pid) - cpu_before)
                if ack:
                    await ws.send(json.dumps({"type": "frontend-playback-complete"}))
    if first is None or synthesised is None:
        raise RuntimeError(f"no audio for {text!r}")
    return Turn(*first, *synthesised, segments)


async def no_frames() -> int:
    return 0


async def one_round(
    server: KaguraProcess, browser: Browser, ws: Any, setting: Setting, text: str
) -> Turn:
    assert server.process is not None
    pid = server.process.pid
    if setting.query is None:
        await asyncio.sleep(SETTLE_S)
        return await turn(ws, pid, text, no_frames, ack=True)
    context = await browser.new_context(viewport=VIEWPORT)
    try:
        page = await context.new_page()
        await page.goto(f"{server.http_url}/stage{setting.query}")
        await page.wait_for_function(
            "window.kagura && kagura.state === 'open' && kagura.modelLoaded",
            timeout=MODEL_TIMEOUT_MS,
        )
        await asyncio.sleep(SETTLE_S)

        async def frames() -> int:
            drawn: int = await page.evaluate("kagura.frames.frames")
            return drawn

        return await turn(ws, pid, text, frames, ack=False)  # the page acknowledges
    finally:
        await context.close()


def describe(index: int, setting: Setting, t: Turn) -> str:
    w = t.waiting
    return (
        f"round {index} {setting.name}: first audio {1000 * t.first_audio_s:.0f} ms "
        f"(CPU s: server {w.server:.2f}, Chromium {w.browser:.2f}, others {w.others:.2f}; "
        f"{t.frames} frames); reply synthesised at {t.synthesised_s:.1f} s"
    )


async def bench(workdir: Path, rounds: int, verbose: bool) -> list[Measured]:
    measured = [Measured(setting) for setting in SETTINGS]
    with KaguraProcess(workdir, {}) as server:
        assert server.process is not None
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            url = f"ws://127.0.0.1:{server.port}/proxy-ws"
            async with websockets.connect(url, max_size=64 * 2**20) as ws:
                # The engines load and the prompt cache fills: not measured.
                await turn(ws, server.process.pid, "Hi!", no_frames, ack=True)
                for index in range(rounds):
                    for m in measured:
                        text = LINES[index % len(LINES)]
                        m.turns.append(await one_round(server, browser, ws, m.setting, text))
                        if verbose:
                            print(describe(index, m.setting, m.turns[-1]), flush=True)
            await browser.close()
    return measured


def _cores(turns: list[Turn], used: str) -> str:
    """Median cores busy while waiting for first audio: `used` is a field of `Cpu`."""
    return f"{statistics.median(getattr(t.waiting, used) / t.first_audio_s for t in turns):.2f}"


def _row(m: Measured, floor_s: float) -> str:
    firsts = [t.first_audio_s for t in m.turns]
    first = statistics.median(firsts)
    fps = statistics.median(t.frames / t.first_audio_s for t in m.turns)
    waits = [w for t in m.turns for w in playback_waits(t.segments)]
    late = [w for w in waits if w > 0]
    page = m.setting.query is not None
    cells = [
        m.setting.name,
        f"{1000 * first:.0f} ms ({1000 * min(firsts):.0f}–{1000 * max(firsts):.0f})",
        f"{1000 * (first - floor_s):+.0f} ms" if page else "—",
        " / ".join(_cores(m.turns, used) for used in ("server", "browser", "others")),
        f"{fps:.0f} fps" if page else "—",
        f"{statistics.median(t.synthesised_s for t in m.turns):.1f} s",
        f"{len(late)} of {len(waits)}" + (f" (longest {max(late):.1f} s)" if late else ""),
    ]
    return "| " + " | ".join(cells) + " |"


def render(measured: list[Measured], rounds: int, load: float) -> str:
    alone = next(m for m in measured if m.setting.query is None)
    floor_s = statistics.median(t.first_audio_s for t in alone.turns)
    return "\n".join(
        [
            "`bench/page.py`: a real `kagura serve` on the embedded defaults (SmolLM2, piper) "
            "answers a typed chat line on the stage (`/proxy-ws`); a WebSocket client times "
            "the first `audio` message from sending `text-input`. The stage page is open "
            "(1280×720) in Debian's Chromium on the same machine, headless: with no GPU, "
            "WebGL is drawn on the CPU (SwiftShader), as on any machine without one. The "
            "**floor** is the same turn with no page open. The settings take turns in each of "
            f"{rounds} rounds (the same line in each); medians, with the range.",
            "",
            "| setting | first audio | − floor | cores busy while waiting: server / "
            "Chromium / others | frames drawn while waiting | whole reply synthesised | "
            "later segments that arrived after the one before had finished playing |",
            "|---|---|---|---|---|---|---|",
            *(_row(m, floor_s) for m in measured),
            "",
            "While waiting: from sending the line to its first audio, CPU seconds per second "
            "of the wait, of the server, of Chromium (all its processes: the page, and the GPU "
            "process where SwiftShader draws) and of everything else on the machine (the "
            "benchmark's client, other users). The page opened for each turn has loaded its "
            f"model and stood idle for {SETTLE_S:.0f} s. **Where the time went**: drawn at the "
            "screen's rate, the idle loop (breathing, blinking) took whatever SwiftShader "
            "managed, each frame costing the CPU the same whether anything changed or not, and "
            "the server was left about one core of two. Now an idle page draws nothing; what "
            "Chromium still does while the turn waits is mostly showing its start (the chat "
            'line, the "Thinking..." subtitle), composited in software too. **While the reply '
            "plays** the page draws the lip sync, and the embedded LLM is still writing the next "
            "sentences: at 30 fps the page takes the CPU they need, and they arrive after the "
            "one before has finished playing (the listener hears the character stop); at 10 fps "
            "they are at most a moment late. The whole reply synthesised is when "
            "`backend-synth-complete` arrived. " + machine(load),
        ]
    )


async def main() -> None:
    exit_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--verbose", action="store_true", help="print every turn")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        measured = await bench(Path(tmp), args.rounds, args.verbose)
    text = render(measured, args.rounds, load_before)
    print(text)
    if not args.no_write:
        write_section("First audio with the stage page open", text)


if __name__ == "__main__":
    asyncio.run(main())
