"""The fake OpenAI server, exercised through the real `openai` SDK over real HTTP."""

from __future__ import annotations

import asyncio
import io
import logging
import threading
import time
import wave
from collections.abc import Iterator

import numpy as np
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from kagura.testing.fake_openai import (
    MODEL_ID,
    ASRScript,
    FakeOpenAI,
    LLMFailure,
    LLMScript,
    TTSScript,
    echo_last_user,
    split_tokens,
)

REPLY = "Hello there, friend. [joy] Nice day! Shall we sing a little song together?"
MESSAGES: list[ChatCompletionMessageParam] = [
    {"role": "system", "content": "You are Kagura."},
    {"role": "user", "content": "Hi Kagura!"},
]


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


def sync_client(fake: FakeOpenAI, timeout: float = 10.0) -> openai.OpenAI:
    return openai.OpenAI(base_url=fake.base_url, api_key="x", max_retries=0, timeout=timeout)


def async_client(fake: FakeOpenAI, timeout: float = 10.0) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=fake.base_url, api_key="x", max_retries=0, timeout=timeout)


@pytest.mark.parametrize(
    "text",
    [
        "",
        REPLY,
        "  leading",
        "trailing  \n",
        "a\n\nb\tc",
        "supercalifragilistic!!",
        "こんにちは、世界",
    ],
)
def test_split_tokens_join_back_exactly(text: str) -> None:
    tokens = split_tokens(text)
    assert "".join(tokens) == text
    assert all(tokens)


def test_split_tokens_are_word_pieces() -> None:
    assert split_tokens("Hello there, friend.") == ["Hello", " there", ",", " friend", "."]
    assert split_tokens("你好，我是神乐。") == ["你好", "，", "我是", "神乐", "。"]


async def test_streamed_chunks_concatenate_to_the_reply(fake: FakeOpenAI) -> None:
    fake.script = LLMScript(reply=REPLY, ttft_s=0.0, tokens_per_s=1000.0)
    async with async_client(fake) as client:
        stream = await client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
        chunks = [chunk async for chunk in stream]

    assert chunks[0].choices[0].delta.role == "assistant"
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == REPLY
    assert len(chunks) > 10  # really streamed, not one blob
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert all(c.object == "chat.completion.chunk" and c.model == "m" for c in chunks)
    [body] = fake.chat_requests()
    assert body["messages"] == MESSAGES
    assert body["stream"] is True
    assert fake.requests[0].path == "/v1/chat/completions"


async def test_stream_usage_chunk_when_asked(fake: FakeOpenAI) -> None:
    fake.script = LLMScript(reply=REPLY)
    async with async_client(fake) as client:
        stream = await client.chat.completions.create(
            model="m", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
        )
        chunks = [chunk async for chunk in stream]
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == len(split_tokens(REPLY))


def test_non_streaming_completion(fake: FakeOpenAI) -> None:
    fake.script = LLMScript(reply=REPLY)
    with sync_client(fake) as client:
        completion = client.chat.completions.create(model="m", messages=MESSAGES)
    assert completion.choices[0].message.content == REPLY
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None
    assert completion.usage.completion_tokens == len(split_tokens(REPLY))
    assert fake.chat_requests()[0]["messages"] == MESSAGES


async def test_reply_function_sees_the_request() -> None:
    fake = FakeOpenAI(script=LLMScript(reply=echo_last_user))
    async with fake, async_client(fake) as client:
        completion = await client.chat.completions.create(model="m", messages=MESSAGES)
    assert completion.choices[0].message.content == "Hi Kagura!"


async def test_ttft_and_token_rate_are_honoured(fake: FakeOpenAI) -> None:
    ttft, rate = 0.2, 50.0
    fake.script = LLMScript(reply=REPLY, ttft_s=ttft, tokens_per_s=rate)
    n_tokens = len(split_tokens(REPLY))
    arrivals: list[float] = []
    async with async_client(fake) as client:
        start = time.perf_counter()
        stream = await client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                arrivals.append(time.perf_counter() - start)
        total = time.perf_counter() - start

    assert len(arrivals) == n_tokens
    # No token comes before its time, however busy the machine: each is sent at its own
    # deadline from the request's arrival, and our clock started before that.
    early = [k for k, t in enumerate(arrivals) if t < ttft + k / rate - 0.001]
    assert not early, f"tokens {early} came early: not paced"
    # Late is only ever a gross error: a busy machine may hold us up for a second.
    expected = ttft + (n_tokens - 1) / rate
    assert arrivals[0] <= ttft + 1.5
    assert total <= expected + 1.5


