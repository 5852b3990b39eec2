"""What the fake OpenAI server is told to do: replies, speed, failures; and what it recorded."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

LLMFailure = Literal[
    "status_500", "hang_before_headers", "hang_after_first_chunk", "cut_mid_stream", "refuse"
]


@dataclass
class LLMScript:
    """How the fake answers chat completions.

    `reply` may be a function of the request body, e.g. `echo_last_user`. It is streamed as
    `split_tokens(reply)`: the first token `ttft_s` after the request arrives, the rest at
    `tokens_per_s` (`inf` or `<= 0`: all at once). `failure` applies to the first `fail_times`
    requests after the script is set, or to all of them when `fail_times` is None. "refuse" and
    "status_500" answer 500; a hang lasts until the client leaves or the fake stops; a cut drops
    the connection after about half of the tokens. Without `stream`, "hang_after_first_chunk"
    hangs before the headers and "cut_mid_stream" drops the connection halfway through the JSON.
    """

    reply: str | Callable[[dict[str, Any]], str] = "Hello there, friend. [joy] Nice day!"
    ttft_s: float = 0.02
    tokens_per_s: float = 200.0
    failure: LLMFailure | None = None
    fail_times: int | None = None


@dataclass
class TTSScript:
    """How the fake answers `/v1/audio/speech`: a tone whose length follows the input's length.

    The tone's loudness swings a few times a second, so lip-sync code has varying RMS to follow.
    An input containing any of `fail_inputs` gets a 500, so a test can fail a single segment.
    With `stream_chunk_s` the WAV is streamed in chunks, as streaming servers send it.
    `bad_wav` answers 200 with a WAV cut off inside its header: a server bug, not an error.
    """

    latency_s: float = 0.02
    sample_rate: int = 22050
    seconds_per_char: float = 0.06
    # Streamed like Kokoro-FastAPI: no length, a WAV header with placeholder sizes, then this
    # much audio a chunk, `chunk_gap_s` apart. None: the whole WAV at once, with its length.
    stream_chunk_s: float | None = None
    chunk_gap_s: float = 0.0
    failure: Literal["status_500", "bad_wav"] | None = None
    fail_inputs: set[str] = field(default_factory=set)


@dataclass
class ASRScript:
    """How the fake answers `/v1/audio/transcriptions`."""

    text: str = "Hello Kagura, how are you today?"
    latency_s: float = 0.02
    failure: Literal["status_500"] | None = None


@dataclass
class EmbeddingsScript:
    """How the fake answers `/v1/embeddings`: each text's words hashed into `dim` buckets
    (texts sharing words are close; no meaning beyond that)."""

    dim: int = 64
    latency_s: float = 0.0
    failure: Literal["status_500", "garbage"] | None = None


class RecordedRequest(NamedTuple):
    """A request as the fake saw it: the JSON body, or form fields plus file_name and file_size."""

    path: str
    body: dict[str, Any]
    authorization: str = ""
    at: float = 0.0  # when it arrived (`time.monotonic()`)
