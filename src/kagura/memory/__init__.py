"""Long-term memory: viewer profiles, facts and episode summaries, kept per character."""

from .indexer import Embedder, Indexer
from .recall import Meaning
from .records import Kind, Note, Profile, Recall, Sighting, Speaker, ViewerKey
from .retention import Pruned
from .store import SHARED, MemoryStore

__all__ = [
    "SHARED",
    "Embedder",
    "Indexer",
    "Kind",
    "Meaning",
    "MemoryStore",
    "Note",
    "Profile",
    "Pruned",
    "Recall",
    "Sighting",
    "Speaker",
    "ViewerKey",
]
