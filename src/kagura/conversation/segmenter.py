"""Cut a stream of LLM text into speakable segments.

Time to first audio is dominated by how long we wait before handing text to TTS. The first
segment is cut at the first clause boundary (a comma is enough) once it has a few words;
later segments are cut at sentence ends, which sound more natural. A segment never ends
inside an `[emotion]` tag, and a piece with nothing to say (only a tag or punctuation) is
carried into the next segment rather than sent alone.
"""

from __future__ import annotations

from enum import Enum

from .text import has_speech, word_count

SENTENCE_END = ".!?…。！？\n"
CLAUSE_END = SENTENCE_END + ",;:，、；：—"
# These end a segment without a following space (CJK text has none).
IMMEDIATE_END = "。！？，、；：…\n"
CLOSERS = "\"'”’)）」』"


class _Verdict(Enum):
    NOT_A_BOUNDARY = 1
    UNDECIDED = 2  # punctuation at the end of the buffer: the next chunk decides


class Segmenter:
    """Feed chunks in, take finished segments out; `flush()` returns what is left at the end."""

    def __init__(self, first_min_words: int = 3, max_chars: int = 220) -> None:
        self._first_min_words = first_min_words
        self._max_chars = max_chars
        self._buffer = ""
        self._emitted = 0

    def feed(self, chunk: str) -> list[str]:
        self._buffer += chunk
        segments: list[str] = []
        while (cut := self._find_cut()) is not None:
            piece, self._buffer = self._buffer[:cut].strip(), self._buffer[cut:]
            segments.append(piece)
            self._emitted += 1
        return segments

    def flush(self) -> list[str]:
        piece, self._buffer = self._buffer.strip(), ""
        if not piece:
            return []
        self._emitted += 1
        return [piece]

    def _find_cut(self) -> int | None:
        text = self._buffer
        boundaries = CLAUSE_END if self._emitted == 0 else SENTENCE_END
        depth = 0
        for i, char in enumerate(text):
            if char == "[":
                depth += 1
            elif char == "]":
                depth = max(0, depth - 1)
            if depth or char not in boundaries:
                continue
            end = self._boundary_end(text, i)
            if end is _Verdict.UNDECIDED:
                break
            if end is _Verdict.NOT_A_BOUNDARY:
                continue
            piece = text[:end]
            if not has_speech(piece):
                continue  # a lone tag or "...": merge it into what follows
            if self._emitted == 0 and word_count(piece) < self._first_min_words:
                continue
            return end
        return self._forced_cut()

    @staticmethod
    def _boundary_end(text: str, i: int) -> int | _Verdict:
        """Where a segment ending at the punctuation at `i` really ends."""
        mark = text[i]
        j = i + 1
        while j < len(text) and text[j] == mark:  # "...", "!!"
            j += 1
        while j < len(text) and text[j] in CLOSERS:
            j += 1
        if mark in IMMEDIATE_END:
            return j
        if j == len(text):
            return _Verdict.UNDECIDED
        if text[j].isspace():
            return j
        return _Verdict.NOT_A_BOUNDARY  # "3.14", "e.g.x", "Hi,there"

    def _forced_cut(self) -> int | None:
        """A runaway segment with no punctuation is cut at the last space before the limit."""
        if len(self._buffer) < self._max_chars or not has_speech(self._buffer):
            return None
        space = self._buffer.rfind(" ", 0, self._max_chars)
        return space if space > 0 else self._max_chars
