"""assistant.threads.setStatus / setSuggestedPrompts / setTitle and agents.sessions.setStatus.

Stored per thread (channel, thread_ts) with a history of statuses, so a test or the UI can see
what the user was shown and when it was cleared.
"""

from __future__ import annotations

import time
from typing import Any

from bot.sandbox.methods.args import ApiError, Call
from bot.sandbox.methods.common import ApiContext, Handler, channel_arg
from bot.sandbox.state import AssistantThread

_PROMPTS_MAX = 4
_LOADING_MAX = 10


def _thread(ctx: ApiContext, call: Call, *, required: bool = True) -> AssistantThread:
    channel = channel_arg(ctx, call, "channel_id")
    thread_ts = call.text("thread_ts", required=required)
    if thread_ts and ctx.ws.find_message(channel, thread_ts) is None:
        raise ApiError("thread_not_found", thread_ts)
    return ctx.ws.assistant_thread(channel.id, thread_ts)


def _announce(ctx: ApiContext, thread: AssistantThread) -> None:
    ctx.ws.changed("assistant", channel=thread.channel, thread_ts=thread.thread_ts)


def set_status(ctx: ApiContext, call: Call) -> dict[str, Any]:
    thread = _thread(ctx, call)
    if call.raw("status") is None:
        raise ApiError("invalid_arguments", "missing status")
    status = call.text("status")
    loading = call.structured("loading_messages") or []
    if isinstance(loading, str):
        loading = [loading]
    if not isinstance(loading, list) or len(loading) > _LOADING_MAX:
        raise ApiError("invalid_arguments", "loading_messages must be a list of up to 10")
    thread.status = status
    thread.loading_messages = [str(m) for m in loading]
    thread.status_history.append(
        {"status": status, "loading_messages": list(thread.loading_messages), "t": time.monotonic()}
    )
    _announce(ctx, thread)
    return {}


def set_suggested_prompts(ctx: ApiContext, call: Call) -> dict[str, Any]:
    thread = _thread(ctx, call, required=False)
    prompts = call.structured("prompts")
    if not isinstance(prompts, list) or not prompts or len(prompts) > _PROMPTS_MAX:
        raise ApiError("invalid_arguments", "prompts must be a list of 1 to 4")
    for prompt in prompts:
        if not isinstance(prompt, dict) or not prompt.get("title") or not prompt.get("message"):
            raise ApiError("invalid_arguments", "each prompt needs title and message")
    thread.suggested_prompts = {"title": call.optional("title"), "prompts": prompts}
    _announce(ctx, thread)
    return {}


def set_title(ctx: ApiContext, call: Call) -> dict[str, Any]:
    thread = _thread(ctx, call)
    thread.title = call.text("title", required=True)
    _announce(ctx, thread)
    return {}


def session_status(ctx: ApiContext, call: Call) -> dict[str, Any]:
    thread = _thread(ctx, call, required=False)
    status = call.text("status", required=True)
    thread.status_history.append(
        {"session_status": status, "title": call.optional("title"), "t": time.monotonic()}
    )
    if call.optional("title"):
        thread.title = call.text("title")
    _announce(ctx, thread)
    return {}


HANDLERS: dict[str, Handler] = {
    "assistant.threads.setStatus": set_status,
    "assistant.threads.setSuggestedPrompts": set_suggested_prompts,
    "assistant.threads.setTitle": set_title,
    "agents.sessions.setStatus": session_status,
}
