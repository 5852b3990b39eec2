"""Every message the server sends, built in one place (protocol §1.2, §2, §3).

Names, field names and value types here are the wire contract with the Open-LLM-VTuber
frontend: change them only with the protocol document. Builders return plain dicts, ready
for `json.dumps`; `frame()` serialises once, the same way for every connection.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any, Literal

from kagura.audio import Speech, encode_wav, rms_volumes

from .frames import error

__all__ = ["error"]

Message = dict[str, Any]
Control = Literal[
    "start-mic",
    "stop-mic",
    "conversation-chain-start",
    "conversation-chain-end",
    "interrupt",
    "mic-audio-end",
]
SLICE_MS = 20
CONNECTED_TEXT = "Connection established"
THINKING_TEXT = "Thinking..."
PROACTIVE_TEXT = "AI wants to speak something..."


def frame(message: Message) -> str:
    """The text frame of a message (UTF-8 kept as is: Chinese stays readable and short)."""
    return json.dumps(message, ensure_ascii=False)


def control(text: Control) -> Message:
    return {"type": "control", "text": text}


def full_text(text: str) -> Message:
    """A status subtitle ("Connection established", "Thinking...")."""
    return {"type": "full-text", "text": text}


Simple = Literal["backend-synth-complete", "force-new-message", "heartbeat-ack"]


def simple(kind: Simple) -> Message:
    """A message that is nothing but its type."""
    return {"type": kind}


def audio(
    speech: Speech | None,
    *,
    text: str,
    name: str,
    avatar: str,
    expressions: Sequence[int | str],
    motions: Sequence[dict[str, Any]] = (),
    forwarded: bool = False,
) -> Message:
    """One segment: base64 WAV (or null for display only), lip-sync volumes, text, actions."""
    actions: dict[str, Any] = {}
    if expressions:
        actions["expressions"] = list(expressions)
    if motions:
        actions["motions"] = list(motions)
    payload: str | None = None
    volumes: list[float] = []
    if speech is not None and len(speech.samples) > 0:
        payload = base64.b64encode(encode_wav(speech)).decode("ascii")
        volumes = rms_volumes(speech, SLICE_MS)
    return {
        "type": "audio",
        "audio": payload,
        "volumes": volumes,
        "slice_length": SLICE_MS,
        "display_text": {"text": text, "name": name, "avatar": avatar},
        "actions": actions or None,
        "forwarded": forwarded,
    }


def more_audio(speech: Speech | None) -> Message:
    """More audio of the segment before (a voice that streams): `display_text` and `actions`
    null, so a client shows and performs nothing new, and plays it right after."""
    message = audio(speech, text="", name="", avatar="", expressions=())
    message["display_text"] = None
    return message


def transcription(
    text: str,
    *,
    name: str = "",
    platform: str = "",
    user_id: str = "",
    question: bool = False,
    unanswered: str = "",
) -> Message:
    """`user-input-transcription`: `text` is the whole line (all the original frontend
    shows); Kagura's pages also get the viewer's name, platform and platform id when known
    (the id is what the streamer bans from the chat log: `name:<name>` for a platform that
    gives none), and `question: true` on a viewer's words the reply answers, which the
    pages caption above the reply (`stage.show_question`). `unanswered` says why the
    streamer's words will not be answered (they did not name the character), so a client
    does not wait for a reply."""
    line: Message = {"type": "user-input-transcription", "text": text}
    if question:
        line["question"] = True
    if unanswered:
        line["unanswered"] = unanswered
    if name:
        line["name"] = name
    if platform:
        line["platform"] = platform
    if user_id:
        line["user_id"] = user_id
    return line


def interrupt_signal(heard: str) -> Message:
    return {"type": "interrupt-signal", "text": heard}


# -- replies to one client's requests ------------------------------------------------------


def model_and_conf(
    model_info: dict[str, Any], *, conf_name: str, conf_uid: str, client_uid: str
) -> Message:
    return {
        "type": "set-model-and-conf",
        "model_info": model_info,
        "conf_name": conf_name,
        "conf_uid": conf_uid,
        "client_uid": client_uid,
    }


def group_update() -> Message:
    """Kagura has no groups yet: every client is alone, which the frontend handles."""
    return {"type": "group-update", "members": [], "is_owner": False}


def group_operation_refused() -> Message:
    return {
        "type": "group-operation-result",
        "success": False,
        "message": "groups are not supported by this server",
    }


def config_files(configs: list[dict[str, str]]) -> Message:
    return {"type": "config-files", "configs": configs}


def config_switched(conf_name: str) -> Message:
    return {"type": "config-switched", "message": f"Switched to {conf_name}"}


def background_files(files: list[str]) -> Message:
    return {"type": "background-files", "files": files}


def history_list(histories: list[dict[str, Any]]) -> Message:
    return {"type": "history-list", "histories": histories}


def history_data(messages: list[dict[str, Any]]) -> Message:
    return {"type": "history-data", "messages": messages}


def new_history_created(history_uid: str) -> Message:
    return {"type": "new-history-created", "history_uid": history_uid}


def history_deleted(history_uid: str, success: bool) -> Message:
    return {"type": "history-deleted", "success": success, "history_uid": history_uid}


# -- the widget channel ----------------------------------------------------------------------


def receipt(message_id: str, sent: int) -> Message:
    """To a widget-channel sender at once: how many widgets its message was queued for."""
    return {"type": "receipt", "id": message_id, "sent": sent}


def delivery(message_id: str, sent: int, acked: int) -> Message:
    """To a widget-channel sender once every widget acknowledged or the ack timeout passed."""
    return {
        "type": "delivery",
        "id": message_id,
        "sent": sent,
        "acked": acked,
        "complete": acked == sent,
    }
