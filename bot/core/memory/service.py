"""The memory as the rest of the product uses it: one object built at start.

The agent takes its capability (the native declaration) and asks it to brief each answer; the
registry takes its tool; ``/teammate memory`` reads, edits and clears notes and records admins'
decisions through it.
"""

from __future__ import annotations

from pydantic_ai.capabilities import NativeTool

from bot.core.catalog import ModelSpec
from bot.core.conversation import Conversation
from bot.core.deps import AnswerDeps
from bot.core.memory.access import MemoryAccess
from bot.core.memory.briefing import Briefing, MemoryBriefing
from bot.core.memory.files import MemoryFiles
from bot.core.memory.store import MemoryStore
from bot.core.memory.tool import memory_tool, native_memory
from bot.core.prompts import Prompts
from bot.core.store.db import Database
from bot.core.tools.registry import ToolDef


class ChannelMemory:
    def __init__(self, db: Database, prompts: Prompts) -> None:
        self.store = MemoryStore(db)
        self.access = MemoryAccess(self.store)
        self.files = MemoryFiles(self.store)
        self._briefing = MemoryBriefing(self.access, self.store, prompts)

    def tool(self) -> ToolDef:
        return memory_tool(self.access, self.files)

    def capability(self) -> NativeTool[AnswerDeps]:
        return native_memory(self.access)

    async def brief(self, conversation: Conversation, spec: ModelSpec) -> Briefing:
        return await self._briefing.brief(conversation, spec)
