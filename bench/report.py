"""Write one benchmark's section of docs/benchmarks.md, leaving the other sections alone."""

from __future__ import annotations

import datetime
import os
import platform
import re
import signal
import sys
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
