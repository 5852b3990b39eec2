"""The pure building blocks: tags, volumes, memory, ordered synthesis, VAD logic (the
segmenter has its own file)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import AsyncIterator
from typing import Literal

import numpy as np
import pytest

from kagura.audio import Speech, decode_wav, encode_wav, rms_volumes
from kagura.conversation.expressions import find_tags, strip_tags
from kagura.conversation.memory import ConversationMemory
from kagura.conversation.speech import speak_in_order, whole
from kagura.engines.errors import EngineError


def test_tags() -> None:
    known = {"joy": 1, "Anger": "angry"}
    text = "[JOY] Hi [anger] there [laughs] friend"
    assert find_tags(text, known) == ["joy", "Anger"]
    assert strip_tags(text) == "Hi there friend"


def test_wav_and_volumes() -> None:
    rate = 16000
    envelope = np.repeat([0.1, 1.0, 0.5, 0.0], rate // 10)
    samples = (envelope * 10000 * np.sin(np.arange(envelope.size))).astype(np.int16)
    speech = Speech(samples, rate)
    assert np.array_equal(decode_wav(encode_wav(speech)).samples, samples)
    volumes = rms_volumes(speech, 20)
    assert len(volumes) == 20  # 400 ms / 20 ms
    assert max(volumes) == 1.0 and volumes[-1] == 0.0
    assert volumes[0] == pytest.approx(0.1, abs=0.02) and volumes[10] == pytest.approx(
        0.5, abs=0.02
    )
    assert rms_volumes(Speech(np.zeros(0, np.int16), rate)) == []


def test_memory_stays_within_budget() -> None:
    memory = ConversationMemory(budget_tokens=100)
    for i in range(200):
        memory.add("user" if i % 2 == 0 else "assistant", f"message number {i} " * 5)
        assert memory.tokens <= 100
        assert memory.messages()[0].role == "user"
    assert memory.messages()[-1].content.startswith("message number 199")


def test_memory_keeps_a_stable_prefix_between_trims() -> None:
    """Cut in one go, not one message per turn, so LLM servers can reuse the prompt prefix."""
    memory = ConversationMemory(budget_tokens=200)
    firsts = []
    for i in range(60):
        memory.add("user" if i % 2 == 0 else "assistant", f"message number {i} " * 5)
        firsts.append(memory.messages()[0].content)
    changes = sum(1 for a, b in itertools.pairwise(firsts) if a != b)
    # One message at a time would change it on almost every message once memory is full.
    assert changes <= 60 // 4, f"the oldest message changed {changes} times in 60 messages"


def test_memory_trims_after_a_reply_not_before_the_next_input() -> None:
    """The trim happens when the reply is added (its audio is playing, the next prompt can
    be read ahead), and `after()` tells exactly what memory will hold, without changing it."""
    memory = ConversationMemory(budget_tokens=200)
    trimmed_on: list[str] = []
    for i in range(40):
        role: Literal["user", "assistant"] = "user" if i % 2 == 0 else "assistant"
        text = f"message number {i} " * 4
        predicted = [m.content for m in memory.after(role, text)]
        before = memory.messages()
        memory.add(role, text)
        assert [m.content for m in memory.messages()] == predicted
        if before and memory.messages()[0] is not before[0]:
            trimmed_on.append(role)
    assert trimmed_on and set(trimmed_on) == {"assistant"}


async def _texts(items: list[str], delay: float = 0.0) -> AsyncIterator[str]:
    for item in items:
        await asyncio.sleep(delay)
        yield item


async def test_speak_in_order_delivers_in_order_with_bounded_concurrency() -> None:
    running = 0
    peak = 0

    async def speak(index: int, text: str) -> Speech:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        # Later segments finish sooner: order must come from the pipeline, not timing.
        await asyncio.sleep(0.05 if text == "one" else 0.01)
        running -= 1
        return Speech(np.ones(160, np.int16), 16000)

    out = [
        s.text
        async for s in speak_in_order(
            _texts(["one", "two", "three", "four"]), whole(speak), concurrency=2, timeout_s=1
        )
    ]
    assert out == ["one", "two", "three", "four"]
    assert peak == 2


async def test_speak_in_order_first_segment_has_priority() -> None:
    """With one slot, segment 0 is synthesised first even when others are queued."""
    order: list[str] = []

    async def speak(index: int, text: str) -> Speech:
        order.append(text)
        await asyncio.sleep(0.01)
        return Speech(np.ones(10, np.int16), 16000)

    stream = speak_in_order(_texts(["a", "b", "c"]), whole(speak), concurrency=1, timeout_s=1)
    async for _ in stream:
        pass
    assert order == ["a", "b", "c"]


async def test_speak_in_order_first_alone_reads_nothing_while_the_first_is_synthesised() -> None:
    """With `first_alone`, the LLM stream is not read (nor parsed, nor segmented) while the
    first segment is synthesised; without it, the next text is read at once."""

    async def run(first_alone: bool) -> list[str]:
        events: list[str] = []

        async def texts() -> AsyncIterator[str]:
            for item in ["a", "b"]:
                events.append(f"read {item}")
                yield item

        async def speak(index: int, text: str) -> Speech:
            events.append(f"start {text}")
            await asyncio.sleep(0.01)
            events.append(f"done {text}")
            return Speech(np.ones(10, np.int16), 16000)

        stream = speak_in_order(
            texts(), whole(speak), concurrency=2, timeout_s=1, first_alone=first_alone
        )
        assert [s.text async for s in stream] == ["a", "b"]
        return events

    held = await run(first_alone=True)
    assert held.index("read b") > held.index("done a")
    free = await run(first_alone=False)
    assert free.index("read b") < free.index("done a")


async def test_speak_in_order_first_alone_still_stops_at_once() -> None:
    """Closed while the first segment is synthesised (an interrupt), the held stream is
    closed too, without waiting for the synthesis."""
    closed = asyncio.Event()
    started = asyncio.Event()

    async def texts() -> AsyncIterator[str]:
        try:
            yield "a"
            yield "b"
        finally:
            closed.set()

    async def speak(index: int, text: str) -> Speech:
        started.set()
        await asyncio.sleep(30)
        return Speech(np.ones(10, np.int16), 16000)

    stream = speak_in_order(texts(), whole(speak), concurrency=1, timeout_s=60, first_alone=True)
    first = asyncio.ensure_future(anext(stream))
    await asyncio.wait_for(started.wait(), 5)
    first.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await first
    await asyncio.wait_for(stream.aclose(), 5)
    assert closed.is_set()


async def test_speak_in_order_reports_tts_errors_and_timeouts() -> None:
    async def speak(index: int, text: str) -> Speech:
        if text == "bad":
            raise EngineError("voice broke")
        if text == "slow":
            await asyncio.sleep(5)
        return Speech(np.ones(10, np.int16), 16000)

    started = time.monotonic()
    out = [
        s
        async for s in speak_in_order(
            _texts(["ok", "bad", "slow", "ok"]), whole(speak), concurrency=1, timeout_s=0.2
        )
    ]
    assert time.monotonic() - started < 2
    assert [(s.text, s.speech is None, s.error) for s in out] == [
        ("ok", False, None),
        ("bad", True, "voice broke"),
        ("slow", True, "TTS took over 0.2 s (tts.segment_timeout_s)"),
        ("ok", False, None),
    ]


async def test_speak_in_order_raises_llm_error_after_delivering() -> None:
    async def texts() -> AsyncIterator[str]:
        yield "first"
        raise EngineError("stream broke")

    async def speak(index: int, text: str) -> Speech:
        return Speech(np.ones(10, np.int16), 16000)

    delivered = []
    with pytest.raises(EngineError, match="stream broke"):
        async for spoken in speak_in_order(texts(), whole(speak), concurrency=1, timeout_s=1):
            delivered.append(spoken.text)
    assert delivered == ["first"]


def test_cpu_priority_pauses_background_work_boundedly() -> None:
    import threading

    from kagura.engines.cpu import CpuPriority

    priority = CpuPriority()
    resumed: list[float] = []

    def background() -> None:
        priority.yield_to_urgent(max_wait_s=5)
        resumed.append(time.monotonic())

    with priority.urgent():
        worker = threading.Thread(target=background)
        worker.start()
        time.sleep(0.2)
        assert not resumed, "background work must wait while urgent work runs"
        released = time.monotonic()
    worker.join(2)
    assert resumed and resumed[0] >= released

    # Bounded: a stuck urgent section cannot stall background work for longer than asked.
    with priority.urgent():
        started = time.monotonic()
        priority.yield_to_urgent(max_wait_s=0.1)
        assert 0.09 < time.monotonic() - started < 1.0


def test_clip_keeps_every_limit_with_the_ellipsis() -> None:
    from kagura.clipping import clip, one_line

    assert clip("short", 10) == "short"
    assert clip("exactly ten", 11) == "exactly ten"
    assert clip("a sentence that is too long", 10) == "a sentenc…"
    assert all(len(clip("x" * n, 7)) <= 7 for n in range(20))
    assert one_line("two\n  lines\tand  tabs", 100) == "two lines and tabs"
    assert one_line("spread   over\nmany lines", 10) == "spread ov…"


async def test_speak_in_order_streams_the_playing_segment_and_holds_later_ones() -> None:
    """A streaming voice's pieces of the segment that plays next are delivered as they
    come, before the segment is finished; a later segment's pieces wait their turn."""
    release = asyncio.Event()

    async def speak(index: int, text: str) -> AsyncIterator[Speech]:
        for part in range(3):
            if index == 0 and part == 2:
                await release.wait()  # the rest of the first segment is still being made
            yield Speech(np.full(10, 10 * index + part, np.int16), 16000)

    stream = speak_in_order(_texts(["a", "b"]), speak, concurrency=2, timeout_s=5)
    first = await anext(stream)
    second = await anext(stream)
    assert (first.index, first.part, second.index, second.part) == (0, 0, 0, 1)
    release.set()
    rest = [s async for s in stream]
    assert [(s.index, s.part, int(s.speech.samples[0])) for s in rest if s.speech] == [
        (0, 2, 2),
        (1, 0, 10),
        (1, 1, 11),
        (1, 2, 12),
    ]


async def test_speak_in_order_reports_an_error_after_the_pieces_that_arrived() -> None:
    async def speak(index: int, text: str) -> AsyncIterator[Speech]:
        yield Speech(np.ones(10, np.int16), 16000)
        raise EngineError("connection reset mid-sentence")

    out = [s async for s in speak_in_order(_texts(["a"]), speak, concurrency=1, timeout_s=1)]
    assert [(s.part, s.speech is not None, s.error) for s in out] == [
        (0, True, None),
        (1, False, "connection reset mid-sentence"),
    ]


async def test_speak_in_order_closed_mid_segment_stops_the_voice() -> None:
    stopped = asyncio.Event()

    async def speak(index: int, text: str) -> AsyncIterator[Speech]:
        try:
            yield Speech(np.ones(10, np.int16), 16000)
            await asyncio.sleep(30)
            yield Speech(np.ones(10, np.int16), 16000)
        finally:
            stopped.set()

    stream = speak_in_order(_texts(["a"]), speak, concurrency=1, timeout_s=60)
    await anext(stream)
    await asyncio.wait_for(stream.aclose(), 5)
    await asyncio.wait_for(stopped.wait(), 5)
