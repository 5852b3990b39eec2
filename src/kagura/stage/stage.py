"""The stage: one shared conversation answering queued chat, one batch at a time.

Clients submit events; the flood policy decides what waits and what goes next; the runner
takes the best batch, runs its turn and repeats. A turn is bounded by `stage.turn_timeout_s`
and interruptible by an admin; either way the stage moves on to the next batch. With nobody
playing audio the playback wait ends at its timeout, so a stage keeps answering chat.

The stage knows nothing of connections or wire formats: it publishes typed events to its
subscribers (`subscribe`), and the server's edge decides which client hears what. It only
needs to know how many are listening (`set_audience`): idle talk is for an audience, never
for an empty room.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import replace
from typing import Any

from kagura.conversation.conversation import Conversation
from kagura.conversation.events import ConversationEvent, TurnStarted
from kagura.memory import ViewerKey
from kagura.runtime import Runtime

from .bans import BanList
from .events import (
    Announced,
    ChatEvent,
    Cut,
    Interrupted,
    Lane,
    StageEvent,
    platform_name,
    question_preface,
    thanks_text,
    turn_input,
)
from .forget import forget_request, forget_viewer
from .hold import StreamerHold
from .host import Host, ShowState
from .listeners import Audience, Subscriber, Subscribers
from .monitor import LagMonitor
from .pace import Pace
from .policy import ACCEPTED, Clock, FloodPolicy
from .waiting import Batch

log = logging.getLogger(__name__)

TICK_S = 5.0  # longest the runner sleeps without looking at the queue
STOP_TIMEOUT_S = 5.0
MAX_NOTICES = 8
# A streamer's hold on the stage lapses this long after the longest turn could have been
# heard and transcribed (`asr.max_seconds` + `asr.timeout_s`) with no news from their voice.
HOLD_MARGIN_S = 5.0



class Stage:
    def __init__(self, runtime: Runtime, clock: Clock = time.monotonic) -> None:
        self.runtime = runtime
        self.config = runtime.config.stage
        self.clock = clock
        self._subscribers = Subscribers()
        self._audience = Audience()
        self.conversation = Conversation(
            runtime,
            self._on_event,
            max_sentences=self.config.reply_max_sentences,
            viewers=True,
        )
        # Viewers the streamer banned, by platform identity (`data_dir/bans.json`).
        data_dir = runtime.config.resolve_path(runtime.config.system.data_dir)
        self.bans = BanList(data_dir / "bans.json", runtime.audit)
        self.bans.load()
        self.policy = FloodPolicy(
            self.config,
            clock,
            runtime.lists,
            bans=self.bans,
            audit=runtime.audit,
            names=self.character_names,
        )
        self.lag = LagMonitor()
        self._wake = asyncio.Event()
        # The co-host's own turns: greetings, the show's opening and closing, idle topics.
        self.host = Host(self.conversation, self.policy, self.config, self._wake.set, clock)
        self._tasks: list[asyncio.Task[Any]] = []
        self._announce: list[ChatEvent] = []
        self._answering = False  # from taking a batch until its turn is over
        # Canned lines owed to viewers (the forget command's confirmation), said between turns.
        self._notices: deque[str] = deque(maxlen=MAX_NOTICES)
        self._last_activity = clock()
        self._replied_at = -float("inf")  # when the last turn ended, for the pace's gap
        # Paused: chat still queues (and goes stale by its TTL), nothing is answered.
        self.paused = False
        asr = runtime.config.asr
        self.hold = StreamerHold(clock, asr.max_seconds + asr.timeout_s + HOLD_MARGIN_S)
        # Events a platform client sent in the name of another platform (refused at the edge).
        self.wrong_platform = 0

    # -- clients -----------------------------------------------------------------------

    def submit(self, event: ChatEvent) -> str:
        """Offer an event to the queue; returns `ACCEPTED` or the reason it was dropped.

        Nothing is remembered of an event here: it counts into its viewer's profile when it
        is answered (`_answer`), so a flood the stage drops or pushes out leaves no trace in
        memory. The forget command is carried out here and never reaches the LLM."""
        if self._forget_command(event):
            return ACCEPTED
        event = self.host.amounts.bound(event)  # a claimed amount counts only up to the caps
        verdict = self.policy.offer(event)
        if verdict == ACCEPTED:
            self.host.accepted(event)  # its allowance used, and a greeting if the host will
            if event.lane in (Lane.DANMAKU, Lane.SUPERCHAT):  # recalled by meaning: embed now
                self.conversation.long_term.prepare(self.conversation.config, event.text)
            self._last_activity = self.clock()
            self._wake.set()
        else:
            log.debug("dropped %s event (%s): %r", event.lane.key, verdict, event.text[:40])
        return verdict

    def arrive(self, event: ChatEvent) -> None:
        """A viewer came in (a platform's entry event): greeted soon if the host will."""
        self.host.arrived(event)

    def show(self, state: ShowState) -> bool:
        """The show starts or ends (a button, a platform's live event): the character opens
        or closes it next. False when it already had (a repeated event)."""
        return self.host.show(state)

    def _forget_command(self, event: ChatEvent) -> bool:
        key = forget_request(self.conversation.config, event)
        if key is None:
            return False
        task = asyncio.create_task(self._forget(event, key))
        self._tasks.append(task)
        task.add_done_callback(self._finished)
        self.host.forgotten(key)
        return True

    async def _forget(self, event: ChatEvent, key: ViewerKey) -> None:
        line = await forget_viewer(self.conversation, event, key)
        if line:
            self._notices.append(line)
            self._wake.set()

    def _finished(self, task: asyncio.Task[Any]) -> None:
        """A one-off task is done: the stage stops holding it (a long stream makes many)."""
        with contextlib.suppress(ValueError):
            self._tasks.remove(task)

    def withdraw(self, platform: str, ids: Iterable[str | int]) -> int:
        """A platform took events back (e.g. a deleted super chat): those still waiting are
        dropped; one already being answered is not stopped."""
        name = platform_name(platform)
        removed = self.policy.withdraw(name, (str(i) for i in ids))
        if removed:
            log.info("withdrew %d waiting %s event(s)", removed, name)
        return removed

    # -- who listens, and what they hear --------------------------------------------------

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Hear every event of the stage, in order, until the returned function is called
        (`Subscribers`: synchronous, on the event loop, never blocking)."""
        return self._subscribers.subscribe(subscriber)

    def set_audience(self, where: str, count: int) -> None:
        """`count` listeners are now connected at `where` (stage pages, widgets). Idle talk
        counts from when someone is there to hear it, so the first listener never walks into
        an instant monologue."""
        if self._audience.set(where, count):
            self._last_activity = self.clock()
            self._wake.set()

    @property
    def audience(self) -> int:
        return self._audience.total

    def streamer_speaking(self, who: str, speaking: bool) -> None:
        """An admin's voice input (`who`) started talking, or has nothing pending any more.
        With `stage.yield_to_streamer`, while anyone speaks no new reply starts but the
        streamer's own (barge-in stops the one in progress), so their words go first."""
        self.hold.speaking(who, speaking)
        self._last_activity = self.clock()  # no idle talk straight after the streamer
        self._wake.set()

    @property
    def yielding(self) -> bool:
        """The stage waits for the streamer to finish speaking."""
        return self.config.yield_to_streamer and self.hold.active

    def interrupt(self, heard: str | None, origin: str = "") -> bool:
        """Stop the running turn (an LLM reply or a thank-you); the stage goes on. One stage,
        one voice: every client but `origin` (which stopped already) stops playing it."""
        if not self.conversation.interrupt(heard):
            return False
        self._publish(Interrupted(heard or "", origin))
        return True

    def cut(self, recent: int = 0) -> list[str]:
        """The streamer's Cut button: stop the reply in progress and take back the `recent`
        latest replies before it (the edge knows how many are still inside the stream delay):
        none of them goes on air or is remembered as said. The stage goes on. Returns what
        the cut replies had said (empty: nothing was cut)."""
        cut = self.conversation.cut(recent)
        if cut:
            log.info("stage: the streamer cut %d repl%s", len(cut), "y" if len(cut) == 1 else "ies")
            self._publish(Cut())
        return cut

    def panic(self, recent: int = 0) -> tuple[int, list[str]]:
        """The panic switch: cut everything on its way to air, drop the queue and pause.
        Returns how many waiting events were dropped and what the cut replies had said.
        `resume` is `set_paused(False)`."""
        self.set_paused(True)
        self._notices.clear()
        dropped = self.policy.clear()
        cut = self.conversation.cut(recent)
        log.warning("stage: PANIC - everything cut, %d waiting event(s) dropped, paused", dropped)
        self._publish(Cut(panic=True))
        return dropped, cut

    def acknowledge_playback(self) -> None:
        """A client has played the whole reply: the turn need not wait any longer."""
        self.conversation.playback.acknowledge()

    def set_paused(self, paused: bool) -> None:
        """The streamer's "hold on": answer nothing new until resumed (the reply in progress
        finishes; interrupting it is the interrupt button's job)."""
        if paused != self.paused:
            log.info("stage %s", "paused" if paused else "resumed")
        self.paused = paused
        self._wake.set()

    def set_pace(self, name: str) -> Pace:
        """Change the pace live (`quiet`, `normal`, `lively`); raises ValueError for others."""
        pace = self.policy.set_pace(name)
        log.info("stage pace: %s", pace)
        self._wake.set()
        return pace

    def skip(self, item_id: int) -> bool:
        """The streamer's Skip: drop a waiting message. False: it is no longer waiting."""
        return self.policy.skip(item_id)

    def answer_next(self, item_id: int) -> bool:
        """The streamer's Next: answer a waiting message before anything else."""
        found = self.policy.answer_next(item_id)
        self._wake.set()  # it need not wait out the pace's gap
        return found

    def character_names(self) -> tuple[str, ...]:
        """What the character is called: its name, conf_name and `character_aliases`."""
        character = self.conversation.config.character
        return (character.name, character.conf_name, *self.config.character_aliases)

    @property
    def active(self) -> bool:
        """`conversation_active`: from a turn's chain start to its chain end."""
        return self.conversation.active

    def stats(self) -> dict[str, Any]:
        return {
            "active": self.active,
            "answering": self._answering,
            "paused": self.paused,
            "streamer_speaking": self.hold.active,
            "idle_s": round(self.clock() - self._last_activity, 3),
            "audience": self._audience.by_place(),
            "show": self.host.stats(),
            "memory": self.conversation.long_term.stats(),
            "forged": {**self.host.amounts.stats(), "wrong_platform": self.wrong_platform},
            **self.policy.stats(),
            "loop_lag": self.lag.stats(),
        }

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._run()), asyncio.create_task(self.lag.run())]
        if self.config.stats_log_interval_s > 0:
            self._tasks.append(asyncio.create_task(self._log_stats()))

    async def stop(self) -> None:
        self.conversation.interrupt(None)
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=STOP_TIMEOUT_S)
        self._tasks = []
        await self.conversation.end_stream()

    # -- the runner --------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            yielding = self.yielding
            if self.paused or yielding:
                self._last_activity = self.clock()  # no idle talk straight after resuming
            if self._notices and not (self.paused or yielding):
                await self._perform(self.conversation.say(self._notices.popleft()))
                continue
            # The pace's breather after a reply (never before the streamer's own words).
            gap = 0.0 if self.paused or self.policy.urgent else self._gap_left()
            quiet = not (self.paused or yielding) and gap <= 0
            host = self.host.next_turn(self._chat_waiting()) if quiet else None
            if host is not None:  # the show's opening or closing, or a greeting
                await self._perform(host)
                self._last_activity = self._replied_at = self.clock()
                continue
            upto = Lane.STREAMER if yielding else Lane.IDLE
            batch = None if self.paused or gap > 0 else self.policy.take(upto)
            if batch is None and quiet and self._idle_due():
                self.policy.offer(ChatEvent(lane=Lane.IDLE, text="", kind="idle"))
                batch = self.policy.take()
            if batch is None:
                sleep_s = min(self._sleep_s(), gap) if gap > 0 else self._sleep_s()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(sleep_s):
                        await self._wake.wait()
                continue
            try:
                await self._answer(batch)
            except Exception:  # one broken turn must not end the stage
                log.exception("stage turn failed")
            self._last_activity = self._replied_at = self.clock()

    async def _answer(self, batch: Batch) -> None:
        self._announce = [event for event in batch.events if event.lane is not Lane.IDLE]
        self._count(self._announce)
        self.host.answered(batch.events)
        work: Coroutine[Any, Any, Any]
        config = self.config
        if batch.lane is Lane.IDLE:
            work = self.host.idle_turn()  # a topic, or something memory holds
        elif batch.template:
            thanks = thanks_text(config.gift_thanks, batch.events, self.policy.blocked_words)
            work = self.conversation.say(thanks)
        else:
            character = self.conversation.config.character
            names = (character.name, character.conf_name)
            request = turn_input(batch.events, names, batch.greeting)
            if config.read_question_aloud and not batch.greeting:
                request = replace(request, preface=question_preface(batch.events))
            work = self.conversation.run_turn(request)
        await self._perform(work)

    def _count(self, events: Iterable[ChatEvent]) -> None:
        """The character takes these events in (an answer or a thank-you): they count into
        their viewers' profiles, and what they paid into the stream's supporters."""
        now = time.time()
        for event in events:
            sighting = event.sighting(now)
            if sighting is not None:
                self.conversation.long_term.sighted(self.conversation.config, sighting)
                self.host.counted(event)

    async def _perform(self, work: Coroutine[Any, Any, Any]) -> None:
        """Run one turn, bounded by `turn_timeout_s`."""
        self._answering = True
        task = asyncio.create_task(work)
        try:
            done, _ = await asyncio.wait([task], timeout=self.config.turn_timeout_s)
            if not done:
                log.warning("stage turn took over %.0f s; stopping it", self.config.turn_timeout_s)
                task.cancel()  # the turn's own task: interrupted like any other turn
                await asyncio.wait([task], timeout=STOP_TIMEOUT_S)
        except asyncio.CancelledError:  # the stage is stopping
            task.cancel()
            raise
        finally:
            self._announce = []
            self._answering = False
        if task.done() and not task.cancelled() and task.exception() is not None:
            log.error("stage turn failed", exc_info=task.exception())

    def _on_event(self, event: ConversationEvent) -> None:
        """The conversation's events go to every subscriber; right after a turn starts, so
        do the inputs it answers (each shown to all but the client that sent it)."""
        self._publish(event)
        if isinstance(event, TurnStarted):
            for chat in self._announce:
                self._publish(Announced(chat))

    def _publish(self, event: StageEvent) -> None:
        self._subscribers.publish(event)

    def _chat_waiting(self) -> bool:
        self.policy.expire()
        return self.policy.waiting > 0

    def _gap_left(self) -> float:
        return self.policy.pace.min_gap_s - (self.clock() - self._replied_at)

    def _idle_due(self) -> bool:
        after = self.policy.pace.idle_after_s
        return after > 0 and self.audience > 0 and self.clock() - self._last_activity >= after

    def _sleep_s(self) -> float:
        if self.yielding:  # awake when a hold lapses, not a tick later
            return max(0.05, min(TICK_S, self.hold.remaining_s()))
        sleep = TICK_S
        host = None if self.paused else self.host.due_in()  # a greeting waits for its time
        if host is not None:
            sleep = min(sleep, host)
        after = self.policy.pace.idle_after_s
        if after > 0 and not self.paused and self.audience:
            sleep = min(sleep, after - (self.clock() - self._last_activity))
        return max(0.05, sleep)

    async def _log_stats(self) -> None:
        last: dict[str, Any] | None = None
        while True:
            await asyncio.sleep(self.config.stats_log_interval_s)
            current = self.policy.stats()
            if current != last:
                log.info("stage: %s", current)
                last = current
