"""Event-loop lag, measured from inside the server: how late a short sleep wakes up.

A stage under a chat flood must keep its loop responsive (audio has to leave on time); this
makes that visible in `/stage/stats` and in the flood benchmark, with bounded memory.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import deque
from typing import Any

INTERVAL_S = 0.05
SAMPLES = 1200  # one minute at 20 samples per second


class LagMonitor:
    def __init__(self) -> None:
        self._lags_ms: deque[float] = deque(maxlen=SAMPLES)

    async def run(self) -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(INTERVAL_S)
            self._lags_ms.append(1000 * max(0.0, time.perf_counter() - started - INTERVAL_S))

    def reset(self) -> None:
        self._lags_ms.clear()

    def stats(self) -> dict[str, Any]:
        lags = sorted(self._lags_ms)
        if not lags:
            return {"samples": 0}
        p99 = lags[min(len(lags) - 1, int(0.99 * len(lags)))]
        return {
            "samples": len(lags),
            "p50_ms": round(statistics.median(lags), 2),
            "p99_ms": round(p99, 2),
            "max_ms": round(lags[-1], 2),
        }
