"""What every Web API method needs: the workspace, its settings, and Slack's access rules."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.sandbox.config import SandboxConfig
from bot.sandbox.events import EventEmitter
from bot.sandbox.limits import MESSAGE_BLOCKS_MAX, BlocksError, check_blocks, parse_blocks
from bot.sandbox.methods.args import ApiError, Call
from bot.sandbox.modals import Views
from bot.sandbox.sockets import SocketHub
from bot.sandbox.state import Channel, Message, Workspace


@dataclass
class ApiContext:
    """Handed to each method handler."""

    ws: Workspace
    config: SandboxConfig
    events: EventEmitter
    base_url: Callable[[], str]
    sockets: SocketHub | None = None
    views: Views | None = None


Handler = Callable[[ApiContext, Call], dict[str, Any]]


def channel_arg(ctx: ApiContext, call: Call, name: str = "channel") -> Channel:
    """A conversation the bot may use: unknown or unseen private → channel_not_found,
    a public channel the bot is not in → not_in_channel."""
    ref = call.text(name, required=True, error="channel_not_found")
    channel = ctx.ws.find_channel(ref)
    if channel is None:
        raise ApiError("channel_not_found", ref)
    if not ctx.ws.bot_is_member(channel):
        if channel.is_private:
            raise ApiError("channel_not_found", ref)
        raise ApiError("not_in_channel", ref)
    return channel


def visible_channel(ctx: ApiContext, call: Call, name: str = "channel") -> Channel:
    """A conversation the bot can see (public ones without being a member)."""
    ref = call.text(name, required=True, error="channel_not_found")
    channel = ctx.ws.find_channel(ref)
    if channel is None or (channel.is_private and not ctx.ws.bot_is_member(channel)):
        raise ApiError("channel_not_found", ref)
    return channel


def blocks_arg(
    call: Call, name: str = "blocks", *, max_blocks: int = MESSAGE_BLOCKS_MAX
) -> list[dict[str, Any]] | None:
    """Blocks checked against Slack's limits; invalid_blocks otherwise."""
    try:
        blocks = parse_blocks(call.raw(name))
        if blocks is not None:
            check_blocks(blocks, max_blocks=max_blocks)
    except BlocksError as exc:
        raise ApiError("invalid_blocks", str(exc)) from exc
    return blocks


def metadata_arg(call: Call) -> dict[str, Any] | None:
    metadata = call.structured("metadata")
    if metadata is None:
        return None
    if not isinstance(metadata, dict) or not isinstance(metadata.get("event_type"), str):
        raise ApiError("invalid_metadata_format", "metadata needs event_type")
    return metadata


def own_message(ctx: ApiContext, channel: Channel, ts: str, *, error: str) -> Message:
    """A message the bot wrote; message_not_found or `error` otherwise."""
    message = ctx.ws.find_message(channel, ts)
    if message is None:
        raise ApiError("message_not_found", ts)
    if message.bot_id != ctx.ws.identity.bot_id:
        raise ApiError(error, "not the bot's message")
    return message


def bot_post(
    ctx: ApiContext,
    channel: Channel,
    *,
    text: str,
    blocks: list[dict[str, Any]] | None = None,
    thread_ts: str | None = None,
    metadata: dict[str, Any] | None = None,
    streaming: bool = False,
) -> Message:
    """Stores a message written by the bot; clears the thread's "is thinking…" status."""
    ident = ctx.ws.identity
    if thread_ts and ctx.ws.find_message(channel, thread_ts) is None:
        raise ApiError("thread_not_found", thread_ts)
    message = ctx.ws.post(
        channel,
        text=text,
        user=ident.bot_user_id,
        bot_id=ident.bot_id,
        app_id=ident.app_id,
        blocks=blocks,
        thread_ts=thread_ts,
        metadata=metadata,
        streaming=streaming,
    )
    message.markdown = streaming
    if message.thread_ts:
        clear_status(ctx, channel.id, message.thread_ts)
    return message


def clear_status(ctx: ApiContext, channel_id: str, thread_ts: str) -> None:
    """Slack clears an assistant status when the app replies in the thread."""
    thread = ctx.ws.assistant.get((channel_id, thread_ts))
    if thread is not None and thread.status:
        thread.status = ""
        thread.loading_messages = []
        thread.status_history.append(
            {"status": "", "loading_messages": [], "t": time.monotonic(), "cleared_by": "reply"}
        )
        ctx.ws.changed("assistant", channel=channel_id, thread_ts=thread_ts)


def encode_cursor(value: str) -> str:
    return base64.b64encode(f"next:{value}".encode()).decode()


def decode_cursor(cursor: str) -> str:
    try:
        raw = base64.b64decode(cursor.encode(), validate=True).decode()
    except ValueError as exc:
        raise ApiError("invalid_cursor", cursor) from exc
    if not raw.startswith("next:"):
        raise ApiError("invalid_cursor", cursor)
    return raw[len("next:") :]
