"""The one place that builds the `audio` message the Open-LLM-VTuber frontend plays."""

from __future__ import annotations

import base64
from typing import Any

from kagura.audio import Speech, encode_wav, rms_volumes

SLICE_MS = 20


def audio_message(
    speech: Speech | None,
    *,
    text: str,
    name: str,
    avatar: str,
    expressions: list[int | str],
    motions: list[dict[str, Any]] | None = None,
    forwarded: bool = False,
) -> dict[str, Any]:
    """One segment: base64 WAV (or null for display only), lip-sync volumes, text, actions."""
    actions: dict[str, Any] = {}
    if expressions:
        actions["expressions"] = expressions
    if motions:
        actions["motions"] = motions
    audio: str | None = None
    volumes: list[float] = []
    if speech is not None and len(speech.samples) > 0:
        audio = base64.b64encode(encode_wav(speech)).decode("ascii")
        volumes = rms_volumes(speech, SLICE_MS)
    return {
        "type": "audio",
        "audio": audio,
        "volumes": volumes,
        "slice_length": SLICE_MS,
        "display_text": {"text": text, "name": name, "avatar": avatar},
        "actions": actions or None,
        "forwarded": forwarded,
    }
