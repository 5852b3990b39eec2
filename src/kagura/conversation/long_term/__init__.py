"""Long-term memory as a conversation uses it: recall before a turn (`recall`), facts and
summaries written after it (`extraction`), and the keeper that schedules both (`memory`).
The store itself (viewer profiles, notes, search) is `kagura.memory`."""

from .memory import LongTermMemory, scope_of

__all__ = ["LongTermMemory", "scope_of"]
