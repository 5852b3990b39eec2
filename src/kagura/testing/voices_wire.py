"""What the fake voice servers check and answer, as the real servers do: pure functions.

Each check returns the real server's error answer, or None when the request would pass.
Sources: GPT-SoVITS `api_v2.py` (`check_params`, `tts_handle`), CosyVoice
`runtime/python/fastapi/server.py` (FastAPI `Form()` fields), Fish Speech
`fish_speech/utils/schema.py` (`ServeTTSRequest`), `tools/server/views.py` and
`exception_handler.py`, and Fish Audio's API reference (see `kagura.engines.tts` modules).
"""

from __future__ import annotations

import struct
from typing import Any
from urllib.parse import parse_qsl

from starlette.responses import JSONResponse, PlainTextResponse, Response

from .openai_wire import parse_multipart

# GPT-SoVITS v2's `tts_config.languages` and its text_segmentation_method names.
GPT_SOVITS_LANGUAGES = frozenset(
    {"auto", "auto_yue", "en", "zh", "ja", "yue", "ko", "all_zh", "all_ja", "all_yue", "all_ko"}
)
GPT_SOVITS_SPLITS = frozenset({"cut0", "cut1", "cut2", "cut3", "cut4", "cut5"})
GPT_SOVITS_MEDIA = frozenset({"wav", "raw", "ogg", "aac"})
# GPT-SoVITS's `TTS_Request` fields with the type pydantic holds them to.
GPT_SOVITS_TYPES: dict[str, tuple[type, ...]] = {
    "text": (str,),
    "text_lang": (str,),
    "ref_audio_path": (str,),
    "prompt_lang": (str,),
    "prompt_text": (str,),
    "top_k": (int,),
    "top_p": (int, float),
    "temperature": (int, float),
    "text_split_method": (str,),
    "speed_factor": (int, float),
    "media_type": (str,),
    "streaming_mode": (bool, int),
}
# The speakers of CosyVoice-300M-SFT's spk2info.
COSYVOICE_SPEAKERS = ("中文女", "中文男", "日语男", "粤语女", "英文女", "英文男", "韩语女")
FISH_FORMATS = frozenset({"wav", "pcm", "mp3", "opus"})
FISH_LATENCIES = frozenset({"normal", "balanced"})
HOSTED_LATENCIES = frozenset({"normal", "balanced", "low"})
GARBAGE_PAGE = "<html><head><title>Login</title></head><body>Sign in to continue</body></html>"
UVICORN_500 = "Internal Server Error"  # what uvicorn sends when an endpoint raises


def gpt_sovits_error(body: Any) -> Response | None:
    """`TTS_Request` validation (FastAPI's 422), then `check_params` in its order (400)."""
    if not isinstance(body, dict):
        return fastapi_422([_error("model_attributes_type", ["body"], "Input should be a dict")])
    for name, types in GPT_SOVITS_TYPES.items():
        value = body.get(name)
        if value is not None and (not isinstance(value, types) or _bool_for_number(value, types)):
            message = f"Input should be a valid {types[0].__name__}"
            return fastapi_422([_error(f"{types[0].__name__}_type", ["body", name], message)])
    for name in ("ref_audio_path", "text", "text_lang", "prompt_lang"):
        value = body.get(name)
        language = name in ("text_lang", "prompt_lang")
        if language and value and str(value).lower() not in GPT_SOVITS_LANGUAGES:
            return _message(f"{name}: {value} is not supported in version v2")
        if value in (None, ""):
            return _message(f"{name} is required")
    media = body.get("media_type", "wav")
    if media not in GPT_SOVITS_MEDIA:
        return _message(f"media_type: {media} is not supported")
    split = body.get("text_split_method", "cut5")
    if split not in GPT_SOVITS_SPLITS:
        return _message(f"text_split_method:{split} is not supported")
    if body.get("streaming_mode", False) not in (0, 1, 2, 3):
        return _message("the value of streaming_mode must be 0, 1, 2, 3(int) or true/false(bool)")
    return None


def gpt_sovits_failed(exception: str) -> JSONResponse:
    """`tts_handle`'s answer when synthesis raises before streaming starts."""
    return JSONResponse({"message": "tts failed", "Exception": exception}, status_code=400)


