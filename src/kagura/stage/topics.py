"""Idle talk's topics: each of the character's topics at most once a stream.

Pure, with an injected random source. When every topic was used, `pick` returns "" for the
rest of the stream and the host draws idle talk from memory instead (or leaves the subject
to the character): a topic is never repeated within a stream, as the streamer asked. The
show's start (`new_stream`) makes every topic new again.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

MAX_TOPIC_CHARS = 200
MAX_TOPICS = 1_000  # topics read from a character file; the rest are ignored


def topic_list(topics: Sequence[str]) -> list[str]:
    """The character's topics, trimmed, without blanks or repeats, bounded."""
    cleaned = (topic.strip()[:MAX_TOPIC_CHARS] for topic in topics[:MAX_TOPICS])
    return list(dict.fromkeys(topic for topic in cleaned if topic))


class TopicPicker:
    def __init__(self, rng: random.Random | None = None) -> None:
        self._rng = rng or random.Random()
        self._used: set[str] = set()
        self.used_up = False  # every topic was said this stream

    def pick(self, topics: Sequence[str]) -> str:
        """A topic not used this stream, by chance; "" when there is none left (or none)."""
        fresh = [topic for topic in topic_list(topics) if topic not in self._used]
        if not fresh:
            self.used_up = bool(topics)
            return ""
        topic = self._rng.choice(fresh)
        self._used.add(topic)
        return topic

    def new_stream(self) -> None:
        self._used.clear()
        self.used_up = False

    @property
    def used(self) -> int:
        return len(self._used)
