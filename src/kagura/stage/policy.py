"""The chat-flood policy: which events wait, which are dropped, which is answered next.

Pure and synchronous, with an injected clock, so every rule is unit-tested without a
server or a sleep. Everything it keeps is bounded: lanes by their capacity, de-duplication
and rate-limit memory by a fixed number of entries (the oldest are forgotten first).

Rules, in the order they apply to an offered event: a banned viewer (`bans`), empty or too
long text, the ignore prefix, blocked users and words, the safety lists, a platform message
id seen before, the same text from the same user within the de-duplication window, the
per-user rate limit (plain chat only; the words a viewer sends with a membership or a gift
count against it too, and over it they go unread while the event is still thanked), and
finally the lane's capacity (a full lane drops
its oldest event). An event that waits longer than its lane's time-to-live is dropped rather
than answered late. Chat dropped for its words, and names not said, are told to `audit`.

Within the superchat and danmaku lanes, a message addressed to the character (it names it,
or asks a question: `addressing`) is chosen before the others; two or more greetings waiting
in the danmaku lane are answered once, together. The pace (`pace`) drops a share of the
ordinary chat on arrival. The streamer sees the queue (`queue`), may skip a waiting message
or have it answered next, and sees the latest drops with their reasons (`drops`).
"""

from __future__ import annotations

import itertools
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from kagura.clipping import clip
from kagura.config import LaneConfig, StageConfig
from kagura.conversation.blocklist import BlockedWords
from kagura.conversation.text import CJK
from kagura.safety import ListGuard
from kagura.safety.audit import AuditLog

from .addressing import Address, Addressing
from .bans import BanList
from .drops import DropLog
from .events import ChatEvent, Lane
from .limits import Bounded, RateLimit, fingerprint
from .pace import Pace, resolve
from .waiting import Batch, Waiting, take_from, view

Clock = Callable[[], float]

ACCEPTED = "accepted"
# How a viewer whose name may not be said is named, by the language they wrote in.
ANONYMOUS_VIEWER = {"en": "a viewer", "zh": "某位观众"}
# Drop reasons that are the sender's mistake: they get an `error`, the others are silent.
BAD_INPUT = frozenset({"empty", "too_long"})
# Events somebody paid for are never dropped for their wording (length, prefix, emptiness);
# blocklists and duplicate ids still apply.
PAID = frozenset({Lane.SUPERCHAT, Lane.MEMBERSHIP, Lane.GIFT})
MAX_REMEMBERED = 50_000  # per map: de-duplication and rate-limit entries (~8 MB each at most)
MAX_TEMPLATE_BATCH = 10
MAX_GREETING_BATCH = 50  # greetings answered in one line (only a few are named)
GREETING_BURST = 2  # greetings waiting before they are answered together
# Lanes whose events are messages a viewer wrote: there, who is addressed matters.
ADDRESSABLE = frozenset({Lane.SUPERCHAT, Lane.DANMAKU})
BLOCKED_WORD_RULE = "stage.blocked_words"  # the streamer's own filter of chat, in the audit
# Paid lanes whose events may carry a viewer's words beside what they bought (a resub's
# message): those words are rate-limited like chat (a Super Chat's message is what was paid
# for, and is not).
WORDS_BESIDE = frozenset({Lane.MEMBERSHIP, Lane.GIFT})