async def test_concurrent_streams_are_not_serialised(fake: FakeOpenAI) -> None:
    n, ttft = 8, 0.5
    fake.script = LLMScript(reply="Hi!", ttft_s=ttft, tokens_per_s=float("inf"))
    async with async_client(fake) as client:

        async def one() -> str:
            stream = await client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
            return "".join([c.choices[0].delta.content or "" async for c in stream])

        start = time.perf_counter()
        replies = await asyncio.gather(*(one() for _ in range(n)))
        elapsed = time.perf_counter() - start
    assert replies == ["Hi!"] * n
    # Together they take one ttft; one after another, 4 s; even two at a time, 2 s. The
    # second of slack is for a busy machine.
    assert elapsed < 3 * ttft


@pytest.mark.parametrize("failure", ["status_500", "refuse"])
@pytest.mark.parametrize("stream", [False, True])
def test_scripted_500_raises_internal_server_error(
    fake: FakeOpenAI, failure: LLMFailure, stream: bool
) -> None:
    fake.script = LLMScript(failure=failure)
    with sync_client(fake) as client, pytest.raises(openai.InternalServerError) as info:
        client.chat.completions.create(model="m", messages=MESSAGES, stream=stream)
    assert info.value.status_code == 500
    assert isinstance(info.value.body, dict)
    assert failure in str(info.value.body["message"])


def test_hang_before_headers_hits_the_client_timeout(fake: FakeOpenAI) -> None:
    fake.script = LLMScript(failure="hang_before_headers")
    start = time.perf_counter()
    with sync_client(fake, timeout=0.5) as client, pytest.raises(openai.APITimeoutError):
        client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
    assert 0.45 <= time.perf_counter() - start < 3.0


async def test_hang_after_first_chunk_times_out_while_iterating(fake: FakeOpenAI) -> None:
    fake.script = LLMScript(reply=REPLY, failure="hang_after_first_chunk")
    received: list[str] = []
    async with async_client(fake, timeout=0.5) as client:
        stream = await client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
        with pytest.raises(openai.APITimeoutError):
            async for chunk in stream:
                received.append(chunk.choices[0].delta.content or "")
    assert "".join(received) == split_tokens(REPLY)[0]


async def test_cut_mid_stream_raises_connection_error_while_iterating(fake: FakeOpenAI) -> None:
    fake.script = LLMScript(reply=REPLY, failure="cut_mid_stream")
    received: list[str] = []
    async with async_client(fake) as client:
        stream = await client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
        with pytest.raises(openai.APIConnectionError) as info:
            async for chunk in stream:
                received.append(chunk.choices[0].delta.content or "")
    assert not isinstance(info.value, openai.APITimeoutError)
    assert type(info.value.__cause__).__name__ == "RemoteProtocolError"  # incomplete chunked body
    text = "".join(received)
    assert text and REPLY.startswith(text) and text != REPLY


def test_cut_mid_body_of_a_plain_completion(fake: FakeOpenAI) -> None:
    fake.script = LLMScript(failure="cut_mid_stream")
    with sync_client(fake) as client, pytest.raises(openai.APIConnectionError) as info:
        client.chat.completions.create(model="m", messages=MESSAGES)
    assert type(info.value.__cause__).__name__ == "RemoteProtocolError"


def test_fail_times_fails_only_the_first_requests(fake: FakeOpenAI) -> None:
    fake.script = LLMScript(reply="ok", failure="status_500", fail_times=2)
    with sync_client(fake) as client:
        for _ in range(2):
            with pytest.raises(openai.InternalServerError):
                client.chat.completions.create(model="m", messages=MESSAGES)
        for _ in range(2):
            completion = client.chat.completions.create(model="m", messages=MESSAGES)
            assert completion.choices[0].message.content == "ok"
        fake.script = LLMScript(reply="ok", failure="status_500", fail_times=1)  # count restarts
        with pytest.raises(openai.InternalServerError):
            client.chat.completions.create(model="m", messages=MESSAGES)
    assert len(fake.chat_requests()) == 5


