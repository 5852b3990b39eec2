"""Write one benchmark's section of docs/benchmarks.md, leaving the other sections alone."""

from __future__ import annotations

import datetime
import os
import platform
import re
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
HEADER = (
    "# Benchmarks\n\n"
    "Measured on the project's reference machine (2 cores, no GPU). These machines are shared "
    "and noisy, so every figure is a median over repeated runs, with the spread beside it. "
    "Each section is rewritten by its script under `bench/`.\n"
)


def exit_on_sigterm() -> None:
    """Stopped with SIGTERM (`kill`, a job's timeout), a benchmark exits as on Ctrl-C: its
    `with` blocks run, so the servers it started stop with it instead of loading the
    machine under the next measurement."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))


def write_section(title: str, body: str) -> None:
    text = DOC.read_text("utf-8") if DOC.exists() else HEADER
    stamp = datetime.date.today().isoformat()
    section = f"<!-- {title} -->\n## {title}\n\n_Measured {stamp}._\n\n{body}\n<!-- /{title} -->\n"
    pattern = re.compile(rf"<!-- {re.escape(title)} -->.*?<!-- /{re.escape(title)} -->\n", re.S)
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else text + "\n" + section
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(text, "utf-8")


def nearest_rank(samples: list[float], q: float) -> float:
    """The `q` quantile of `samples` by the nearest-rank method (p90: q=0.9)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def machine(load_before: float) -> str:
    """The machine and how busy it was over the run (`load_before`: the load at its start)."""
    return (
        f"Machine: {platform.machine()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} cores, shared (load average {load_before:.1f} → "
        f"{os.getloadavg()[0]:.1f} over the run)."
    )



def _machine_ticks() -> tuple[int, int]:
    """(busy, total) CPU time of the whole machine so far, in clock ticks, all cores. Time in
    interrupts is left out of busy: the benchmark's own loopback traffic is handled there."""
    with open("/proc/stat", encoding="ascii") as stat:
        fields = [int(value) for value in stat.readline().split()[1:9]]
    user, nice, system, steal = fields[0], fields[1], fields[2], fields[7]
    return user + nice + system + steal, sum(fields)


def _process_ticks(pids: list[int]) -> int:
    """CPU time used so far by these processes (all their threads, and the children they
    have waited for: espeak-ng runs as one), in clock ticks."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:  # gone already: its time is not counted
            continue
        total += sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
    return total


@dataclass
class Phase:
    name: str
    load: float  # the 1-minute load average as the phase began
    others: float  # the share of the machine's CPU time that other processes used during it


@dataclass
class Busy:
    """What else ran on the machine while a benchmark measured, phase by phase: the load
    average as each phase began, and the share of the CPU that processes other than the
    benchmark's own (itself and the servers it started) used during it. A shared machine runs
    other people's jobs; a busy moment is reported beside the figures, not hidden."""

    phases: list[Phase] = field(default_factory=list)
    _open: tuple[str, float, tuple[int, int], int, list[int]] | None = None

    def begin(self, name: str, pids: list[int]) -> None:
        """A new phase, with `pids` (besides this process) counted as the benchmark's own."""
        self.end()
        own = [os.getpid(), *pids]
        self._open = (name, os.getloadavg()[0], _machine_ticks(), _process_ticks(own), own)

    def end(self) -> None:
        if self._open is None:
            return
        name, load, (busy, total), ours, own = self._open
        now_busy, now_total = _machine_ticks()
        others = (now_busy - busy) - (_process_ticks(own) - ours)
        share = max(0, others) / (now_total - total) if now_total > total else 0.0
        self.phases.append(Phase(name, load, share))
        self._open = None

    def busiest(self) -> Phase:
        return max(self.phases, key=lambda phase: phase.others)

    def describe(self) -> str:
        """The phases in one sentence (those of one name together), for the section's last
        paragraph."""
        by_name: dict[str, list[Phase]] = {}
        for phase in self.phases:
            by_name.setdefault(phase.name, []).append(phase)
        parts = []
        for name, phases in by_name.items():
            low, high = min(p.load for p in phases), max(p.load for p in phases)
            loads = f"{low:.1f}" if f"{low:.1f}" == f"{high:.1f}" else f"{low:.1f}–{high:.1f}"
            others = max(p.others for p in phases)
            parts.append(f"{name}: load {loads}, others at most {100 * others:.0f}%")
        return (
            "What else ran (the load average as each phase began; the share of the CPU other "
            f"processes used during it): {'; '.join(parts)}."
        )