def cosyvoice_form(body: bytes, content_type: str) -> tuple[dict[str, str], dict[str, bytes]]:
    """Form fields and files of a urlencoded or multipart body, as FastAPI's `Form()` reads."""
    if content_type.startswith("multipart/form-data"):
        return parse_multipart(body, content_type)
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)), {}


def cosyvoice_error(
    fields: dict[str, str], files: dict[str, bytes], required: tuple[str, ...]
) -> Response | None:
    """FastAPI's 422 for every missing form field; an empty one counts as missing."""
    missing = [
        _error("missing", ["body", name], "Field required")
        for name in required
        if not (files.get(name) if name == "prompt_wav" else fields.get(name))
    ]
    return fastapi_422(missing) if missing else None


def fish_error(body: Any, *, hosted: bool) -> Response | None:
    """`ServeTTSRequest` as kui validates it (422: a bare list of errors), then the checks
    of the `/v1/tts` view (400 in the exception handler's shape)."""
    if not isinstance(body, dict) or not isinstance(body.get("text"), str):
        return JSONResponse([_error("missing", ["text"], "Field required", "body")], 422)
    checks = (
        ("format", body.get("format", "wav") in FISH_FORMATS),
        (
            "latency",
            body.get("latency", "normal") in (HOSTED_LATENCIES if hosted else FISH_LATENCIES),
        ),
        ("chunk_length", _int_between(body.get("chunk_length", 200), 100, 300 if hosted else 1000)),
        ("reference_id", isinstance(body.get("reference_id", ""), str | None)),
        ("streaming", isinstance(body.get("streaming", False), bool)),
        ("normalize", isinstance(body.get("normalize", True), bool)),
        ("sample_rate", body.get("sample_rate") is None or isinstance(body["sample_rate"], int)),
    )
    bad = [
        _error("value_error", [name], "Input is not valid", "body") for name, ok in checks if not ok
    ]
    if bad:
        return JSONResponse(bad, 422)
    if not hosted and body.get("streaming") and body.get("format", "wav") != "wav":
        return fish_exception(400, "Streaming only supports WAV format")
    return None


def fish_exception(status: int, message: str) -> JSONResponse:
    """Fish Speech's `http_exception_handler` answer."""
    phrases = {400: "Bad Request", 401: "Unauthorized", 500: "Internal Server Error"}
    body = {"statusCode": status, "message": message, "error": phrases.get(status, "Error")}
    return JSONResponse(body, status_code=status)


def fish_auth_error(authorization: str, key: str, *, hosted: bool) -> Response | None:
    """A missing or wrong bearer key: Fish Audio's 401 text or 402, the server's 401."""
    if authorization == f"Bearer {key}":
        return None
    if not hosted:
        return fish_exception(401, "Invalid token")
    if not authorization:
        return PlainTextResponse("No permission -- see authorization schemes", 401)
    body = {"status": 402, "message": "Invalid api key or insufficient balance"}
    return JSONResponse(body, status_code=402)


def fastapi_422(errors: list[dict[str, Any]]) -> JSONResponse:
    return JSONResponse({"detail": errors}, status_code=422)


def streamed_wav_header(sample_rate: int, placeholder: int) -> bytes:
    """A 16-bit mono WAV header whose RIFF and data sizes are `placeholder` (0 as Python's
    `wave` writes for zero frames, 0xFFFFFFFF as some streaming servers do)."""
    riff = placeholder if placeholder == 0xFFFFFFFF else 36 + placeholder
    fmt = struct.pack("<HHIIHH", 1, 1, sample_rate, sample_rate * 2, 2, 16)
    return (
        b"RIFF" + struct.pack("<I", riff) + b"WAVE"
        + b"fmt " + struct.pack("<I", len(fmt)) + fmt
        + b"data" + struct.pack("<I", placeholder)
    )  # fmt: skip


def _message(message: str) -> JSONResponse:
    return JSONResponse({"message": message}, status_code=400)


def _error(kind: str, loc: list[str], msg: str, where: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"type": kind, "loc": loc, "msg": msg, "input": None}
    if where is not None:
        error["in"] = where  # kui's addition
    return error


def _bool_for_number(value: Any, types: tuple[type, ...]) -> bool:
    """pydantic refuses true/false for an int or float field (but not for `bool | int`)."""
    return isinstance(value, bool) and bool not in types


def _int_between(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
