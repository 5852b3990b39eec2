"""The performer's audio timeline: reply segments queued back to back, pulled by a sink.

This is `player.js` in Python. Segments play in arrival order on one timeline counted in
frames at `RATE`; the sink (a sound device, or the WAV file of the tests) pulls frames from
it at the pace it really plays them, so `position()` is what is being heard *now*, and the
mouth and the emotion of each segment follow it instead of the arrival of the messages.

A sound device pulls silence when nothing is queued (time goes on, as a WebAudio clock's
does); the file sink pulls only audio, so its file holds exactly what was said. The sink
pulls from its own thread (PortAudio's callback), hence the lock: every method is short.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from kagura.audio import Speech, resample

log = logging.getLogger(__name__)

RATE = 48_000  # what every sound device plays; each segment is resampled to it once
MAX_QUEUED_S = 600.0  # audio waiting to be played; a segment beyond it is dropped (and said)
DRAIN_SLACK_S = 5.0  # a wait for the end of the audio gives the sink this long beyond it
DRAIN_POLL_S = 0.02

Samples = npt.NDArray[np.float32]


@dataclass(eq=False)
class Segment:
    """One `audio` payload on the timeline: frames [start, end) at `RATE`."""

    turn: int
    start: int
    end: int
    samples: Samples
    volumes: list[float]
    slice_frames: float  # timeline frames per lip-sync value
    emotion: str | None  # what the segment performs when it starts (None: nothing new)
    continued: bool  # more audio of the segment before: performs nothing
    announced: bool = field(default=False)


class Player:
    """The queue and its clock. `generation` changes on `stop()`, so a wait for audio that
    was cut knows it was not played."""

    def __init__(self, rate: int = RATE) -> None:
        self.rate = rate
        self.latency_frames = 0  # how far behind the pulled frames the listener is
        self.generation = 0
        self.turn = 0
        self._lock = threading.Lock()
        self._segments: list[Segment] = []
        self._pulled = 0  # frames the sink has taken (silence included)
        self._end = 0  # where the last queued segment ends

    # -- the stage's side ------------------------------------------------------------------

    def new_turn(self) -> None:
        """A new reply begins: its segments are tagged with it."""
        with self._lock:
            self.turn += 1

    def enqueue(
        self,
        speech: Speech | None,
        *,
        volumes: list[float],
        slice_ms: float,
        emotion: str | None,
        continued: bool,
    ) -> Segment | None:
        """Queue one payload to play after everything queued; `speech` None performs the
        segment's emotion in its turn and takes no time (the voice failed for it)."""
        samples = _at_rate(speech, self.rate) if speech is not None else np.zeros(0, np.float32)
        with self._lock:
            queued_s = (self._end - self._pulled) / self.rate
            if queued_s + len(samples) / self.rate > MAX_QUEUED_S:
                log.warning("dropped a segment: %.0f s of audio are already queued", queued_s)
                return None
            start = max(self._pulled, self._end)
            segment = Segment(
                turn=self.turn,
                start=start,
                end=start + len(samples),
                samples=samples,
                volumes=volumes,
                slice_frames=max(1.0, slice_ms * self.rate / 1000),
                emotion=emotion,
                continued=continued,
            )
            self._segments.append(segment)
            self._end = segment.end
            return segment

    def stop(self) -> None:
        """Stop at once: what is playing and everything queued."""
        with self._lock:
            self.generation += 1
            self._segments.clear()
            self._end = self._pulled

    # -- the sink's side -------------------------------------------------------------------

    def read(self, frames: int, *, pad: bool) -> Samples:
        """The next `frames` frames to play. With `pad` silence fills what nothing covers (a
        device); without, only queued audio is returned, possibly fewer frames (a file)."""
        with self._lock:
            start = self._pulled
            if not pad:
                frames = max(0, min(frames, self._end - start))
            out = np.zeros(frames, np.float32)
            stop = start + frames
            for segment in self._segments:
                if segment.end <= start or segment.start >= stop:
                    continue
                lo, hi = max(start, segment.start), min(stop, segment.end)
                out[lo - start : hi - start] = segment.samples[
                    lo - segment.start : hi - segment.start
                ]
            self._pulled = stop
            return out

    # -- what is heard now -----------------------------------------------------------------

    def position(self) -> int:
        """The frame the listener hears now."""
        return max(0, self._pulled - self.latency_frames)

    @property
    def busy(self) -> bool:
        """Something is queued or still being heard."""
        with self._lock:
            return self.position() < self._end

    def mouth(self) -> float:
        """The mouth opening (0..1) now, from the playing segment's volumes."""
        with self._lock:
            now = self.position()
            for segment in self._segments:
                if segment.start <= now < segment.end:
                    index = int((now - segment.start) / segment.slice_frames)
                    value = segment.volumes[index] if index < len(segment.volumes) else 0.0
                    return float(min(1.0, max(0.0, value)))
            return 0.0

    def started(self) -> list[Segment]:
        """Segments whose audio has begun since the last call (their emotion is due now);
        finished ones are forgotten, so the list stays short on a long stream."""
        with self._lock:
            now = self.position()
            due = [s for s in self._segments if not s.announced and s.start <= now]
            for segment in due:
                segment.announced = True
            self._segments = [s for s in self._segments if not (s.announced and s.end <= now)]
            return [s for s in due if not s.continued]

    async def drained(self, generation: int | None = None) -> bool:
        """Wait until everything queued so far has been heard; False if it was stopped
        first (or the sink stalled: the wait is bounded by the audio's length)."""
        generation = self.generation if generation is None else generation
        with self._lock:
            target = self._end
            left_s = (target - self.position()) / self.rate
        deadline = time.monotonic() + max(0.0, left_s) + DRAIN_SLACK_S
        while generation == self.generation and self.position() < target:
            if time.monotonic() > deadline:
                log.warning("the sound output stopped playing; the reply counts as played")
                break
            await asyncio.sleep(DRAIN_POLL_S)
        return generation == self.generation


def _at_rate(speech: Speech, rate: int) -> Samples:
    floats = speech.samples.astype(np.float32) / 32768
    return resample(floats, speech.sample_rate, rate)
