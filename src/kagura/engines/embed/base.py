"""What an embedding engine does: turn texts into unit vectors whose dot product is meaning."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]  # (n, dim), each row of length 1

MAX_TEXT_CHARS = 2_000  # a note or a message longer than this is embedded by its start


class EmbeddingEngine(Protocol):
    # Names the model and its vector space: vectors made under another name are not
    # comparable and are made again.
    model_id: str

    async def load(self) -> None:
        """Get ready (load the model); raises `EngineError` with what to do when it cannot."""

    async def embed(self, texts: Sequence[str], *, query: bool = False) -> Vectors:
        """One unit vector per text. `query`: the texts are questions, not notes (models
        that embed the two differently are told which)."""

    async def aclose(self) -> None: ...


def normalized(vectors: npt.ArrayLike) -> Vectors:
    """Rows scaled to length 1 (a zero row stays zero), as float32."""
    array = np.asarray(vectors, dtype=np.float32)
    if array.ndim != 2:
        raise ValueError(f"expected one vector per text, got an array of shape {array.shape}")
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    unit: Vectors = np.divide(array, norms, out=np.zeros_like(array), where=norms > 0)
    return unit
