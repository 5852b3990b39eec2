"""The model follows what is heard: a steady tick reads the player's clock and drives VTube
Studio (the model view's frame loop, `model-view.js`, in the stage page).

Each tick: a segment whose audio has just begun shows its emotion; the mouth opens with the
loudness being heard now (the payload's `volumes`, one per `slice_length` ms) and, when
`perform.vts.smile` says so, smiles with the emotion. While the character speaks (or a turn
is under way, between its segments) the values go out every tick; VTube Studio hands a
parameter back to face tracking when it has not been sent for a second, which is what
happens a moment after the reply, once the mouth has been sent closed for `RELEASE_S`.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable

from .player import Player
from .vts import VTubeStudio

RELEASE_S = 0.3  # the closed mouth is sent this long after speech, then tracking takes over
SMILE_PARAMETER = "MouthSmile"
RESTING = "neutral"


class Animator:
    def __init__(
        self,
        player: Player,
        vts: VTubeStudio,
        *,
        rate_hz: float,
        mouth_parameter: str,
        smile: dict[str, float],
        holding: Callable[[], bool],
    ) -> None:
        self.player = player
        self.vts = vts
        self.period_s = 1 / rate_hz
        self.mouth_parameter = mouth_parameter
        self.smile = smile
        self.holding = holding  # a turn is under way: keep the mouth between its segments
        self.emotion = RESTING
        self.release_ticks = math.ceil(RELEASE_S * rate_hz)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        due = loop.time()
        left = 0  # ticks the closed mouth is still sent
        while True:
            for segment in self.player.started():
                if segment.emotion:
                    self.emotion = segment.emotion
                    self.vts.show(segment.emotion)
            speaking = self.player.busy
            if speaking or self.holding():
                left = self.release_ticks
            if left > 0:
                await self.vts.mouth(self.values(speaking))
                left -= 0 if speaking else 1
                if left == 0:
                    self.emotion = RESTING
            due += self.period_s
            delay = due - loop.time()
            if delay < -self.period_s:  # fell behind (a busy machine): no burst to catch up
                due, delay = loop.time(), 0.0
            await asyncio.sleep(max(0.0, delay))

    def values(self, speaking: bool) -> dict[str, float]:
        values = {self.mouth_parameter: self.player.mouth() if speaking else 0.0}
        if self.smile:
            emotion = self.emotion if speaking else RESTING
            values[SMILE_PARAMETER] = self.smile.get(emotion, self.smile.get(RESTING, 0.0))
        return values
