"""The co-host's own turns: greeting who arrives, opening and closing the show, idle topics.

The stage's runner asks `next_turn` before it takes chat: the show's opening or closing (the
streamer asked for it) comes first; a greeting comes when no chat waits (a greeting never
delays a viewer's message, and a viewer answered by name needs no greeting), at most once
every `stage.greet_every_s`, before idle talk. Idle talk asks `idle_turn`.
Each is an LLM turn with a prompt in Kagura's own words (`host_prompts`), proactive: nobody
asked, and none of it is written to the history as a viewer's message.

Memory lookups are bounded (`LOOKUP_TIMEOUT_S`) and part of the turn they serve, so a slow
disk delays that greeting, never the chat behind it. Everything kept per stream is bounded:
the greeter's lists, the supporters (`MAX_SUPPORTERS`), what each viewer's payments counted
for (`amounts`), the notes used for idle talk.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Coroutine, Iterable, Sequence
from typing import Any, Literal

from kagura.config import StageConfig
from kagura.conversation.conversation import Conversation, TurnInput
from kagura.conversation.long_term.memory import scope_of
from kagura.memory import Note, Profile, ViewerKey

from . import host_prompts as prompts
from .amounts import AmountCaps
from .events import ChatEvent, Lane
from .greeter import Arrival, Clock, Greeter
from .policy import FloodPolicy
from .topics import TopicPicker

log = logging.getLogger(__name__)

ShowState = Literal["start", "end"]
# Platform events (`source.kind`) that start and end the show.
SHOW_KINDS: dict[str, ShowState] = {"live_start": "start", "live_end": "end"}
LOOKUP_TIMEOUT_S = 0.5  # a memory lookup for a greeting or a topic; skipped past it
MAX_GREETED_PER_TURN = 50  # arrivals looked up for one greeting; the rest wait for the next
BUSY_GREETING_FACTOR = 3  # while chat waits, a greeting at most every 3 intervals
MAX_SUPPORTERS = 10_000  # viewers whose support this stream is counted
TOP_SUPPORTERS = 3
MAX_NOTES_LOOKED_AT = 500  # notes read for the last stream's summary, or an idle topic
MAX_USED_NOTES = 1_000


class Supporters:
    """What each viewer paid this stream, for the goodbye. Amounts of different currencies
    are added as numbers: a stream is mostly in one currency."""

    def __init__(self) -> None:
        self._paid: dict[ViewerKey, tuple[str, float]] = {}

    def add(self, key: ViewerKey, name: str, amount: float) -> None:
        _, total = self._paid.get(key, (name, 0.0))
        if key in self._paid or len(self._paid) < MAX_SUPPORTERS:
            self._paid[key] = (name, total + amount)

    def remove(self, key: ViewerKey) -> None:
        self._paid.pop(key, None)

    def top(self, count: int) -> list[tuple[str, float]]:
        ranked = sorted(self._paid.values(), key=lambda entry: entry[1], reverse=True)
        return ranked[:count]

    def clear(self) -> None:
        self._paid.clear()


class Host:
    def __init__(
        self,
        conversation: Conversation,
        policy: FloodPolicy,
        config: StageConfig,
        wake: Callable[[], None],
        clock: Clock = time.monotonic,
    ) -> None:
        self.conversation = conversation
        self.policy = policy
        self.config = config
        self._wake = wake
        self.greeter = Greeter(clock)
        self.topics = TopicPicker()
        self.supporters = Supporters()
        # What claimed amounts may count for, this stream (`amounts`): read before anything
        # else sees an event's amount.
        self.amounts = AmountCaps(config)
        self._shows: deque[ShowState] = deque(maxlen=2)  # asked for, not yet performed
        self.show_state: ShowState | None = None  # the last one performed (None: not yet)
        # Viewers first seen by memory before this moment are regulars (epoch seconds).
        self.stream_began = time.time()
        self._blocked = frozenset(u.strip().casefold() for u in config.blocked_users) - {""}
        self._used_notes: OrderedDict[int, None] = OrderedDict()
        self._said_used_up = False

    # -- what the stage tells the host -------------------------------------------------------

    def accepted(self, event: ChatEvent) -> None:
        """A viewer's event was queued: its amount (bounded already) uses up its viewer's
        allowance this stream at once, so paid events queued faster than they are answered
        cannot claim the same allowance twice; their first message is an arrival."""
        self.amounts.count(event)
        self.arrived(event)

    def counted(self, event: ChatEvent) -> None:
        """A viewer's event was answered or thanked: what they paid counts toward the
        stream's supporters."""
        key = event.viewer
        if key is not None and event.amount and not event.free:
            self.supporters.add(key, self._name(event), event.amount)

    def arrived(self, event: ChatEvent) -> None:
        """A viewer came in (a platform's entry event, or their first message)."""
        key = event.viewer
        if key is None or self.config.greet_every_s <= 0 or self._banned(event):
            return
        if self.greeter.arrive(key, self._name(event)):
            self._wake()

    def answered(self, events: Iterable[ChatEvent]) -> None:
        """A turn answered these viewers by name: that was their greeting."""
        self.greeter.answered(key for event in events if (key := event.viewer) is not None)

    def forgotten(self, key: ViewerKey) -> None:
        self.greeter.withdraw(key)
        self.supporters.remove(key)

    def show(self, state: ShowState) -> bool:
        """The streamer (or the platform) says the show starts or ends: the opening or the
        closing is the next turn. False when the show is already in that state (a platform
        repeats its live-start event; a second End press)."""
        last = self._shows[-1] if self._shows else self.show_state
        if state == last:
            return False
        self._shows.append(state)
        log.info("stage: the show %s", "starts" if state == "start" else "ends")
        self._wake()
        return True

    # -- the runner's questions ------------------------------------------------------------

    def next_turn(self, chat_waiting: bool) -> Coroutine[Any, Any, None] | None:
        """The host's next turn, if one is due: the show's opening or closing (before
        chat), else a greeting — every `greet_every_s` while chat is quiet, and every
        `BUSY_GREETING_FACTOR` times that while chat waits: on a busy stream chat goes
        first, but regulars are still greeted (a simulated busy stream greeted nobody)."""
        if self._shows:
            # The state changes now, not when the turn runs: a repeat arriving meanwhile
            # is a repeat.
            state = self.show_state = self._shows.popleft()
            return self._open() if state == "start" else self._close()
        every_s = self.config.greet_every_s
        if chat_waiting:  # chat first: greet only who has waited, and less often
            every_s *= BUSY_GREETING_FACTOR
        patience_s = every_s if chat_waiting else 0.0
        arrivals = self.greeter.take(every_s, MAX_GREETED_PER_TURN, patience_s)
        return self._greet(arrivals) if arrivals else None

    def due_in(self) -> float | None:
        """Seconds until the host has a turn to take (None: nothing waits)."""
        if self._shows:
            return 0.0
        if self.config.greet_every_s <= 0:
            return None
        return self.greeter.due_in(self.config.greet_every_s)

    async def idle_turn(self) -> None:
        """Idle talk: a topic of the character's not used this stream, else something memory
        holds that idle talk has not used, else the character's own choice."""
        topic = self.topics.pick(self.conversation.config.character.topics)
        if topic:
            text = prompts.topic(topic)
        else:
            if self.topics.used_up and not self._said_used_up:
                self._said_used_up = True
                log.info("idle talk: every topic was used this stream; drawing on memory now")
            note = await self._unused_note()
            text = prompts.remembered(note) if note is not None else ""
        await self.conversation.run_turn(TurnInput(text=text, proactive=True))

    # -- the turns -----------------------------------------------------------------------

    async def _greet(self, arrivals: Sequence[Arrival]) -> None:
        arrivals = [a for a in arrivals if not self._banned_key(a.key)]  # banned meanwhile
        profiles = await self._profiles([a.key for a in arrivals])
        regulars: list[tuple[Arrival, Profile]] = []
        new: list[Arrival] = []
        for arrival in arrivals:
            profile = profiles.get(arrival.key)
            if profile is not None and profile.first_seen < self.stream_began:
                regulars.append((arrival, profile))
            else:
                new.append(arrival)
        names = self._character_names()
        limit = self.config.greet_max_names
        regular_lines = [prompts.regular(a.name, a.key, p, names) for a, p in regulars[:limit]]
        more_regulars = len(regulars) - len(regular_lines)
        newcomers = new if self.config.welcome_new_viewers else []
        text = prompts.greeting(regular_lines, more_regulars, newcomers, limit, names)
        if not text:
            return
        log.info("stage: greeting %d regular(s) and %d new viewer(s)", len(regulars), len(new))
        await self.conversation.run_turn(TurnInput(text=text, proactive=True))

    async def _open(self) -> None:
        self.new_stream()
        summary = await self._last_summary()
        await self.conversation.run_turn(TurnInput(text=prompts.opening(summary), proactive=True))

    async def _close(self) -> None:
        top = self.supporters.top(TOP_SUPPORTERS)
        names = self._character_names()
        try:
            await self.conversation.run_turn(
                TurnInput(text=prompts.closing(top, names), proactive=True)
            )
        finally:
            if self.conversation.end_show():
                log.info("stage: the show ended; its summary is being written to memory")
            self.new_stream()

    def new_stream(self) -> None:
        """A stream begins (or ended): greetings, supporters and topics start over."""
        self.greeter.new_stream()
        self.topics.new_stream()
        self.supporters.clear()
        self.amounts.new_stream()
        self._used_notes.clear()
        self._said_used_up = False
        self.stream_began = time.time()

    def stats(self) -> dict[str, Any]:
        return {
            "state": self.show_state or "",
            "greetings": self.greeter.greetings,
            "arrivals_waiting": self.greeter.waiting,
            "topics_used": self.topics.used,
        }

    # -- memory, bounded -------------------------------------------------------------------

    def _memory_on(self) -> bool:
        return self.conversation.config.memory.enabled

    async def _profiles(self, keys: list[ViewerKey]) -> dict[ViewerKey, Profile]:
        if not keys or not self.config.greet_regulars or not self._memory_on():
            return {}
        config = self.conversation.config
        try:
            async with asyncio.timeout(LOOKUP_TIMEOUT_S):
                found = await self.conversation.runtime.memory.recall(scope_of(config), keys, "", 0)
        except Exception as exc:
            log.warning("greeting: memory lookup skipped (%s)", exc or type(exc).__name__)
            return {}
        return {ViewerKey(p.platform, p.uid): p for p in found.profiles}

    async def _notes(self) -> list[Note]:
        if not self._memory_on():
            return []
        config = self.conversation.config
        try:
            async with asyncio.timeout(LOOKUP_TIMEOUT_S):
                return await self.conversation.runtime.memory.notes(
                    scope_of(config), limit=MAX_NOTES_LOOKED_AT
                )
        except Exception as exc:
            log.warning("stage: memory lookup skipped (%s)", exc or type(exc).__name__)
            return []

    async def _last_summary(self) -> Note | None:
        return next((note for note in await self._notes() if note.kind == "summary"), None)

    async def _unused_note(self) -> Note | None:
        for note in await self._notes():  # newest first
            if note.id not in self._used_notes:
                self._used_notes[note.id] = None
                while len(self._used_notes) > MAX_USED_NOTES:
                    self._used_notes.popitem(last=False)
                return note
        return None

    # -- who may be named ------------------------------------------------------------------

    def _banned(self, event: ChatEvent) -> bool:
        """Banned by the streamer, or in `stage.blocked_users`: never greeted."""
        bans = self.policy.bans
        if bans is not None and bans.covers(event):
            return True
        who = {event.user_name.casefold(), event.user_id.casefold()} - {""}
        return bool(who & self._blocked)

    def _banned_key(self, key: ViewerKey) -> bool:
        probe = ChatEvent(lane=Lane.DANMAKU, text="", platform=key.platform, user_id=key.uid)
        return self._banned(probe)

    def _name(self, event: ChatEvent) -> str:
        """The name to greet or thank a viewer by; "" when it may not be said."""
        name = event.user_name
        if not name or event.name_withheld:
            return ""
        lists = self.policy.lists
        if self.policy.blocked_words.found_in(name) or (lists and lists.check(name)):
            return ""
        return name

    def _character_names(self) -> tuple[str, ...]:
        character = self.conversation.config.character
        return (character.name, character.conf_name)
