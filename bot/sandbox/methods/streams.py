"""chat.startStream, chat.appendStream, chat.stopStream: one message that grows, then settles.

A streamed message's text is the concatenated markdown of every call. Text may arrive as
`markdown_text` or as `markdown_text` chunks (slack_sdk's chat_stream sends chunks); plan and
task chunks are kept for display (a task_update with a known id replaces that task, as
Slack's timeline shows one line per task), blocks chunks become the message's blocks. The
``task_display_mode`` of the start (timeline, or plan: the tasks as one checklist under the
plan's title) is kept for the page.
"""

from __future__ import annotations

import time
from typing import Any

from bot.sandbox.limits import (
    MESSAGE_BLOCKS_MAX,
    STREAM_APPEND_MAX,
    STREAM_TOTAL_MAX,
    BlocksError,
    check_blocks,
)
from bot.sandbox.methods.args import ApiError, Call
from bot.sandbox.methods.common import (
    ApiContext,
    Handler,
    blocks_arg,
    bot_post,
    channel_arg,
    metadata_arg,
    own_message,
)
from bot.sandbox.shapes import message_json
from bot.sandbox.state import Message

_CHUNK_TYPES = {"markdown_text", "plan_update", "task_update", "blocks"}
_DISPLAY_MODES = ("timeline", "plan")


class _Piece:
    """What one stream call adds: text, display chunks and blocks."""

    def __init__(self, call: Call) -> None:
        self.text = call.text("markdown_text")
        self.chunks: list[dict[str, Any]] = []
        self.blocks: list[dict[str, Any]] = []
        raw = call.structured("chunks") or []
        if not isinstance(raw, list):
            raise ApiError("invalid_chunks", "chunks must be an array")
        for chunk in raw:
            kind = chunk.get("type") if isinstance(chunk, dict) else None
            if kind not in _CHUNK_TYPES:
                raise ApiError("invalid_chunks", f"unknown chunk type {kind!r}")
            if kind == "markdown_text":
                self.text += str(chunk.get("text", ""))
            elif kind == "blocks":
                self.blocks.extend(chunk.get("blocks") or [])
            else:
                self.chunks.append(chunk)
        if len(self.text) > STREAM_APPEND_MAX:
            raise ApiError("msg_too_long", f"{len(self.text)} characters in one call")


def _apply(message: Message, piece: _Piece) -> None:
    if len(message.text) + len(piece.text) > STREAM_TOTAL_MAX:
        raise ApiError("msg_too_long", f"stream text over {STREAM_TOTAL_MAX} characters")
    if piece.blocks:
        combined = (message.blocks or []) + piece.blocks
        _check(combined)
        message.blocks = combined
    message.text += piece.text
    for chunk in piece.chunks:
        _keep_chunk(message.chunks, chunk)
    message.stream_touched = time.monotonic()


def _keep_chunk(kept: list[dict[str, Any]], chunk: dict[str, Any]) -> None:
    if chunk.get("type") == "task_update" and chunk.get("id"):
        for i, old in enumerate(kept):
            if old.get("type") == "task_update" and old.get("id") == chunk["id"]:
                kept[i] = {**old, **chunk}
                return
    kept.append(chunk)


def _check(blocks: list[dict[str, Any]]) -> None:
    try:
        check_blocks(blocks, max_blocks=MESSAGE_BLOCKS_MAX)
    except BlocksError as exc:
        raise ApiError("invalid_blocks", str(exc)) from exc


def _streaming_message(ctx: ApiContext, call: Call) -> tuple[Any, Message]:
    channel = channel_arg(ctx, call)
    ts = call.text("ts", required=True, error="message_not_found")
    message = own_message(ctx, channel, ts, error="cant_update_message")
    idle = ctx.config.stream_idle_timeout
    if message.streaming and idle and time.monotonic() - message.stream_touched > idle:
        message.streaming = False
        ctx.ws.touched(message)
    if not message.streaming:
        raise ApiError("message_not_in_streaming_state", ts)
    return channel, message


def start_stream(ctx: ApiContext, call: Call) -> dict[str, Any]:
    channel = channel_arg(ctx, call)
    thread_ts = call.text("thread_ts", required=True)
    if not channel.is_im and not (
        call.optional("recipient_team_id") and call.optional("recipient_user_id")
    ):
        raise ApiError("invalid_arguments", "recipient_team_id and recipient_user_id required")
    piece = _Piece(call)
    if piece.blocks:
        _check(piece.blocks)
    mode = call.optional("task_display_mode") or "timeline"
    if mode not in _DISPLAY_MODES:
        raise ApiError("invalid_arguments", f"task_display_mode must be one of {_DISPLAY_MODES}")
    message = bot_post(ctx, channel, text="", thread_ts=thread_ts, streaming=True)
    message.task_display_mode = str(mode)
    _apply(message, piece)
    ctx.events.message_posted(message)
    return {"channel": channel.id, "ts": message.ts}


def append_stream(ctx: ApiContext, call: Call) -> dict[str, Any]:
    channel, message = _streaming_message(ctx, call)
    _apply(message, _Piece(call))
    ctx.ws.touched(message)
    return {"channel": channel.id, "ts": message.ts}


def stop_stream(ctx: ApiContext, call: Call) -> dict[str, Any]:
    channel, message = _streaming_message(ctx, call)
    piece = _Piece(call)
    final_blocks = blocks_arg(call)
    metadata = metadata_arg(call)
    if final_blocks:
        _check((message.blocks or []) + piece.blocks + final_blocks)
    previous = message_json(message, ctx.ws)
    _apply(message, piece)
    if final_blocks:
        message.blocks = (message.blocks or []) + final_blocks
    if metadata is not None:
        message.metadata = metadata
    message.streaming = False
    ctx.ws.touched(message)
    ctx.events.message_changed(message, previous)
    return {"channel": channel.id, "ts": message.ts, "message": message_json(message, ctx.ws)}


HANDLERS: dict[str, Handler] = {
    "chat.startStream": start_stream,
    "chat.appendStream": append_stream,
    "chat.stopStream": stop_stream,
}
