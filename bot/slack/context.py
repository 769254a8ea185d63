"""Builds the `Conversation` the model answers from a Slack thread, with its `Scope`.

Every message of the thread becomes a turn with its speaker's display name; Teammate's own
messages become the assistant's turns. People's text is read back from Slack's format
(bot.slack.message_format): mentions as names, links as Markdown, escapes undone. The scope
tells the core where it answers and for whom: team, channel and its kind, thread, person.
Fitting the thread into the model's window is the core's job (it knows the window); nothing is
cut here. The names and the channel's kind are looked up together, not one after another: each
lookup is a Web API round trip the model's request waits for.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from slack_sdk.web.async_client import AsyncWebClient

from bot.core.conversation import Conversation, Scope, Turn
from bot.slack import marks, message_format
from bot.slack.directory import Directory
from bot.slack.render.limiter import shared_limiter, workspace_key

_MAX_MESSAGES = 1000


@dataclass(frozen=True)
class BotIdentity:
    user_id: str
    bot_id: str
    team_name: str = ""


class ThreadReader:
    def __init__(self, identity: BotIdentity, directory: Directory) -> None:
        self.identity = identity
        self.directory = directory

    async def conversation(
        self, client: AsyncWebClient, channel: str, thread_ts: str, asker: str, team_id: str
    ) -> Conversation:
        messages = await self.messages(client, channel, thread_ts)
        return await self._conversation(client, messages, channel, thread_ts, asker, team_id)

    async def opening(
        self, client: AsyncWebClient, message: dict, asker: str, team_id: str
    ) -> Conversation:
        """The conversation of a message that opens its thread: that message alone, as the
        event carried it, so no thread read (a Tier 3 call) is spent on it."""
        channel, ts = message["channel"], message["ts"]
        return await self._conversation(client, [message], channel, ts, asker, team_id)

    async def _conversation(
        self,
        client: AsyncWebClient,
        messages: list[dict],
        channel: str,
        thread_ts: str,
        asker: str,
        team_id: str,
    ) -> Conversation:
        turns, scope = await asyncio.gather(
            self.turns(client, messages), self.scope(client, channel, thread_ts, asker, team_id)
        )
        return Conversation(turns=turns, scope=scope)

    async def turns(self, client: AsyncWebClient, messages: list[dict]) -> list[Turn]:
        """The messages that say something, each as a turn with its speaker's name (the
        speakers' names looked up together first)."""
        speakers = {m["user"] for m in messages if m.get("user") and not m.get("bot_id")}
        await asyncio.gather(*(self.directory.user_name(client, u) for u in speakers))
        return [turn for m in messages if (turn := await self._turn(client, m)) is not None]

    async def question(
        self,
        client: AsyncWebClient,
        channel: str,
        thread_ts: str,
        asker: str,
        team_id: str,
        text: str,
    ) -> Conversation:
        """A conversation of one question (a slash command, where there is no thread yet)."""
        scope, readable = await asyncio.gather(
            self.scope(client, channel, thread_ts, asker, team_id), self._readable(client, text)
        )
        return Conversation(turns=[Turn("user", readable, scope.user_name)], scope=scope)

    async def scope(
        self, client: AsyncWebClient, channel: str, thread_ts: str, asker: str, team_id: str
    ) -> Scope:
        info, user_name = await asyncio.gather(
            self.directory.channel(client, channel), self.directory.user_name(client, asker)
        )
        return Scope(
            team_id=team_id,
            channel_id=channel,
            channel_kind=info.kind,
            thread_ts=thread_ts,
            user_id=asker,
            team_name=self.identity.team_name,
            channel_name=info.name,
            user_name=user_name,
        )

    def is_ours(self, message: dict) -> bool:
        return message.get("bot_id") == self.identity.bot_id or (
            message.get("user") == self.identity.user_id
        )

    async def messages(self, client: AsyncWebClient, channel: str, ts: str) -> list[dict]:
        """The thread's messages, oldest first (at most the first thousand). Each page waits
        for its turn in the workspace's conversations.replies lane, shared by every answer, so
        a crowd of answers queues here instead of drawing Slack's 429s."""
        messages: list[dict] = []
        cursor = None
        lane = shared_limiter().lane(workspace_key(client.token), "conversations.replies")
        while len(messages) < _MAX_MESSAGES:
            async with lane.call():
                page = await client.conversations_replies(
                    channel=channel, ts=ts, limit=200, cursor=cursor, include_all_metadata=True
                )
            messages += page.get("messages", [])
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
        return messages

    async def _turn(self, client: AsyncWebClient, message: dict) -> Turn | None:
        text = message.get("text") or ""
        metadata = message.get("metadata") or {}
        if metadata.get("event_type") == marks.QUESTION:
            payload = metadata.get("event_payload") or {}
            asker = payload.get("user", "")
            name = await self.directory.user_name(client, asker) if asker else "someone"
            question = await self._readable(client, payload.get("question", text))
            return Turn("user", question, name, message.get("ts"))
        if not text.strip() or message.get("subtype") in {"channel_join", "channel_leave"}:
            return None
        if self.is_ours(message):
            return Turn("assistant", message_format.decode(text), "Teammate", message.get("ts"))
        if message.get("bot_id"):
            speaker = (message.get("bot_profile") or {}).get("name") or message.get(
                "username", "a bot"
            )
        else:
            speaker = await self.directory.user_name(client, message.get("user", ""))
        return Turn("user", await self._readable(client, text), speaker, message.get("ts"))

    async def _readable(self, client: AsyncWebClient, text: str) -> str:
        """The text as the person wrote it; a leading mention of Teammate itself is dropped."""
        text = message_format.without_leading_mention(text, self.identity.user_id)
        users = {self.identity.user_id: "Teammate"}
        channels: dict[str, str] = {}
        for mention in message_format.mentions(text):
            if mention.kind == "user" and mention.id not in users:
                users[mention.id] = await self.directory.user_name(client, mention.id)
            elif mention.kind == "channel":
                channels[mention.id] = await self.directory.channel_name(client, mention.id)
        return message_format.decode(text, users.__getitem__, channels.__getitem__).strip()
