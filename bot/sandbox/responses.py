"""response_url hooks for slash commands and interactions, and what their replies create.

A reply is ephemeral unless it says response_type "in_channel"; an interaction's reply can
replace or delete the message that held the button. As in Slack, a URL works 5 times within
30 minutes, and in_channel replies appear even where the bot is not a member.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.sandbox.events import EventEmitter
from bot.sandbox.limits import BlocksError, check_blocks, parse_blocks, truncate_text
from bot.sandbox.shapes import message_json
from bot.sandbox.state import Channel, Message, Workspace

MAX_USES = 5
LIFETIME_S = 30 * 60


@dataclass
class Hook:
    """One response_url: where its replies go."""

    token: str
    kind: str
    channel: str
    user: str
    message_ts: str | None = None
    is_ephemeral: bool = False
    thread_ts: str | None = None
    uses: int = 0
    created: float = 0.0


class HookError(Exception):
    def __init__(self, error: str, status: int) -> None:
        super().__init__(error)
        self.error = error
        self.status = status


def post_as_bot(
    ws: Workspace,
    events: EventEmitter,
    channel: Channel,
    *,
    text: str,
    blocks: list[dict[str, Any]] | None,
    thread_ts: str | None = None,
) -> Message:
    """A message from the app that did not come through chat.postMessage."""
    ident = ws.identity
    if thread_ts and ws.find_message(channel, thread_ts) is None:
        thread_ts = None
    message = ws.post(
        channel,
        text=text,
        user=ident.bot_user_id,
        bot_id=ident.bot_id,
        app_id=ident.app_id,
        blocks=blocks,
        thread_ts=thread_ts,
    )
    events.message_posted(message)
    return message


class ResponseUrls:
    """Creates hooks and serves POST /hooks/respond/{token}."""

    def __init__(self, ws: Workspace, events: EventEmitter, base_url: Callable[[], str]) -> None:
        self.ws = ws
        self.events = events
        self._base_url = base_url
        self._hooks: dict[str, Hook] = {}

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/hooks/respond/{token}", self.handle)]

    def create(self, kind: str, channel: str, user: str, **extra: Any) -> Hook:
        hook = Hook(
            token=secrets.token_urlsafe(18),
            kind=kind,
            channel=channel,
            user=user,
            created=time.monotonic(),
            **extra,
        )
        self._hooks[hook.token] = hook
        return hook

    def url(self, hook: Hook) -> str:
        return f"{self._base_url()}/hooks/respond/{hook.token}"

    def clear(self) -> None:
        self._hooks.clear()

    async def handle(self, request: web.Request) -> web.Response:
        hook = self._hooks.get(request.match_info["token"])
        try:
            if hook is None:
                raise HookError("no_such_url", 404)
            body = await self._body(request)
            self.use(hook, body)
        except HookError as exc:
            return web.json_response({"ok": False, "error": exc.error}, status=exc.status)
        return web.json_response({"ok": True})

    async def _body(self, request: web.Request) -> dict[str, Any]:
        raw = await request.text()
        if request.content_type != "application/json":
            form = await request.post()
            raw = str(form.get("payload", raw))
        try:
            body = json.loads(raw)
        except ValueError as exc:
            raise HookError("invalid_payload", 400) from exc
        if not isinstance(body, dict):
            raise HookError("invalid_payload", 400)
        return body

    def use(self, hook: Hook, body: dict[str, Any]) -> None:
        """Applies one reply through the hook, counting it against the hook's uses."""
        if time.monotonic() - hook.created > LIFETIME_S:
            raise HookError("expired_url", 404)
        if hook.uses >= MAX_USES:
            raise HookError("used_url", 404)
        hook.uses += 1
        self.apply(hook, body)

    def apply(self, hook: Hook, body: dict[str, Any]) -> None:
        """Shows a reply: ephemeral, in the channel, or in place of the original message."""
        try:
            blocks = parse_blocks(body.get("blocks"))
            if blocks is not None:
                check_blocks(blocks)
        except BlocksError as exc:
            raise HookError("invalid_blocks", 400) from exc
        text = truncate_text(str(body.get("text") or ""))[0]
        channel = self.ws.channels.get(hook.channel)
        if channel is None:
            raise HookError("channel_not_found", 404)
        if body.get("delete_original") and hook.message_ts:
            self._delete_original(hook, channel)
            return
        if body.get("replace_original") and hook.message_ts:
            self._replace_original(hook, channel, text, blocks)
            return
        if not text and not blocks:
            raise HookError("no_text", 400)
        thread_ts = body.get("thread_ts") or hook.thread_ts
        if body.get("response_type") == "in_channel":
            post_as_bot(
                self.ws, self.events, channel, text=text, blocks=blocks, thread_ts=thread_ts
            )
        else:
            self.ws.add_ephemeral(
                channel,
                hook.user,
                text=text,
                blocks=blocks,
                thread_ts=thread_ts,
                source="response_url",
                author=self.ws.identity.bot_user_id,
            )

    def _replace_original(
        self, hook: Hook, channel: Channel, text: str, blocks: list[dict[str, Any]] | None
    ) -> None:
        if hook.is_ephemeral:
            note = self.ws.find_ephemeral(hook.user, hook.message_ts or "")
            if note is None:
                raise HookError("message_not_found", 404)
            note.text, note.blocks = text, blocks
            self.ws.changed("ephemeral", channel=channel.id, user=hook.user, ts=note.ts)
            return
        message = self.ws.find_message(channel, hook.message_ts)
        if message is None:
            raise HookError("message_not_found", 404)
        previous = message_json(message, self.ws)
        self.ws.edit(message, text=text, blocks=blocks if blocks is not None else [])
        self.events.message_changed(message, previous)

    def _delete_original(self, hook: Hook, channel: Channel) -> None:
        if hook.is_ephemeral:
            notes = self.ws.ephemeral.get(hook.user, [])
            self.ws.ephemeral[hook.user] = [n for n in notes if n.ts != hook.message_ts]
            self.ws.changed("ephemeral", channel=channel.id, user=hook.user, ts=hook.message_ts)
            return
        message = self.ws.find_message(channel, hook.message_ts)
        if message is not None:
            previous = message_json(message, self.ws)
            self.ws.delete(message)
            self.events.message_deleted(message, previous)
