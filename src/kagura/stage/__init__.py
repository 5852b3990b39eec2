"""The shared stage behind `/proxy-ws`: chat-flood policy, the runner, and what it publishes."""

from .events import Announced, ChatEvent, Interrupted, Lane, StageEvent
from .policy import ACCEPTED, FloodPolicy
from .stage import Stage
from .waiting import Batch

__all__ = [
    "ACCEPTED",
    "Announced",
    "Batch",
    "ChatEvent",
    "FloodPolicy",
    "Interrupted",
    "Lane",
    "Stage",
    "StageEvent",
]