def rms_per_window(samples: np.ndarray, window: int) -> np.ndarray:
    frames = samples[: len(samples) // window * window].astype(np.float64).reshape(-1, window)
    rms: np.ndarray = np.sqrt((frames**2).mean(axis=1))
    return rms


def test_speech_returns_a_wav_of_the_expected_duration(fake: FakeOpenAI) -> None:
    fake.tts_script = TTSScript(latency_s=0.2, seconds_per_char=0.05)
    text = "x" * 40  # 2.0 s
    start = time.perf_counter()
    with sync_client(fake) as client:
        audio = client.audio.speech.create(
            model="tts", voice="kagura", input=text, response_format="wav"
        )
    assert time.perf_counter() - start >= 0.18

    with wave.open(io.BytesIO(audio.content)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 22050)
        assert wav.getnframes() / wav.getframerate() == pytest.approx(2.0, abs=0.01)
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    rms = rms_per_window(samples[2205:-2205], 1102)  # 50 ms windows, edges skipped
    assert rms.max() > 3 * rms.min() > 0  # loudness varies, for lip sync
    assert fake.speech_requests() == [
        {"model": "tts", "voice": "kagura", "input": text, "response_format": "wav"}
    ]


@pytest.mark.parametrize(("length", "seconds"), [(1, 0.2), (10_000, 10.0)])
def test_speech_duration_is_clamped(fake: FakeOpenAI, length: int, seconds: float) -> None:
    with sync_client(fake) as client:
        audio = client.audio.speech.create(model="t", voice="v", input="y" * length)
    with wave.open(io.BytesIO(audio.content)) as wav:
        assert wav.getnframes() / wav.getframerate() == pytest.approx(seconds, abs=0.01)


def test_speech_pcm_is_raw_24khz(fake: FakeOpenAI) -> None:
    fake.tts_script = TTSScript(seconds_per_char=0.1)
    with sync_client(fake) as client:
        audio = client.audio.speech.create(
            model="t", voice="v", input="abcde", response_format="pcm"
        )
    assert len(audio.content) == 2 * 24000 // 2  # 0.5 s of 16-bit samples
    assert not audio.content.startswith(b"RIFF")


async def test_speech_failures(fake: FakeOpenAI) -> None:
    fake.tts_script = TTSScript(fail_inputs={"BOOM"})
    async with async_client(fake) as client:
        ok = await client.audio.speech.create(model="t", voice="v", input="fine sentence")
        assert ok.content.startswith(b"RIFF")
        with pytest.raises(openai.InternalServerError):
            await client.audio.speech.create(model="t", voice="v", input="this BOOM fails")
        fake.tts_script = TTSScript(failure="status_500")
        with pytest.raises(openai.InternalServerError):
            await client.audio.speech.create(model="t", voice="v", input="fine sentence")


def test_transcription_returns_the_scripted_text(fake: FakeOpenAI) -> None:
    fake.asr_script = ASRScript(text="Kagura, sing for us!", latency_s=0.1)
    upload = b"RIFF" + bytes(range(256)) * 40 + b"\r\n--not-a-boundary\r\n"
    with sync_client(fake) as client:
        start = time.perf_counter()
        result = client.audio.transcriptions.create(
            model="whisper-1", file=("clip.wav", upload, "audio/wav"), language="ja"
        )
        elapsed = time.perf_counter() - start
        as_text = client.audio.transcriptions.create(
            model="whisper-1", file=("clip.wav", upload, "audio/wav"), response_format="text"
        )
    assert result.text == "Kagura, sing for us!"
    assert as_text.strip() == "Kagura, sing for us!"
    assert elapsed >= 0.09
    first = fake.transcription_requests()[0]
    assert first == {
        "model": "whisper-1",
        "language": "ja",
        "file_name": "clip.wav",
        "file_size": len(upload),
    }


async def test_transcription_failure(fake: FakeOpenAI) -> None:
    fake.asr_script = ASRScript(failure="status_500")
    async with async_client(fake) as client:
        with pytest.raises(openai.InternalServerError):
            await client.audio.transcriptions.create(model="w", file=("a.wav", b"RIFF"))


def test_models_lists_one_model(fake: FakeOpenAI) -> None:
    with sync_client(fake) as client:
        assert [m.id for m in client.models.list()] == [MODEL_ID]


@pytest.mark.parametrize(
    ("failure", "stream"), [("hang_before_headers", False), ("hang_after_first_chunk", True)]
)
def test_stop_with_a_hanging_request_in_flight(
    failure: LLMFailure, stream: bool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="uvicorn.error")
    errors: list[BaseException] = []
    fake = FakeOpenAI(script=LLMScript(failure=failure))
    fake.start()

    def call() -> None:
        try:
            with sync_client(fake, timeout=30.0) as client:
                response = client.chat.completions.create(
                    model="m", messages=MESSAGES, stream=stream
                )
                if isinstance(response, openai.Stream):
                    for _ in response:
                        pass
        except openai.APIError as exc:
            errors.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    deadline = time.monotonic() + 5.0
    while not fake.chat_requests() and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)
    assert caller.is_alive()  # still hanging

    start = time.perf_counter()
    fake.stop()
    # The hanging request was released, not cut by uvicorn's 1 s graceful-shutdown backstop
    # (which says so in its log), and the server thread ended within stop's first join.
    assert "timeout graceful shutdown exceeded" not in caplog.text
    assert time.perf_counter() - start < 2.0
    caller.join(timeout=3.0)
    assert not caller.is_alive()
    assert len(errors) == 1


def test_stop_is_idempotent_and_the_port_is_released() -> None:
    fake = FakeOpenAI()
    fake.start()
    port = fake.port
    fake.stop()
    fake.stop()
    with FakeOpenAI(port=port) as again:
        assert again.base_url == f"http://127.0.0.1:{port}/v1"
        with sync_client(again) as client:
            assert client.models.list().data[0].id == MODEL_ID
