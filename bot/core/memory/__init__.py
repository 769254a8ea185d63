"""A memory per channel: notes as files under ``/memories``, kept in the database.

A channel's notes are shared by all its threads; in a direct message they belong to that
person. The model reads and edits them with the ``memory`` tool (Anthropic's memory tool
commands); models without tools get them in their prompt. A channel shared with another
organisation has no memory until an admin allows it.

Each answer reads its memory from the database, never from a cache, so replicas see each
other's notes at once: one indexed query per answer (see :mod:`bot.core.memory.briefing`).
"""

from bot.core.memory.access import MemoryAccess, owner_of
from bot.core.memory.briefing import Briefing
from bot.core.memory.files import MemoryFiles
from bot.core.memory.paths import ROOT, MemoryProblem
from bot.core.memory.service import ChannelMemory
from bot.core.memory.store import MemoryStore, Note

__all__ = [
    "ROOT",
    "Briefing",
    "ChannelMemory",
    "MemoryAccess",
    "MemoryFiles",
    "MemoryProblem",
    "MemoryStore",
    "Note",
    "owner_of",
]
