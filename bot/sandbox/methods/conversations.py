"""conversations.replies, .history, .info, .open, .members, .list, .join.

Cursors hold the ts (or offset) where the next page starts, so a page stays correct while
new messages arrive, as Slack's do.
"""

from __future__ import annotations

from typing import Any

from bot.sandbox.ids import ts_key
from bot.sandbox.methods.args import ApiError, Call
from bot.sandbox.methods.common import (
    ApiContext,
    Handler,
    channel_arg,
    decode_cursor,
    encode_cursor,
    visible_channel,
)
from bot.sandbox.shapes import channel_json, message_json
from bot.sandbox.state import Message


def _in_range(messages: list[Message], call: Call) -> list[Message]:
    """Applies oldest/latest (exclusive unless inclusive=true)."""
    inclusive = call.flag("inclusive")
    oldest = ts_key(call.text("oldest")) if call.optional("oldest") else None
    latest = ts_key(call.text("latest")) if call.optional("latest") else None
    kept = []
    for message in messages:
        key = ts_key(message.ts)
        if oldest is not None and (key < oldest or (key == oldest and not inclusive)):
            continue
        if latest is not None and (key > latest or (key == latest and not inclusive)):
            continue
        kept.append(message)
    return kept


def _page(
    ctx: ApiContext, call: Call, messages: list[Message], *, newest_first: bool, limit: int
) -> dict[str, Any]:
    cursor = call.optional("cursor")
    if cursor:
        start = ts_key(decode_cursor(cursor))
        if newest_first:
            messages = [m for m in messages if ts_key(m.ts) <= start]
        else:
            messages = [m for m in messages if ts_key(m.ts) >= start]
    page, rest = messages[:limit], messages[limit:]
    with_metadata = call.flag("include_all_metadata")
    return {
        "messages": [message_json(m, ctx.ws, include_metadata=with_metadata) for m in page],
        "has_more": bool(rest),
        "response_metadata": {"next_cursor": encode_cursor(rest[0].ts) if rest else ""},
    }


def replies(ctx: ApiContext, call: Call) -> dict[str, Any]:
    channel = channel_arg(ctx, call)
    ts = call.text("ts", required=True)
    thread = ctx.ws.thread(channel, ts)
    if not thread:
        raise ApiError("thread_not_found", ts)
    limit = call.number("limit", 1000, high=1000)
    return _page(ctx, call, _in_range(thread, call), newest_first=False, limit=limit)


def history(ctx: ApiContext, call: Call) -> dict[str, Any]:
    channel = channel_arg(ctx, call)
    messages = list(reversed(_in_range(ctx.ws.top_level(channel), call)))
    limit = call.number("limit", 100, high=999)
    result = _page(ctx, call, messages, newest_first=True, limit=limit)
    result["pin_count"] = 0
    return result


def info(ctx: ApiContext, call: Call) -> dict[str, Any]:
    channel = visible_channel(ctx, call)
    return {"channel": channel_json(channel, ctx.ws)}


def open_conversation(ctx: ApiContext, call: Call) -> dict[str, Any]:
    if call.optional("channel"):
        channel = visible_channel(ctx, call)
    else:
        users = call.names("users")
        if not users:
            raise ApiError("users_list_not_supplied")
        others = [u for u in users if u != ctx.ws.identity.bot_user_id]
        if len(others) != 1:
            raise ApiError("not_supported", "group DMs are not emulated")
        user = ctx.ws.find_user(others[0])
        if user is None or user.is_bot:
            raise ApiError("user_not_found", others[0])
        channel = ctx.ws.dm_for(user.id)
    shape = channel_json(channel, ctx.ws) if call.flag("return_im") else {"id": channel.id}
    return {"no_op": True, "already_open": True, "channel": shape}


def members(ctx: ApiContext, call: Call) -> dict[str, Any]:
    channel = visible_channel(ctx, call)
    everyone = sorted(channel.members)
    limit = call.number("limit", 100, high=1000)
    cursor = call.optional("cursor")
    start = _offset(decode_cursor(cursor)) if cursor else 0
    page = everyone[start : start + limit]
    more = start + limit < len(everyone)
    return {
        "members": page,
        "response_metadata": {"next_cursor": encode_cursor(str(start + limit)) if more else ""},
    }


def _offset(raw: str) -> int:
    try:
        return max(0, int(raw))
    except ValueError as exc:
        raise ApiError("invalid_cursor", raw) from exc


def list_conversations(ctx: ApiContext, call: Call) -> dict[str, Any]:
    types = set(call.names("types") or ["public_channel"])
    found = []
    for channel in ctx.ws.channels.values():
        if channel.is_im:
            wanted = "im" in types
        elif channel.is_private:
            wanted = "private_channel" in types and ctx.ws.bot_is_member(channel)
        else:
            wanted = "public_channel" in types
        if wanted:
            found.append(channel_json(channel, ctx.ws))
    limit = call.number("limit", 100, high=1000)
    cursor = call.optional("cursor")
    start = _offset(decode_cursor(cursor)) if cursor else 0
    more = start + limit < len(found)
    return {
        "channels": found[start : start + limit],
        "response_metadata": {"next_cursor": encode_cursor(str(start + limit)) if more else ""},
    }


def join(ctx: ApiContext, call: Call) -> dict[str, Any]:
    channel = visible_channel(ctx, call)
    if channel.is_im or channel.is_private:
        raise ApiError("method_not_supported_for_channel_type", channel.id)
    already = ctx.ws.bot_is_member(channel)
    if not already:
        ctx.ws.set_member(channel, ctx.ws.identity.bot_user_id, True)
    result: dict[str, Any] = {"channel": channel_json(channel, ctx.ws)}
    if already:
        result["warning"] = "already_in_channel"
    return result


HANDLERS: dict[str, Handler] = {
    "conversations.replies": replies,
    "conversations.history": history,
    "conversations.info": info,
    "conversations.open": open_conversation,
    "conversations.members": members,
    "conversations.list": list_conversations,
    "conversations.join": join,
}
