"""Cut a stream of LLM text into speakable segments, as early as correctness allows.

Time to first audio is how long we wait before handing text to TTS, so the first segment is
cut at the first clause boundary as soon as it is known to be one, however short: "Hello
there," leaves while the LLM is still writing the rest. Later segments end at sentence ends,
which sound more natural; they have time, because the audio ahead of them is still playing,
so they always look at the next character before deciding (see `boundaries`). A sentence
shorter than `short_words` waits to be spoken with the next one while at least `merge_ahead_s`
of audio is still to play, so short sentences do not come out as choppy separate clips.

A segment never ends inside an `[emotion]` tag; a piece with nothing to say (a tag alone,
"...") is carried into the next segment. A sentence that repeats an earlier one of the same
reply is dropped, and with `max_sentences` the reply ends after that many sentences.
`transcript()` is the text that was kept, for memory and history.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .boundaries import CLAUSE_MARKS, CLOSERS, ORPHANS, SENTENCE_MARKS, Verdict, boundary_end
from .text import TAG, has_speech, word_count

# A repeated sentence this short may be deliberate ("Yes! Yes!"); longer ones are dropped.
MIN_REPEAT_WORDS = 3
_NOT_WORD = re.compile(r"[\W_]+")


def _nothing_ahead() -> float:
    return 0.0


def sentence_key(text: str) -> str:
    """What makes two sentences the same: their words, whatever the case, tags or marks."""
    return _NOT_WORD.sub(" ", TAG.sub(" ", text)).strip().lower()


class Segmenter:
    """Feed chunks in, take finished segments out; `flush()` returns what is left at the end.

    `ahead` reports how many seconds of audio are still to play; short sentences are only
    held back while it is at least `merge_ahead_s`.
    """

    def __init__(
        self,
        max_chars: int = 220,
        *,
        short_words: int = 0,
        merge_ahead_s: float = 1.5,
        max_sentences: int = 0,
        ahead: Callable[[], float] = _nothing_ahead,
    ) -> None:
        self._max_chars = max_chars
        self._short_words = short_words
        self._merge_ahead_s = merge_ahead_s
        self._max_sentences = max_sentences
        self._ahead = ahead
        self._buffer = ""
        self._emitted = 0
        self._absorbing = False  # right after an eager cut: drop the rest of its marks
        self._partial = ""  # the sentence's text already sent (the first clause, a runaway)
        self._held = ""  # a short sentence waiting for the next one
        self._seen: set[str] = set()
        self._sentences = 0
        self._kept: list[str] = []
        self.done = False  # `max_sentences` reached: the rest of the reply is not wanted

    def feed(self, chunk: str) -> list[str]:
        if self.done:
            return []
        self._buffer += chunk
        if self._absorbing:  # neither spoken nor kept: the transcript is what was said
            self._buffer = self._buffer.lstrip(ORPHANS)
            self._absorbing = not self._buffer
        segments: list[str] = []
        while not self.done and (cut := self._find_cut()) is not None:
            piece, self._buffer = self._buffer[:cut], self._buffer[cut:]
            segments += self._take(piece)
        if self._held and (self.done or self._ahead() < self._merge_ahead_s):
            segments.append(self._release())
        return segments

    def flush(self) -> list[str]:
        """The end of the reply: what is left, and any sentence still held back."""
        segments = [] if self.done else self._take(self._buffer, final=True)
        self._buffer = ""
        if self._held:
            segments.append(self._release())
        self.done = True
        return segments

    def transcript(self) -> str:
        """The reply as kept: without dropped repeats and without what followed the cap."""
        return "".join([*self._kept, self._held]).strip()

    # -- deciding where to cut ----------------------------------------------------------

    def _find_cut(self) -> int | None:
        text = self._buffer
        first = self._emitted == 0
        marks = CLAUSE_MARKS if first else SENTENCE_MARKS
        depth = 0
        for i, char in enumerate(text):
            if char == "[":
                depth += 1
            elif char == "]":
                depth = max(0, depth - 1)
            if depth or char not in marks:
                continue
            end = boundary_end(text, i, eager=first)
            if end is Verdict.UNDECIDED:
                break
            if end is Verdict.NOT_A_BOUNDARY or not has_speech(text[:end]):
                continue  # a lone tag or "...": merge it into what follows
            if first and end == len(text):
                self._absorbing = True  # decided without seeing what follows
            return end
        return self._forced_cut()

    def _forced_cut(self) -> int | None:
        """A runaway segment with no punctuation is cut at the last space before the limit."""
        if len(self._buffer) < self._max_chars or not has_speech(self._buffer):
            return None
        space = self._buffer.rfind(" ", 0, self._max_chars)
        return space if space > 0 else self._max_chars

    # -- what to do with a piece ----------------------------------------------------------

    def _take(self, piece: str, final: bool = False) -> list[str]:
        """Emit, hold back or drop one piece: a sentence, or part of one (the first clause,
        a runaway cut)."""
        text = piece.strip()
        if not text:
            self._kept.append(piece)
            return []
        merged, self._held = self._held + piece, ""
        if not final and text.rstrip(CLOSERS)[-1:] not in tuple(SENTENCE_MARKS):
            self._partial = f"{self._partial} {text}"  # the sentence goes on in the next piece
            return self._emit(merged)
        sentence, self._partial = f"{self._partial} {text}", ""
        key = sentence_key(sentence)
        if key in self._seen and word_count(sentence) >= MIN_REPEAT_WORDS:
            self._held = merged[: len(merged) - len(piece)]
            return []  # said already in this reply: not spoken, not remembered
        self._seen.add(key)
        if has_speech(text):
            self._sentences += 1
        if self._max_sentences and self._sentences >= self._max_sentences:
            self.done = True
            self._buffer = ""
        if (
            self._emitted > 0
            and not (self.done or final)
            and 0 < word_count(merged) < self._short_words
            and self._ahead() >= self._merge_ahead_s
        ):
            self._held = merged
            return []
        return self._emit(merged)

    def _emit(self, piece: str) -> list[str]:
        self._kept.append(piece)
        self._emitted += 1
        return [piece.strip()]

    def _release(self) -> str:
        held, self._held = self._held, ""
        return self._emit(held)[0]
