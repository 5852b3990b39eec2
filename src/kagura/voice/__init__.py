"""Voice input: endpointing (VAD, pre-roll, end of turn), barge-in, and what they report.

`VoiceInput` is one speaker's chain; `kagura.server` feeds it the frames of a connection and
acts on its events (a private session starts a turn; the stage queues the streamer's words).
"""

from .input import (
    Interruption,
    Sink,
    Speaking,
    TurnTiming,
    Utterance,
    VoiceEngines,
    VoiceEvent,
    VoiceFailed,
    VoiceInput,
)

__all__ = [
    "Interruption",
    "Sink",
    "Speaking",
    "TurnTiming",
    "Utterance",
    "VoiceEngines",
    "VoiceEvent",
    "VoiceFailed",
    "VoiceInput",
]
