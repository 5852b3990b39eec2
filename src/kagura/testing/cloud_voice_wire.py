"""The wire formats of the hosted voices, as their services write and read them: for the fake.

Written here from the services' documentation and edge-tts's reader, not from Kagura's
engines, so a mistake in an engine shows up as a failing test:

- SSML (Azure's body, Edge's `Path:ssml` frame) is parsed with ElementTree: a document that
  is not well-formed, names no voice or carries markup a viewer smuggled in is refused.
- Edge's frames: text messages are `Header:value` lines, a blank line, then the body;
  binary ones start with the header block's length (two bytes, big-endian), then the
  `\\r\\n`-ended header lines, then the MP3 bytes.
- MP3 is made with LAME (`lameenc`, a test dependency): 24 kHz mono at 48 kbit/s, the
  `audio-24khz-48kbitrate-mono-mp3` that edge-tts asks for.
"""

from __future__ import annotations

import json
import re
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

SYNTHESIS = "{http://www.w3.org/2001/10/synthesis}"
MSTTS = "{https://www.w3.org/2001/mstts}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
EDGE_FORMAT = "audio-24khz-48kbitrate-mono-mp3"
EDGE_RATE = 24000
EDGE_BITRATE_KBPS = 48
# Edge's voice names as its service takes them ("zh-CN-XiaoxiaoNeural" is spelled this way).
EDGE_VOICE = re.compile(
    r"^Microsoft Server Speech Text to Speech Voice \(([a-z]{2,}-[A-Z]{2,}[^,]*), (.+)\)$"
)


class WireError(ValueError):
    """A request the real service would refuse; the message says what is wrong."""


@dataclass(frozen=True)
class Ssml:
    voice: str
    text: str
    lang: str
    prosody: dict[str, str]
    style: str | None


def parse_ssml(document: str) -> Ssml:
    """The voice, text and settings of a `speak` document with one voice."""
    try:
        root = ET.fromstring(document)
    except ET.ParseError as exc:
        raise WireError(f"SSML is not well-formed: {exc}") from None
    if root.tag != f"{SYNTHESIS}speak" or root.get("version") != "1.0":
        raise WireError(f"SSML root is {root.tag} (version {root.get('version')}), not speak 1.0")
    voices = root.findall(f"{SYNTHESIS}voice")
    if len(voices) != 1 or not voices[0].get("name"):
        raise WireError("SSML must name exactly one voice")
    voice = voices[0]
    style_element = voice.find(f"{MSTTS}express-as")
    holder = style_element if style_element is not None else voice
    prosodies = holder.findall(f"{SYNTHESIS}prosody")
    prosody = prosodies[0] if len(prosodies) == 1 else None
    container = prosody if prosody is not None else holder
    if len(container):
        tags = ", ".join(child.tag for child in container)
        raise WireError(f"the text holds markup ({tags}): was it escaped?")
    return Ssml(
        voice=str(voice.get("name")),
        text="".join(container.itertext()),
        lang=root.get(XML_LANG, ""),
        prosody=dict(prosody.attrib) if prosody is not None else {},
        style=style_element.get("style") if style_element is not None else None,
    )


# --- Edge's frames ------------------------------------------------------------------------


def parse_text_frame(frame: str) -> tuple[dict[str, str], str]:
    """Headers and body of a text message (`Path:speech.config`, `Path:ssml`)."""
    head, separator, body = frame.partition("\r\n\r\n")
    if not separator:
        raise WireError("a text frame without the blank line after its headers")
    headers: dict[str, str] = {}
    for line in head.split("\r\n"):
        key, colon, value = line.partition(":")
        if not colon:
            raise WireError(f"a header line without a colon: {line[:60]!r}")
        headers[key] = value
    return headers, body


def text_frame(request_id: str, path: str, body: dict[str, Any]) -> str:
    return (
        f"X-RequestId:{request_id}\r\nContent-Type:application/json; charset=utf-8\r\n"
        f"Path:{path}\r\n\r\n{json.dumps(body)}"
    )


def audio_frame(request_id: str, stream_id: str, mp3: bytes) -> bytes:
    """A binary `Path:audio` message; an empty one (no Content-Type) ends the audio."""
    content_type = "Content-Type:audio/mpeg\r\n" if mp3 else ""
    head = f"X-RequestId:{request_id}\r\n{content_type}X-StreamId:{stream_id}\r\nPath:audio\r\n"
    encoded = head.encode()
    return len(encoded).to_bytes(2, "big") + encoded + mp3


def sentence_boundary(request_id: str, text: str, duration_s: float) -> str:
    ticks = round(duration_s * 10_000_000)  # the service counts 100 ns ticks
    data = {"Offset": 1_000_000, "Duration": ticks, "text": {"Text": text, "Length": len(text)}}
    body = {"Metadata": [{"Type": "SentenceBoundary", "Data": data}]}
    return text_frame(request_id, "audio.metadata", body)


def new_id() -> str:
    return uuid.uuid4().hex


# --- audio --------------------------------------------------------------------------------


def mp3_of(pcm: bytes) -> bytes:
    """16-bit mono PCM at 24 kHz as Edge's MP3 (LAME, 48 kbit/s)."""
    try:
        import lameenc
    except ImportError:
        raise RuntimeError("the fake's MP3 needs lameenc (uv sync --group dev)") from None
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(EDGE_BITRATE_KBPS)
    encoder.set_in_sample_rate(EDGE_RATE)
    encoder.set_channels(1)
    encoder.set_quality(7)  # fast: the fake's sound only has to decode
    return bytes(encoder.encode(pcm)) + bytes(encoder.flush())


def split(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)] or [b""]
