"""The base of engines that run a model in this process: piper, SmolLM2, faster-whisper.

Loading such a model takes seconds and every call into it blocks, so neither may run on the
event loop. Each engine owns a thread pool sized for its model; the model is loaded in that
pool once, however many callers ask for it at the same time, and every call runs there too.
"""

from __future__ import annotations

import asyncio
import importlib.util
from abc import ABC, abstractmethod
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Generic, ParamSpec, TypeVar

from kagura.engines.errors import EngineError

M = TypeVar("M")
P = ParamSpec("P")
R = TypeVar("R")


def package_dir(package: str, missing: str) -> Path:
    """The folder of the installed `package`, found without importing it (a model wheel's
    package may import what we do not install); `EngineError(missing)` when it is absent."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise EngineError(missing)
    return Path(next(iter(spec.submodule_search_locations)))


class LocalModel(ABC, Generic[M]):
    """Owns the thread pool, loads the model `M` in it once, and stops it on `aclose()`.

    Subclasses implement `_load_blocking()` and call the model through `_loaded()` and
    `_in_thread()`; `load()` and `aclose()` are the engine interface's, ready to use.
    """

    def __init__(self, *, workers: int, thread_name_prefix: str) -> None:
        # `workers` bounds how many calls use the model at once; 1 serialises them, which
        # native models that are not thread-safe (llama.cpp) require.
        self._executor = ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix=thread_name_prefix
        )
        self._model: M | None = None
        self._load_lock = asyncio.Lock()

    @abstractmethod
    def _load_blocking(self) -> M:
        """Load and return the model; runs in the pool. Raise `EngineError` when it cannot."""

    async def load(self) -> None:
        """Load the model once; concurrent callers wait for the same load."""
        async with self._load_lock:
            if self._model is None:
                loop = asyncio.get_running_loop()
                self._model = await loop.run_in_executor(self._executor, self._load_blocking)

    async def _loaded(self) -> M:
        """The model, loaded first if start-up has not done it (or it failed then)."""
        await self.load()
        assert self._model is not None  # load() either set it or raised
        return self._model

    async def _in_thread(self, work: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """Run `work` in the engine's pool, where the model may be used."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, partial(work, *args, **kwargs))

    async def aclose(self) -> None:
        """Stop the pool without waiting: a native call still running cannot be interrupted."""
        self._executor.shutdown(wait=False, cancel_futures=True)
