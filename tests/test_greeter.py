"""The greeter and the topic picker, pure: a scripted clock, no server."""

from __future__ import annotations

import itertools
import random

from kagura.memory import Note, Profile, ViewerKey
from kagura.stage import host_prompts as prompts
from kagura.stage.greeter import ARRIVAL_TTL_S, MAX_PENDING, Arrival, Greeter
from kagura.stage.topics import TopicPicker, topic_list

EVERY_S = 10.0


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def key(n: int) -> ViewerKey:
    return ViewerKey("bilibili", str(n))


def test_arrivals_are_greeted_in_batches_at_most_once_per_interval() -> None:
    clock = Clock()
    greeter = Greeter(clock)
    assert greeter.due_in(EVERY_S) is None  # nobody waits
    assert greeter.arrive(key(1), "Alice")
    assert not greeter.arrive(key(1), "Alice")  # already waits
    assert greeter.due_in(EVERY_S) == 0
    assert [a.name for a in greeter.take(EVERY_S, 50)] == ["Alice"]
    greeter.arrive(key(2), "Bob")
    greeter.arrive(key(3), "Cy")
    assert greeter.due_in(EVERY_S) == EVERY_S
    assert greeter.take(EVERY_S, 50) == []  # not due yet: they wait, batched
    clock.now += EVERY_S
    assert [a.name for a in greeter.take(EVERY_S, 50)] == ["Bob", "Cy"]
    assert not greeter.arrive(key(1), "Alice")  # never twice a stream
    greeter.new_stream()
    assert greeter.arrive(key(1), "Alice")  # the next stream greets her again


def test_greetings_stay_bounded_over_a_stream_of_200_arrivals() -> None:
    """200 viewers join over ten minutes, some twice; the runner asks every second."""
    clock = Clock()
    greeter = Greeter(clock)
    rng = random.Random(7)
    greeted: list[ViewerKey] = []
    times: list[float] = []
    for _ in range(600):
        if rng.random() < 0.5:
            greeter.arrive(key(rng.randint(1, 200)), "v")
        taken = greeter.take(EVERY_S, 5)
        if taken:
            times.append(clock.now)
            greeted += [a.key for a in taken]
        clock.now += 1.0
    assert len(greeted) == len(set(greeted))  # nobody twice
    assert all(b - a >= EVERY_S for a, b in itertools.pairwise(times))
    assert len(times) <= 600 / EVERY_S + 1


def test_answered_viewers_need_no_greeting_and_old_arrivals_expire() -> None:
    clock = Clock()
    greeter = Greeter(clock)
    greeter.arrive(key(1), "Alice")
    greeter.answered([key(1)])
    assert greeter.due_in(EVERY_S) is None
    assert not greeter.arrive(key(1), "Alice")
    greeter.arrive(key(2), "Bob")
    clock.now += ARRIVAL_TTL_S + 1
    assert greeter.take(EVERY_S, 50) == []
    assert greeter.dropped == 1


def test_the_waiting_list_is_bounded() -> None:
    greeter = Greeter(Clock())
    for n in range(MAX_PENDING + 10):
        greeter.arrive(key(n), "v")
    assert greeter.waiting == MAX_PENDING
    assert greeter.dropped == 10
    assert greeter.take(EVERY_S, 3)[0].key == key(10)  # the oldest went first


def test_no_topic_is_repeated_in_50_idle_turns() -> None:
    topics = [f"topic {n}" for n in range(30)] + ["topic 1", "  ", ""]
    picker = TopicPicker(random.Random(3))
    picked = [picker.pick(topics) for _ in range(50)]
    said = [topic for topic in picked if topic]
    assert len(said) == 30 == len(set(said))  # each once, then none
    assert picked[30:] == [""] * 20 and picker.used_up
    picker.new_stream()
    assert picker.pick(topics) in topic_list(topics)


def test_prompts_frame_names_and_memory_as_data() -> None:
    remembered = (Note(1, "fact", "cat\nMochi", 0.0),)
    profile = Profile(1, "bilibili", "1", "Alice", ("Alice",), 0.0, 0.0, 12, {}, remembered)
    line = prompts.regular("Alice", key(1), profile, ("Kagura",))
    assert line == "Alice on bilibili: you remember «cat Mochi»"
    newcomers = [Arrival(key(n), f"n{n}", 0.0) for n in range(8)] + [Arrival(key(9), "", 0.0)]
    text = prompts.greeting([line], 2, newcomers, 3, ("Kagura",))
    assert "- Alice on bilibili: you remember «cat Mochi»" in text
    assert "- and 2 more regulars" in text
    assert "n0 on bilibili, n1 on bilibili, n2 on bilibili and 6 others" in text
    assert prompts.greeting([], 0, [], 3, ()) == ""
    impostor = prompts.closing([("Kagura", 30.0), ("Bob", 5.0)], ("Kagura",))
    assert "Kagura (a viewer) (30), Bob (5)" in impostor


def test_with_patience_a_greeting_waits_until_its_oldest_arrival_has_waited() -> None:
    """On a busy stream (the host passes a patience) a newcomer is not greeted before the
    chat that was there first: only once they have waited that long."""
    clock = Clock()
    greeter = Greeter(clock)
    greeter.arrive(key(1), "Alice")
    assert greeter.due_in(EVERY_S, patience_s=3 * EVERY_S) == 3 * EVERY_S
    assert greeter.take(EVERY_S, 50, patience_s=3 * EVERY_S) == []
    clock.now += 3 * EVERY_S
    assert [a.name for a in greeter.take(EVERY_S, 50, patience_s=3 * EVERY_S)] == ["Alice"]
