"""Whose memory an answer uses, and whether it may use one at all.

A channel's memory is the channel's, shared by all its threads; a direct message's is the
person's (each person's DM with Teammate keeps their own notes). A channel shared with another
organisation has none unless an admin allowed it: people from outside would otherwise read
notes kept for the team, or leave notes the team's answers then trust.
"""

from __future__ import annotations

from bot.core.conversation import Scope
from bot.core.memory.store import MemoryStore


def owner_of(scope: Scope) -> str:
    """The key of the memory an answer in ``scope`` reads and writes."""
    if scope.channel_kind == "dm":
        return f"person:{scope.team_id}:{scope.user_id}"
    return f"channel:{scope.team_id}:{scope.channel_id}"


class MemoryAccess:
    """Answers "which memory here, if any?" for a scope."""

    def __init__(self, store: MemoryStore) -> None:
        self.store = store

    async def owner(self, scope: Scope) -> str | None:
        """The memory's key in ``scope``, or None where there is no memory."""
        if scope.channel_kind == "shared" and not await self.store.allowed(
            scope.team_id, scope.channel_id
        ):
            return None
        return owner_of(scope)
