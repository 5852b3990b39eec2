"""The bytes the fake OpenAI server sends: tokens, SSE frames, completions, tone WAVs.

Pure functions, kept apart from the server so its timing and failure logic reads on its own.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import math
import re
import time
import uuid
import wave
from typing import Any

import numpy as np
from starlette.responses import JSONResponse

MODEL_ID = "fake-model"
Frames = list[tuple[float, bytes]]  # (due time on the server's loop clock, bytes to send)


# Chinese and Japanese come one or two characters per token, as real tokenizers cut them.
_CJK_CHARS = "\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af"
_TOKEN = re.compile(rf"\s*(?:[{_CJK_CHARS}]{{1,2}}|[^\W{_CJK_CHARS}]{{1,6}}|[^\w\s])|\s+")


def split_tokens(text: str) -> list[str]:
    """Split text roughly as a tokenizer would: word pieces that carry their leading space,
    CJK text in pairs of characters.

    The pieces join back into `text` exactly, which is what streaming clients rely on.
    """
    return _TOKEN.findall(text)


def echo_last_user(body: dict[str, Any]) -> str:
    """A `LLMScript.reply` that repeats the last user message, so tests can see what was sent;
    a viewer's line on the stage is repeated without its frame (what is inside « »)."""
    for message in reversed(body.get("messages", [])):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content", "")
            if isinstance(content, list):  # content parts: [{"type": "text", "text": ...}]
                return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
            text = str(content)
            quoted = re.fullmatch(r"[^«\n]*«(.*)»", text)
            return quoted.group(1) if quoted else text
    return ""


@functools.lru_cache(maxsize=32)
def tone_pcm(n_samples: int, sample_rate: int) -> bytes:
    """16-bit LE mono: a 220 Hz tone whose loudness swings 3 times a second between 10% and 100%."""
    t = np.arange(n_samples, dtype=np.float64) / sample_rate
    envelope = 0.55 - 0.45 * np.cos(2 * np.pi * 3.0 * t)
    fade = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.01)  # 10 ms ramps avoid clicks
    signal = 0.5 * envelope * fade * np.sin(2 * np.pi * 220.0 * t)
    return (signal * 32767).astype("<i2").tobytes()


def wav_bytes(pcm: bytes, sample_rate: int) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(pcm)
    return buffer.getvalue()


def parse_multipart(body: bytes, content_type: str) -> tuple[dict[str, str], dict[str, bytes]]:
    """Text fields and file contents (by field name) of a multipart/form-data body.

    Hand-rolled because Starlette's form parser needs python-multipart, which Kagura doesn't ship.
    """
    boundary = re.search(r'boundary="?([^";]+)"?', content_type)
    fields: dict[str, str] = {}
    files: dict[str, bytes] = {}
    parts = body.split(b"--" + boundary.group(1).encode())[1:] if boundary else []
    for part in parts:
        head, _, data = part.partition(b"\r\n\r\n")
        name = re.search(r'[;\s]name="([^"]*)"', head.decode("latin-1"))
        filename = re.search(r'filename="([^"]*)"', head.decode("latin-1"))
        data = data.removesuffix(b"\r\n")
        if part.startswith(b"--") or name is None:
            continue
        if filename is None:
            fields[name.group(1)] = data.decode("utf-8", "replace")
        else:
            fields["file_name"] = filename.group(1)
            files[name.group(1)] = data
    return fields, files


def error_response(status: int, message: str, code: str | None = None) -> JSONResponse:
    body = {"error": {"message": message, "type": "server_error", "param": None, "code": code}}
    return JSONResponse(body, status_code=status)


def shutting_down() -> JSONResponse:
    return error_response(503, "The fake server is shutting down.")


def sse(payload: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(payload, separators=(",", ":")).encode() + b"\n\n"


def chat_frames(body: dict[str, Any], reply: str, first: float, interval: float) -> Frames:
    """The SSE frames of a streamed completion, encoded up front so sending costs nothing."""
    tokens = split_tokens(reply)
    base: dict[str, Any] = {"id": f"chatcmpl-{uuid.uuid4().hex[:24]}"}
    base |= {"object": "chat.completion.chunk"}
    base |= {"created": int(time.time()), "model": str(body.get("model", MODEL_ID))}
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
    if include_usage:
        base["usage"] = None

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return sse({**base, "choices": [choice]})

    # The role chunk goes out together with the first token, as OpenAI's does.
    frames = [(first, chunk({"role": "assistant", "content": ""}))]
    frames += [(first + i * interval, chunk({"content": t})) for i, t in enumerate(tokens)]
    ending = chunk({}, "stop")
    if include_usage:  # OpenAI's extra last chunk: no choices, only the usage
        ending += sse({**base, "choices": [], "usage": usage(body, tokens)})
    frames.append((frames[-1][0], ending + b"data: [DONE]\n\n"))
    return frames


def chat_json(body: dict[str, Any], reply: str) -> bytes:
    message = {"role": "assistant", "content": reply, "refusal": None}
    choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"}
    completion: dict[str, Any] = {"id": f"chatcmpl-{uuid.uuid4().hex[:24]}"}
    completion |= {"object": "chat.completion"}
    completion |= {"created": int(time.time()), "model": str(body.get("model", MODEL_ID))}
    completion |= {"choices": [choice], "usage": usage(body, split_tokens(reply))}
    return json.dumps(completion).encode()


def usage(body: dict[str, Any], tokens: list[str]) -> dict[str, int]:
    contents = [m.get("content") for m in body.get("messages", []) if isinstance(m, dict)]
    prompt = sum(len(split_tokens(c)) for c in contents if isinstance(c, str))
    total = prompt + len(tokens)
    return {"prompt_tokens": prompt, "completion_tokens": len(tokens), "total_tokens": total}


def hashed_embedding(text: str, dim: int) -> list[float]:
    """A deterministic unit vector of `text`'s words (and of its CJK characters), each word
    hashed into one of `dim` buckets."""
    vector = [0.0] * dim
    words = re.findall(r"[^\W_]+", text.casefold())
    for word in words + [c for c in text if "\u4e00" <= c <= "\u9fff"]:
        digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
        vector[int.from_bytes(digest[:4], "little") % dim] += 1.0 if digest[4] & 1 else -1.0
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [x / norm for x in vector]


def embeddings_response(body: dict[str, Any], dim: int, failure: str | None) -> JSONResponse:
    """An `/embeddings` answer: each input's `hashed_embedding`, or the scripted failure."""
    if failure == "status_500":
        return error_response(500, "The fake server was scripted to fail these embeddings.")
    if failure == "garbage":
        return JSONResponse({"data": [{"embedding": "not a vector"}]})
    texts = body.get("input", [])
    texts = [texts] if isinstance(texts, str) else list(texts)
    data = [
        {"object": "embedding", "index": i, "embedding": hashed_embedding(str(t), dim)}
        for i, t in enumerate(texts)
    ]
    usage = {"prompt_tokens": 0, "total_tokens": 0}
    answer = {"object": "list", "data": data, "model": body.get("model"), "usage": usage}
    return JSONResponse(answer)
