"""The shared stage behind `/proxy-ws`: chat-flood policy, runner and broadcast."""

from .events import ChatEvent, Lane, chat_event
from .policy import ACCEPTED, Batch, FloodPolicy
from .stage import Stage

__all__ = ["ACCEPTED", "Batch", "ChatEvent", "FloodPolicy", "Lane", "Stage", "chat_event"]