class FloodPolicy:
    def __init__(
        self,
        config: StageConfig,
        clock: Clock = time.monotonic,
        lists: ListGuard | None = None,
        *,
        bans: BanList | None = None,
        audit: AuditLog | None = None,
        names: Callable[[], Iterable[str]] = tuple,
    ) -> None:
        self.config = config
        self.clock = clock
        # What the character may never say (`safety`): chat it would read aloud is held to it.
        self.lists = lists
        self.bans = bans  # viewers the streamer banned: their events are dropped
        self.audit = audit  # told of chat dropped for its words, and of names not said
        self._lanes: dict[Lane, deque[Waiting]] = {lane: deque() for lane in Lane}
        self._texts = Bounded(MAX_REMEMBERED)  # (user, text) -> when accepted
        self._ids = Bounded(MAX_REMEMBERED)  # platform message ids
        self._rate = RateLimit(config, MAX_REMEMBERED)
        self._blocked_users = {u.strip().casefold() for u in config.blocked_users if u.strip()}
        self.blocked_words = BlockedWords(config.blocked_words)
        self.accepted = 0
        self.dropped: Counter[str] = Counter()
        self.merged = 0
        self.answered = 0
        self.withdrawn = 0
        # What the character is called (its name, conf_name, `character_aliases`), asked
        # each time: the character can change while the stage runs.
        self._names = names
        self._addressing = Addressing(())
        self.pace: Pace = resolve(config)
        self._share_credit = 1.0  # ordinary chat answered when it reaches 1 (`chat_share`)
        self._next_id = itertools.count(1)
        self._pinned: deque[Waiting] = deque()  # the streamer's "answer next", in order
        self.drops = DropLog()

    # -- intake ------------------------------------------------------------------------

    def offer(self, event: ChatEvent) -> str:
        """Queue `event` or say why not: `ACCEPTED` or the drop reason (also counted)."""
        now = self.clock()
        limit = self.config.max_text_chars
        if event.lane in PAID and len(event.text) > limit:
            # Somebody paid for this: answer a shortened message rather than drop it.
            event = replace(event, text=clip(event.text, limit))
        reason = self._refusal(event, now)
        if reason is not None:
            self._drop(event, reason, now)
            return reason
        unsayable = self._unsayable(event.user_name) if event.user_name else None
        if unsayable is not None:
            # A name is not a message: its viewer is still answered, but never by that name.
            self._audit("name_replaced", event, event.user_name, unsayable)
            event = replace(event, user_name=anonymous(event.text), name_withheld=True)
        if event.lane in WORDS_BESIDE and event.text and not self._words_allowed(event, now):
            event = replace(event, text="")  # thanked for what they gave; their words unread
        address = self._address(event)
        if address is Address.ORDINARY and event.lane is Lane.DANMAKU and not self._share():
            self._drop(event, "skipped_by_pace", now)
            return "skipped_by_pace"
        lane = self._lanes[event.lane]
        capacity = self._lane_config(event.lane).capacity
        while len(lane) >= capacity:
            oldest = lane.popleft()
            self._drop(oldest.event, "overflow", now, oldest.at)
        lane.append(Waiting(event, now, next(self._next_id), address))
        self.accepted += 1
        if event.event_id:
            self._ids.remember(fingerprint("id", event.event_id), None)
        if event.lane is Lane.DANMAKU:
            self._texts.remember(fingerprint(event.user_key, event.text), now)
            self._texts.forget_older(now - self.config.dedup_window_s)
        return ACCEPTED

    def _refusal(self, event: ChatEvent, now: float) -> str | None:
        if event.lane is Lane.IDLE:
            return None
        if self.bans is not None and self.bans.covers(event):
            return "banned"  # before any other rule: whatever they send, paid or not
        text = event.text
        if event.lane in (Lane.STREAMER, Lane.DANMAKU) and not text:
            return "empty"  # a paid event needs no words: the payment itself is answered
        if event.lane is Lane.STREAMER:
            return None  # the streamer is trusted and never throttled
        config = self.config
        if len(text) > config.max_text_chars:
            return "too_long"
        if (
            event.lane not in PAID
            and config.ignore_prefix.strip()
            and text.startswith(config.ignore_prefix)
        ):
            return "ignored"
        if self._is_blocked_user(event):
            return "blocked_user"
        said = f"{event.label}\n{text}" if event.label else text  # the label is read out too
        if self.blocked_words.found_in(said):
            self._audit("dropped", event, said, BLOCKED_WORD_RULE, verdict="blocked_word")
            return "blocked_word"
        match = self.lists.check(said) if self.lists is not None else None
        if match is not None:
            # The character would read it out: what it may never say.
            self._audit("dropped", event, said, match.rule, verdict="unsafe")
            return "unsafe"
        if event.event_id and fingerprint("id", event.event_id) in self._ids:
            return "duplicate"
        if event.lane is Lane.DANMAKU:
            seen = self._texts.get(fingerprint(event.user_key, text))
            if seen is not None and now - seen < config.dedup_window_s:
                return "duplicate"
            if event.user_key and not self._rate.take(event.user_key, now):
                return "rate_limited"
        return None

    def _words_allowed(self, event: ChatEvent, now: float) -> bool:
        """Whether a paid event's words are within their sender's chat rate limit."""
        return not event.user_key or self._rate.take(event.user_key, now)

    def _address(self, event: ChatEvent) -> Address:
        if event.lane not in ADDRESSABLE:
            return Address.ORDINARY
        names = tuple(self._names())
        if names != self._addressing.given:
            self._addressing = Addressing(names)
        address = self._addressing.classify(event.text)
        if address is Address.GREETING and event.lane is not Lane.DANMAKU:
            return Address.ORDINARY  # a paid hello is answered on its own
        return address

    def _share(self) -> bool:
        """Whether this ordinary message is within the pace's `chat_share` (evenly spread:
        at a third, one message in three)."""
        self._share_credit = min(1.0, self._share_credit + self.pace.chat_share)
        if self._share_credit >= 1.0 - 1e-9:
            self._share_credit -= 1.0
            return True
        return False

    def _drop(self, event: ChatEvent, reason: str, now: float, since: float | None = None) -> None:
        self.dropped[reason] += 1
        self.drops.record(event, reason, now, None if since is None else now - since)

    def _unsayable(self, name: str) -> str | None:
        """Why `name` may not be said (the rule), or None when it may."""
        if self.blocked_words.found_in(name):
            return BLOCKED_WORD_RULE
        match = self.lists.check(name) if self.lists is not None else None
        return match.rule if match is not None else None

    def _audit(self, kind: str, event: ChatEvent, text: str, rule: str, **extra: str) -> None:
        if self.audit is not None:
            self.audit.record(
                kind,
                text=text,
                rule=rule,
                platform=event.platform,
                user_id=event.viewer.uid if event.viewer else "",
                name=event.user_name,
                lane=event.lane.key,
                **extra,
            )

    def _is_blocked_user(self, event: ChatEvent) -> bool:
        names = (event.user_name.casefold(), event.user_id.casefold())
        return any(name and name in self._blocked_users for name in names)

    # -- service -----------------------------------------------------------------------

    def take(self, upto: Lane = Lane.IDLE) -> Batch | None:
        """The next batch to answer: the best lane's oldest fresh event(s), or None. Lanes
        below `upto` wait (while the streamer speaks, only their own lane is served)."""
        self.expire()
        if self._pinned and self._pinned[0].event.lane <= upto:
            chosen = self._pinned.popleft().event
            self.answered += 1
            return Batch(chosen.lane, (chosen,))
        for lane in Lane:
            waiting = self._lanes[lane]
            if not waiting or lane > upto:
                continue
            batch = self._batch(lane, waiting)
            self.answered += len(batch.events)
            self.merged += len(batch.events) - 1
            return batch
        return None

    def _batch(self, lane: Lane, waiting: deque[Waiting]) -> Batch:
        if lane is Lane.GIFT and self._is_small(waiting[0].event):
            # Small gifts and follows are thanked together with a template.
            small = [w for w in waiting if self._is_small(w.event)][:MAX_TEMPLATE_BATCH]
            for item in small:
                waiting.remove(item)
            return Batch(lane, tuple(w.event for w in small), template=True)
        if lane in ADDRESSABLE:
            # Whoever asked the character something goes before the rest of the lane.
            addressed = [w for w in waiting if w.address is Address.ADDRESSED]
            if addressed:
                chosen = addressed[: self._count(lane, len(addressed))]
                return Batch(lane, take_from(waiting, chosen))
        if lane is Lane.DANMAKU:
            greetings = [w for w in waiting if w.address is Address.GREETING]
            if len(greetings) >= GREETING_BURST:
                burst = take_from(waiting, greetings[:MAX_GREETING_BATCH])
                return Batch(lane, burst, greeting=True)
        count = self._count(lane, len(waiting))
        return Batch(lane, tuple(waiting.popleft().event for _ in range(count)))

    def _count(self, lane: Lane, waiting: int) -> int:
        """How many of `waiting` events of `lane` are answered together."""
        config = self.config
        if lane is Lane.DANMAKU and config.batch_max > 1 and waiting >= config.batch_min:
            return min(config.batch_max, waiting)
        return 1

    def _is_small(self, event: ChatEvent) -> bool:
        if event.kind == "follow":
            return True
        if event.text:  # the viewer wrote something: the character reads and answers it
            return False
        if event.free:
            return True
        threshold = self.config.gift_llm_min_amount
        return threshold > 0 and (event.amount is None or event.amount < threshold)

    def withdraw(self, platform: str, ids: Iterable[str]) -> int:
        """Remove the waiting events of `platform` with these message ids (a super chat or a
        message deleted on the platform); returns how many were still waiting."""
        wanted = set(ids)
        removed = 0
        for lane, waiting in self._lanes.items():
            kept = deque(w for w in waiting if not _withdrawn(w.event, platform, wanted))
            removed += len(waiting) - len(kept)
            self._lanes[lane] = kept
        pinned = deque(w for w in self._pinned if not _withdrawn(w.event, platform, wanted))
        removed += len(self._pinned) - len(pinned)
        self._pinned = pinned
        self.withdrawn += removed
        return removed

    def clear(self) -> int:
        """Drop everything waiting (the panic switch); returns how many were waiting."""
        dropped = self.waiting
        now = self.clock()
        for waiting in (*self._lanes.values(), self._pinned):
            for item in waiting:
                self._drop(item.event, "cleared", now, item.at)
            waiting.clear()
        return dropped

    # -- the streamer's hands -------------------------------------------------------------

    def skip(self, item_id: int) -> bool:
        """Drop the waiting event `item_id` (the streamer's Skip); False if it is not waiting."""
        found = self._find(item_id)
        if found is None:
            return False
        queue, item = found
        queue.remove(item)
        self._drop(item.event, "skipped", self.clock(), item.at)
        return True

    def answer_next(self, item_id: int) -> bool:
        """Answer the waiting event `item_id` before anything else (the streamer's Next); it
        no longer expires. False if it is not waiting."""
        found = self._find(item_id)
        if found is None:
            return False
        queue, item = found
        queue.remove(item)
        self._pinned.appendleft(item)
        return True

    def _find(self, item_id: int) -> tuple[deque[Waiting], Waiting] | None:
        self.expire()
        for queue in (self._pinned, *self._lanes.values()):
            for item in queue:
                if item.id == item_id:
                    return queue, item
        return None

    def set_pace(self, name: str) -> Pace:
        """Change the pace live (the config's own numbers still override it)."""
        self.pace = resolve(self.config, name)
        return self.pace

    @property
    def urgent(self) -> bool:
        """The next batch is the streamer's own words or their pick: no pause before it."""
        return bool(self._pinned or self._lanes[Lane.STREAMER])

    def queue(self) -> list[dict[str, Any]]:
        """What is waiting, roughly in the order it will be answered."""
        self.expire()
        now = self.clock()
        pinned = [view(item, now, pinned=True) for item in self._pinned]
        rest = []
        for lane in Lane:
            items = sorted(self._lanes[lane], key=lambda w: w.address is not Address.ADDRESSED)
            rest += [view(item, now) for item in items if lane is not Lane.IDLE]
        return pinned + rest

    def expire(self) -> None:
        """Drop every event older than its lane's time-to-live."""
        now = self.clock()
        for lane, waiting in self._lanes.items():
            ttl = self._lane_config(lane).ttl_s
            while waiting and now - waiting[0].at > ttl:
                stale = waiting.popleft()
                self._drop(stale.event, "expired", now, stale.at)

    # -- reporting ---------------------------------------------------------------------

    @property
    def waiting(self) -> int:
        return len(self._pinned) + sum(len(waiting) for waiting in self._lanes.values())

    def stats(self) -> dict[str, Any]:
        self.expire()  # while nothing is taken (e.g. paused), stale chat still counts as such
        return {
            "accepted": self.accepted,
            "dropped": dict(sorted(self.dropped.items())),
            "merged": self.merged,
            "answered": self.answered,
            "withdrawn": self.withdrawn,
            "waiting": {lane.key: len(self._lanes[lane]) for lane in Lane},
            "next": len(self._pinned),
            "pace": self.pace.as_dict(),
        }

    def _lane_config(self, lane: Lane) -> LaneConfig:
        config: LaneConfig = getattr(self.config.lanes, lane.key)
        return config


def _withdrawn(event: ChatEvent, platform: str, ids: set[str]) -> bool:
    return bool(event.event_id) and event.platform == platform and event.event_id in ids


def anonymous(text: str) -> str:
    """What a viewer whose name may not be said is called, in the language of their text."""
    return ANONYMOUS_VIEWER["zh" if CJK.search(text) else "en"]
