"""The core's :class:`~bot.core.tools.workspace.WorkspaceReader` over Slack's Web API.

What the reading tools see, and the rule of who may see it: the answer's own thread and channel
are read as they are (the asker is in them); another channel is read only when both the asker
and Teammate are members of it (conversations.info says whether Teammate is, conversations.members
whether the asker is), so a private channel or DM the asker is not in is never read for them,
whatever id the model passes. A refusal says why in a sentence the model can pass on, without
naming a private channel the asker cannot see.

Every call waits for its turn in the workspace's lane for its method (bot.slack.render.limiter),
shared with every answer, so reading tools queue behind Slack's tiers instead of drawing 429s;
names come from the shared :class:`~bot.slack.directory.Directory` and message text is read back
from Slack's format as the thread itself is (bot.slack.context).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.conversation import Scope
from bot.core.tools.workspace import Messages, PostedMessage, Profile, ReadRefused
from bot.slack.context import ThreadReader
from bot.slack.directory import channel_kind
from bot.slack.render.limiter import shared_limiter, workspace_key

log = logging.getLogger("teammate.slack.workspace")

_MEMBERS_PAGE = 1000

NOT_VISIBLE = (
    "Teammate cannot see a channel {channel}: it does not exist, or it is private and "
    "Teammate was not added to it. Nothing was read."
)
BOT_NOT_IN = (
    "Teammate is not a member of {name}, so it cannot read it. Someone in the channel can add "
    "it with /invite @Teammate."
)
ASKER_NOT_IN = (
    "The person asking is not a member of that channel, so its messages are not read for "
    "them. Nothing was read."
)
NO_SUCH_USER = "There is no person with the id {user} in this workspace."
READ_FAILED = "Slack did not give the messages ({error}). Nothing was read."


class SlackWorkspace:
    """Reads threads, channels and profiles with ``client`` for the asker of each scope."""

    def __init__(self, client: AsyncWebClient, threads: ThreadReader) -> None:
        self.client = client
        self.threads = threads
        self.directory = threads.directory

    async def thread(self, scope: Scope) -> Messages:
        try:
            raw = await self.threads.messages(self.client, scope.channel_id, scope.thread_ts)
        except SlackApiError as exc:
            raise ReadRefused(READ_FAILED.format(error=_error(exc))) from None
        place = await self.directory.channel_name(self.client, scope.channel_id)
        link = await self._permalink(scope.channel_id, scope.thread_ts)
        return Messages(place, await self._posted(raw), link)

    async def channel(self, scope: Scope, channel_id: str | None, limit: int) -> Messages:
        target = channel_id or scope.channel_id
        if target == scope.channel_id:
            place = await self.directory.channel_name(self.client, target)
        else:
            place = await self._readable_for(scope, target)
        refusals = {"not_in_channel": BOT_NOT_IN.format(name=place)}
        page = await self._read("conversations.history", refusals, channel=target, limit=limit)
        raw = list(reversed(page.get("messages") or []))[-limit:]
        link = None
        if raw:
            newest = await self._permalink(target, raw[-1]["ts"])
            link = newest.rsplit("/p", 1)[0] if newest else None
        return Messages(place, await self._posted(raw), link)

    async def profile(self, scope: Scope, user_id: str) -> Profile:
        missing = NO_SUCH_USER.format(user=user_id)
        refusals = {"user_not_found": missing, "user_not_visible": missing}
        user = (await self._read("users.info", refusals, user=user_id))["user"]
        info = user.get("profile") or {}
        return Profile(
            id=user.get("id", user_id),
            name=info.get("display_name") or user.get("name") or user_id,
            real_name=info.get("real_name") or user.get("real_name") or "",
            title=info.get("title") or "",
            time_zone=_time_zone(user),
            is_admin=bool(user.get("is_admin")),
            is_owner=bool(user.get("is_owner") or user.get("is_primary_owner")),
            is_bot=bool(user.get("is_bot")),
            deleted=bool(user.get("deleted")),
        )

    # -- who may read what -------------------------------------------------------------------

    async def _readable_for(self, scope: Scope, channel_id: str) -> str:
        """The channel's name, once both Teammate and the asker are known to be in it."""
        unseen = NOT_VISIBLE.format(channel=channel_id)
        refusals = {"channel_not_found": unseen, "invalid_channel": unseen}
        info = await self._read("conversations.info", refusals, channel=channel_id)
        channel = info["channel"]
        kind = channel_kind(channel)
        name = "a direct message" if kind == "dm" else "#" + str(channel.get("name", channel_id))
        if not await self._is_member(scope, channel_id, scope.user_id):
            raise ReadRefused(ASKER_NOT_IN)
        if kind not in {"dm", "group_dm"} and not channel.get("is_member"):
            raise ReadRefused(BOT_NOT_IN.format(name=name))
        return name

    async def _is_member(self, scope: Scope, channel_id: str, user_id: str) -> bool:
        cursor = None
        while True:
            try:
                await self._turn("conversations.members")
                page = await self.client.conversations_members(
                    channel=channel_id, limit=_MEMBERS_PAGE, cursor=cursor
                )
            except SlackApiError as exc:
                log.info("members of %s not readable: %s", channel_id, _error(exc))
                return False
            if user_id in (page.get("members") or []):
                return True
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return False

    # -- helpers -----------------------------------------------------------------------------

    async def _read(self, method: str, refusals: Mapping[str, str], **args: Any) -> Any:
        """One Web API call, after its turn in the lane; an error becomes the refusal
        ``refusals`` names for its code, else a plain "Slack did not give…"."""
        await self._turn(method)
        try:
            return await getattr(self.client, method.replace(".", "_"))(**args)
        except SlackApiError as exc:
            words = refusals.get(_error(exc)) or READ_FAILED.format(error=_error(exc))
            raise ReadRefused(words) from None

    async def _posted(self, raw: list[dict[str, Any]]) -> tuple[PostedMessage, ...]:
        replies = {m.get("ts"): int(m.get("reply_count") or 0) for m in raw}
        turns = await self.threads.turns(self.client, raw)
        return tuple(
            PostedMessage(t.speaker, t.text, t.ts or "", replies.get(t.ts, 0)) for t in turns
        )

    async def _permalink(self, channel_id: str, ts: str) -> str | None:
        """A link to the message, or None: a missing link never fails a read."""
        try:
            await self._turn("chat.getPermalink")
            answer = await self.client.chat_getPermalink(channel=channel_id, message_ts=ts)
        except SlackApiError as exc:
            log.info("no permalink for %s/%s: %s", channel_id, ts, _error(exc))
            return None
        link = answer.get("permalink")
        return link if isinstance(link, str) and link else None

    async def _turn(self, method: str) -> None:
        await shared_limiter().lane(workspace_key(self.client.token), method).turn()


def _error(exc: SlackApiError) -> str:
    return str(exc.response.get("error") or "unknown_error")


def _time_zone(user: dict[str, Any]) -> str:
    zone, label = user.get("tz") or "", user.get("tz_label") or ""
    offset = user.get("tz_offset")
    if isinstance(offset, int):
        hours, minutes = divmod(abs(offset) // 60, 60)
        sign = "+" if offset >= 0 else "-"
        utc = f"UTC{sign}{hours:02d}:{minutes:02d}"
        zone = f"{zone} ({utc})" if zone else utc
    if label and label != user.get("tz"):
        zone = f"{zone}, {label}" if zone else label
    return zone
