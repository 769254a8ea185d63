"""Names of people and channels, and what kind of channel each is, cached.

The model sees "Alice: ..." rather than "<@U0ALICE>", and the core is told whether a channel
is public, private, a DM or shared with another organisation. users.info and
conversations.info cost rate-limited calls; names change rarely, so each is kept for an hour
per process. Answers that need the same lookup at the same moment (a crowd asking at once in
one channel) share the one call in flight instead of each making it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.conversation import ChannelKind

_TTL = 3600.0
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class ChannelInfo:
    name: str
    kind: ChannelKind


def channel_kind(channel: dict) -> ChannelKind:
    """The kind of a conversations.info channel object (shared wins over private)."""
    if channel.get("is_im"):
        return "dm"
    if channel.get("is_ext_shared") or channel.get("is_shared"):
        return "shared"
    if channel.get("is_mpim"):
        return "group_dm"
    if channel.get("is_private") or channel.get("is_group"):
        return "private"
    return "public"


class Directory:
    def __init__(self, max_entries: int = 10_000) -> None:
        self._entries: dict[str, tuple[float, object]] = {}
        self._looking: dict[str, asyncio.Future[Any]] = {}
        self._max = max_entries

    async def user_name(self, client: AsyncWebClient, user_id: str) -> str:
        return await self._cached(f"u:{user_id}", lambda: self._fetch_user(client, user_id))

    async def channel(self, client: AsyncWebClient, channel_id: str) -> ChannelInfo:
        return await self._cached(
            f"c:{channel_id}", lambda: self._fetch_channel(client, channel_id)
        )

    async def channel_name(self, client: AsyncWebClient, channel_id: str) -> str:
        return (await self.channel(client, channel_id)).name

    async def _cached(self, key: str, fetch: Callable[[], Awaitable[_T]]) -> _T:
        hit = self._entries.get(key)
        if hit and hit[0] > time.monotonic():
            return hit[1]  # type: ignore[return-value]
        looking = self._looking.get(key)
        if looking is None:
            looking = self._looking[key] = asyncio.ensure_future(self._fill(key, fetch))
        # shielded: one answer given up on does not cancel a lookup others wait for
        return await asyncio.shield(looking)

    async def _fill(self, key: str, fetch: Callable[[], Awaitable[_T]]) -> _T:
        try:
            value = await fetch()
        finally:
            del self._looking[key]
        if len(self._entries) >= self._max:
            self._entries.clear()
        self._entries[key] = (time.monotonic() + _TTL, value)
        return value

    @staticmethod
    async def _fetch_user(client: AsyncWebClient, user_id: str) -> str:
        try:
            user = (await client.users_info(user=user_id))["user"]
        except SlackApiError:
            return user_id
        profile = user.get("profile") or {}
        return (
            profile.get("display_name")
            or profile.get("real_name")
            or user.get("real_name")
            or user.get("name")
            or user_id
        )

    @staticmethod
    async def _fetch_channel(client: AsyncWebClient, channel_id: str) -> ChannelInfo:
        try:
            channel = (await client.conversations_info(channel=channel_id))["channel"]
        except SlackApiError:
            kind: ChannelKind = "dm" if channel_id.startswith("D") else "public"
            return ChannelInfo(channel_id, kind)
        kind = channel_kind(channel)
        if kind == "dm":
            return ChannelInfo("a direct message", kind)
        return ChannelInfo("#" + channel.get("name", channel_id), kind)
