"""Names of people and channels, cached: the model sees "Alice: ..." rather than "<@U0ALICE>".

users.info and conversations.info cost rate-limited calls; names change rarely, so each is
kept for an hour per process.
"""

from __future__ import annotations

import time

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

_TTL = 3600.0


class Directory:
    def __init__(self, max_entries: int = 10_000) -> None:
        self._names: dict[str, tuple[float, str]] = {}
        self._max = max_entries

    async def user_name(self, client: AsyncWebClient, user_id: str) -> str:
        return await self._cached(user_id, lambda: self._fetch_user(client, user_id))

    async def channel_name(self, client: AsyncWebClient, channel_id: str) -> str:
        return await self._cached(channel_id, lambda: self._fetch_channel(client, channel_id))

    async def _cached(self, key: str, fetch) -> str:  # type: ignore[no-untyped-def]
        hit = self._names.get(key)
        if hit and hit[0] > time.monotonic():
            return hit[1]
        name = await fetch()
        if len(self._names) >= self._max:
            self._names.clear()
        self._names[key] = (time.monotonic() + _TTL, name)
        return name

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
    async def _fetch_channel(client: AsyncWebClient, channel_id: str) -> str:
        try:
            channel = (await client.conversations_info(channel=channel_id))["channel"]
        except SlackApiError:
            return channel_id
        if channel.get("is_im"):
            return "a direct message"
        return "#" + channel.get("name", channel_id)
