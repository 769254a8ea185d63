"""chat.postMessage, chat.update, chat.delete, chat.postEphemeral, chat.getPermalink."""

from __future__ import annotations

from typing import Any

from bot.sandbox.limits import UPDATE_TEXT_MAX, truncate_text
from bot.sandbox.methods.args import ApiError, Call
from bot.sandbox.methods.common import (
    ApiContext,
    Handler,
    blocks_arg,
    bot_post,
    channel_arg,
    metadata_arg,
    own_message,
    visible_channel,
)
from bot.sandbox.shapes import message_json


def _text(call: Call) -> str | None:
    """`text`, or the newer `markdown_text`; None when neither was given."""
    for name in ("text", "markdown_text"):
        if call.raw(name) is not None:
            return call.text(name)
    return None


def post_message(ctx: ApiContext, call: Call) -> dict[str, Any]:
    channel = channel_arg(ctx, call)
    blocks = blocks_arg(call)
    text = _text(call) or ""
    if not text and not blocks and not call.structured("attachments"):
        raise ApiError("no_text")
    text, cut = truncate_text(text)
    if cut:
        call.notes.append("truncated")
    message = bot_post(
        ctx,
        channel,
        text=text,
        blocks=blocks,
        thread_ts=call.optional("thread_ts"),
        metadata=metadata_arg(call),
    )
    message.truncated = cut
    ctx.events.message_posted(message)
    return {"channel": channel.id, "ts": message.ts, "message": message_json(message, ctx.ws)}


def update(ctx: ApiContext, call: Call) -> dict[str, Any]:
    channel = channel_arg(ctx, call)
    ts = call.text("ts", required=True, error="message_not_found")
    message = own_message(ctx, channel, ts, error="cant_update_message")
    text = _text(call)
    blocks = blocks_arg(call)
    if text is not None and len(text) > UPDATE_TEXT_MAX:
        raise ApiError("msg_too_long", f"{len(text)} characters, more than {UPDATE_TEXT_MAX}")
    if not text and blocks is None:
        raise ApiError("no_text")
    previous = message_json(message, ctx.ws)
    metadata = metadata_arg(call)
    if metadata is not None:
        message.metadata = metadata
    ctx.ws.edit(message, text=text, blocks=blocks, editor=ctx.ws.identity.bot_user_id)
    ctx.events.message_changed(message, previous)
    return {
        "channel": channel.id,
        "ts": message.ts,
        "text": message.text,
        "message": message_json(message, ctx.ws),
    }


def delete(ctx: ApiContext, call: Call) -> dict[str, Any]:
    channel = channel_arg(ctx, call)
    ts = call.text("ts", required=True, error="message_not_found")
    message = own_message(ctx, channel, ts, error="cant_delete_message")
    previous = message_json(message, ctx.ws)
    ctx.ws.delete(message)
    ctx.events.message_deleted(message, previous)
    return {"channel": channel.id, "ts": ts}


def post_ephemeral(ctx: ApiContext, call: Call) -> dict[str, Any]:
    channel = channel_arg(ctx, call)
    user_ref = call.text("user", required=True, error="user_not_found")
    user = ctx.ws.find_user(user_ref)
    if user is None:
        raise ApiError("user_not_found", user_ref)
    if user.id not in channel.members:
        raise ApiError("user_not_in_channel", user.id)
    blocks = blocks_arg(call)
    text = _text(call) or ""
    if not text and not blocks:
        raise ApiError("no_text")
    note = ctx.ws.add_ephemeral(
        channel,
        user.id,
        text=truncate_text(text)[0],
        blocks=blocks,
        thread_ts=call.optional("thread_ts"),
        source="api",
        author=ctx.ws.identity.bot_user_id,
    )
    return {"message_ts": note.ts}


def get_permalink(ctx: ApiContext, call: Call) -> dict[str, Any]:
    channel = visible_channel(ctx, call)
    ts = call.text("message_ts", required=True, error="message_not_found")
    if ctx.ws.find_message(channel, ts) is None:
        raise ApiError("message_not_found", ts)
    return {
        "channel": channel.id,
        "permalink": f"{ctx.base_url()}/archives/{channel.id}/p{ts.replace('.', '')}",
    }


HANDLERS: dict[str, Handler] = {
    "chat.postMessage": post_message,
    "chat.update": update,
    "chat.delete": delete,
    "chat.postEphemeral": post_ephemeral,
    "chat.getPermalink": get_permalink,
}
