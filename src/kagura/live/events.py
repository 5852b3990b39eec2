"""What a platform client hands the runner: typed chat events and withdrawals.

Each becomes exactly one `/proxy-ws` message, built and validated with the stage's own
vocabulary (`kagura.protocol.client`), so a client can never send what the stage would
refuse: over-long names, texts and ids are clipped here rather than rejected there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kagura.clipping import clip
from kagura.protocol.client import (
    MAX_LABEL_CHARS,
    MAX_TEXT_CHARS,
    MAX_WITHDRAW_IDS,
    ChatKind,
    ChatSource,
    ChatUser,
    ChatWithdraw,
    TextInput,
)

MAX_NAME_CHARS = 64
MAX_ID_CHARS = 128
MAX_PLATFORM_CHARS = 32
MAX_AMOUNT = 10_000_000

Id = str | int


def _clip_id(value: Id | None) -> Id | None:
    return value[:MAX_ID_CHARS] if isinstance(value, str) else value


@dataclass(frozen=True, slots=True)
class LiveEvent:
    """One thing that happened in a live room, in the stage's terms.

    `id` is the platform's message id: the stage drops a second event with the same id (a
    gift that arrives in two forms, a resend after a reconnect) and withdraws by it. `amount`
    is what the viewer paid, in `currency` (CNY on Bilibili); `free` marks a free gift.
    `label` is the platform's wording of what was bought or given ("Tier 1, 3 months"), and
    `text` only what the viewer wrote with it ("" when nothing): the stage quotes the one as
    a name and answers the other as chat.
    """

    platform: str
    kind: ChatKind
    text: str = ""
    user_name: str = ""
    user_id: Id | None = None
    amount: float | None = None
    currency: str | None = None
    id: Id | None = None
    ts: float | None = None
    room: Id | None = None
    free: bool = False
    label: str = ""

    def message(self) -> dict[str, Any]:
        """The `text-input` message for the stage."""
        user = None
        if self.user_name or self.user_id is not None:
            user = ChatUser(name=clip(self.user_name, MAX_NAME_CHARS), id=_clip_id(self.user_id))
        amount = None if self.amount is None else min(max(self.amount, 0.0), MAX_AMOUNT)
        source = ChatSource(
            platform=self.platform[:MAX_PLATFORM_CHARS],
            kind=self.kind,
            user=user,
            amount=amount,
            currency=self.currency,
            id=_clip_id(self.id),
            ts=self.ts,
            room=_clip_id(self.room),
            free=self.free,
            label=clip(self.label, MAX_LABEL_CHARS) or None,
        )
        text = TextInput(type="text-input", text=clip(self.text, MAX_TEXT_CHARS), source=source)
        return text.model_dump(mode="json", exclude_none=True)


@dataclass(frozen=True, slots=True)
class Withdrawal:
    """The platform took these events back (a deleted super chat or message): the stage
    drops the ones still waiting. At most `MAX_WITHDRAW_IDS` ids; see `withdrawals`."""

    platform: str
    ids: tuple[Id, ...]

    def message(self) -> dict[str, Any]:
        withdraw = ChatWithdraw(
            type="chat-withdraw",
            platform=self.platform[:MAX_PLATFORM_CHARS],
            ids=[value for value in map(_clip_id, self.ids) if value is not None],
        )
        return withdraw.model_dump(mode="json")


Item = LiveEvent | Withdrawal


def withdrawals(platform: str, ids: Sequence[Id]) -> list[Withdrawal]:
    """`ids` withdrawn in messages of at most `MAX_WITHDRAW_IDS` each."""
    step = MAX_WITHDRAW_IDS
    return [Withdrawal(platform, tuple(ids[i : i + step])) for i in range(0, len(ids), step)]
