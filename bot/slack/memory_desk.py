"""What ``/teammate memory`` and its buttons do, apart from Slack's plumbing: find the memory a
request is about, draw it, change it, and record an admin's decision on a shared channel.

The memory is always found again from where the request came from (its channel, its person),
never from a button's value: a value only names a note inside that memory.
"""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk.web.async_client import AsyncWebClient

from bot.core.conversation import Scope
from bot.core.memory import ChannelMemory, MemoryProblem, Note
from bot.slack import memory_view as view
from bot.slack.admins import Admins
from bot.slack.directory import Directory

NO_MEMORY = (
    "This channel is shared with another organisation, so I keep no memory here. "
    "A workspace admin can allow it with `/teammate memory allow`."
)
NOT_SHARED = "This channel is not shared with another organisation: its memory is always on."
EMPTY_NOTE = "A note cannot be empty: use Clear to delete it."
ADMINS_ONLY = "Only a workspace admin can allow or deny memory in a shared channel."


@dataclass(frozen=True, slots=True)
class Place:
    """Where a request about memory came from: its scope, its name for people, and the key of
    its memory (None: this channel keeps none)."""

    scope: Scope
    name: str
    owner: str | None


class MemoryDesk:
    def __init__(self, memory: ChannelMemory, directory: Directory, admins: Admins) -> None:
        self.memory = memory
        self.directory = directory
        self.admins = admins

    async def place(self, client: AsyncWebClient, team: str, channel: str, user: str) -> Place:
        info = await self.directory.channel(client, channel)
        scope = Scope(team, channel, info.kind, "", user, channel_name=info.name)
        name = "your direct messages with Teammate" if info.kind == "dm" else info.name
        return Place(scope, name, await self.memory.access.owner(scope))

    async def page(self, place: Place) -> list[dict]:
        """The notes of ``place`` with their buttons (or why there are none)."""
        if place.owner is None:
            return view.plain(NO_MEMORY)
        return view.notes_blocks(place.name, await self.memory.store.notes(place.owner))

    async def note(self, place: Place, path: str) -> Note | None:
        return await self.memory.store.get(place.owner, path) if place.owner else None

    async def save(self, place: Place, path: str, text: str) -> str | None:
        """Save an edited note; the problem in words when it cannot be saved."""
        if place.owner is None:
            return NO_MEMORY
        if not text.strip():
            return EMPTY_NOTE
        try:
            await self.memory.store.write(place.owner, path, text, place.scope.user_id)
        except MemoryProblem as exc:
            return str(exc)
        return None

    async def clear(self, place: Place, path: str) -> list[dict]:
        if place.owner is not None:
            await self.memory.store.delete(place.owner, path)
        return await self.page(place)

    async def confirm_clear_all(self, place: Place) -> list[dict]:
        if place.owner is None:
            return view.plain(NO_MEMORY)
        count = len(await self.memory.store.notes(place.owner))
        return view.confirm_clear_blocks(place.name, count)

    async def clear_all(self, place: Place) -> list[dict]:
        if place.owner is not None:
            await self.memory.store.clear(place.owner)
        return await self.page(place)

    async def decide(self, client: AsyncWebClient, place: Place, allowed: bool) -> str:
        """An admin allows (or denies) memory in a shared channel; anyone else is told no."""
        scope = place.scope
        if scope.channel_kind != "shared":
            return NOT_SHARED
        if not await self.admins.is_admin(client, scope.user_id):
            return ADMINS_ONLY
        await self.memory.store.decide(scope.team_id, scope.channel_id, allowed, scope.user_id)
        state = "allowed" if allowed else "off"
        return f"Memory is now {state} in {place.name} (set by <@{scope.user_id}>)."
