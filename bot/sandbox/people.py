"""What people do in the Slack client: post, edit and delete messages, open the assistant
panel or the App Home. Each action changes the workspace and sends the events Slack would.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from bot.sandbox import payloads
from bot.sandbox.events import EventEmitter
from bot.sandbox.lookup import ControlError, require_channel, require_message, require_user
from bot.sandbox.shapes import message_json
from bot.sandbox.state import Workspace

_AT_NAME = re.compile(r"(?<![\w<@/.])@([A-Za-z0-9][A-Za-z0-9._-]*)")


class People:
    """Acts as the workspace's users."""

    def __init__(self, ws: Workspace, events: EventEmitter) -> None:
        self.ws = ws
        self.events = events

    def encode_mentions(self, text: str) -> str:
        """Turns "@alice" or "@teammate" into <@U...>, as Slack's client does when sending."""

        def swap(match: re.Match[str]) -> str:
            user = self.ws.find_user(match.group(1))
            return f"<@{user.id}>" if user is not None else match.group(0)

        return _AT_NAME.sub(swap, text)

    def post_message(
        self,
        user: str,
        channel: str,
        text: str,
        thread_ts: str | None = None,
        blocks: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Posts as a person and delivers the resulting events."""
        person = require_user(self.ws, user)
        room = require_channel(self.ws, channel)
        if person.is_bot:
            raise ControlError("the bot posts through the Web API, not the control API")
        if person.id not in room.members:
            raise ControlError(f"{person.name} is not a member of {room.name}")
        if thread_ts:
            require_message(self.ws, room, thread_ts)
        text = self.encode_mentions(text)
        message = self.ws.post(
            room,
            text=text,
            user=person.id,
            blocks=blocks if blocks is not None else payloads.rich_text_blocks(text),
            thread_ts=thread_ts,
            client_msg_id=str(uuid.uuid4()),
        )
        event_ids = self.events.message_posted(message)
        return {
            "ts": message.ts,
            "channel": room.id,
            "thread_ts": message.thread_ts,
            "event_ids": event_ids,
        }

    def edit_message(self, channel: str, ts: str, text: str) -> dict[str, Any]:
        """Edits a message (as its author) and sends message_changed."""
        room = require_channel(self.ws, channel)
        message = require_message(self.ws, room, ts)
        previous = message_json(message, self.ws)
        text = self.encode_mentions(text)
        blocks = None if message.bot_id else payloads.rich_text_blocks(text)
        self.ws.edit(message, text=text, blocks=blocks, editor=message.user)
        event_ids = self.events.message_changed(message, previous)
        return {"ts": message.ts, "channel": room.id, "event_ids": event_ids}

    def delete_message(self, channel: str, ts: str) -> dict[str, Any]:
        """Deletes a message and sends message_deleted."""
        room = require_channel(self.ws, channel)
        message = require_message(self.ws, room, ts)
        previous = message_json(message, self.ws)
        self.ws.delete(message)
        event_ids = self.events.message_deleted(message, previous)
        return {"ts": ts, "channel": room.id, "event_ids": event_ids}

    def open_assistant_thread(
        self, user: str, context_channel: str | None = None
    ) -> dict[str, Any]:
        """Opens the assistant panel: a new thread in the user's DM with the bot."""
        person = require_user(self.ws, user)
        dm = self.ws.dm_for(person.id)
        ident = self.ws.identity
        parent = self.ws.post(
            dm,
            text="New chat",
            user=ident.bot_user_id,
            bot_id=ident.bot_id,
            app_id=ident.app_id,
            subtype="assistant_app_thread",
        )
        context: dict[str, Any] = {}
        if context_channel:
            seen = require_channel(self.ws, context_channel)
            context = {"channel_id": seen.id, "team_id": ident.team_id, "enterprise_id": None}
        thread = self.ws.assistant_thread(dm.id, parent.ts)
        thread.user_id, thread.context = person.id, context
        event_ids = self.events.assistant_thread_started(person.id, dm, parent.ts, context)
        return {"channel": dm.id, "thread_ts": parent.ts, "event_ids": event_ids}

    def open_home(self, user: str) -> dict[str, Any]:
        """Opens the App Home tab, which sends app_home_opened."""
        person = require_user(self.ws, user)
        return {"event_ids": self.events.app_home_opened(person.id)}
