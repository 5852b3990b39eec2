"""End-of-turn models, chosen by `voice.turn.provider`: does a pause end the speaker's turn?"""

from __future__ import annotations

from collections.abc import Callable

from kagura.config import EndOfTurnConfig
from kagura.engines.registry import Registry

from .base import EndOfTurnModel

__all__ = ["PROVIDERS", "EndOfTurnModel", "create"]

PROVIDERS: Registry[Callable[[EndOfTurnConfig], EndOfTurnModel]] = Registry(
    "turn",
    {
        "silence": "kagura.engines.endpointing.silence:SilenceOnly",
        "smart_turn": "kagura.engines.endpointing.smart_turn:SmartTurn",
    },
)


def create(config: EndOfTurnConfig) -> EndOfTurnModel:
    """Build the model named by `voice.turn.provider`; nothing is loaded until first use."""
    return PROVIDERS.resolve(config.provider)(config)
