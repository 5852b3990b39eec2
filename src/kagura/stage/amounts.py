"""What a platform client's claimed amounts may count for.

A platform client says what an event was worth, and nothing on the stage can check it: a
hostile or broken client could claim a super chat of a trillion, or send ten thousand gifts
from one viewer, and so buy the top of the queue, the LLM's warmest thanks, a place in
long-term memory as a big spender and the show's "top supporters". Amounts are therefore
bounded here before anything reads them: one event counts for at most
`stage.max_amount_per_event`, one viewer for at most `stage.max_amount_per_viewer_per_stream`
in a stream (past it their events count nothing more: they are answered, as unpaid). The caps
are plain numbers that apply to every currency alike; 0 turns a cap off.

The per-viewer totals are bounded too (`MAX_VIEWER_TOTALS`; the least recently paying viewer
is forgotten first) and start over with each stream.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import replace
from typing import Any

from kagura.config import StageConfig
from kagura.logs import RateLimitedLog

from .events import ChatEvent

log = logging.getLogger(__name__)
# One line per clipped claim at most, never a flood: a hostile client may send thousands.
clipped_log = RateLimitedLog(log)

MAX_VIEWER_TOTALS = 50_000  # viewers whose stream total is remembered (~10 MB at most)


class AmountCaps:
    def __init__(self, config: StageConfig) -> None:
        self.config = config
        self._totals: OrderedDict[str, float] = OrderedDict()  # user_key -> counted this stream
        self.clipped = 0  # events claiming more than `max_amount_per_event`
        self.over_viewer_cap = 0  # events that counted less, or nothing, for their viewer's cap

    def bound(self, event: ChatEvent) -> ChatEvent:
        """`event` with its amount as much as it may count for: at most the per-event cap,
        and at most what is left of its viewer's allowance this stream (nothing left: no
        amount at all, so it is thanked and remembered as unpaid)."""
        claimed = event.amount
        if claimed is None or claimed <= 0 or event.free:
            return event
        amount = claimed
        per_event = self.config.max_amount_per_event
        if per_event and amount > per_event:
            self.clipped += 1
            clipped_log.warning(
                "%s claimed %g %s from %r; counted as %g (stage.max_amount_per_event)",
                event.kind,
                claimed,
                event.currency,
                event.user_key,
                per_event,
            )
            amount = per_event
        per_viewer = self.config.max_amount_per_viewer_per_stream
        if per_viewer and event.user_key:
            left = max(0.0, per_viewer - self._totals.get(event.user_key, 0.0))
            if amount > left:
                self.over_viewer_cap += 1
                clipped_log.warning(
                    "%r reached %g this stream; their %s counted as %g "
                    "(stage.max_amount_per_viewer_per_stream)",
                    event.user_key,
                    per_viewer,
                    event.kind,
                    left,
                )
                amount = left
        if amount == claimed:
            return event
        return replace(event, amount=amount if amount > 0 else None)

    def count(self, event: ChatEvent) -> None:
        """`event` (already bounded) counted into its viewer's profile: its amount adds to
        their total this stream."""
        key = event.user_key
        if not event.amount or event.free or not key:
            return
        self._totals[key] = self._totals.pop(key, 0.0) + event.amount  # now the most recent
        while len(self._totals) > MAX_VIEWER_TOTALS:
            self._totals.popitem(last=False)

    def new_stream(self) -> None:
        self._totals.clear()

    def stats(self) -> dict[str, Any]:
        return {"amount_clipped": self.clipped, "amount_over_viewer_cap": self.over_viewer_cap}
