"""The Web API methods the sandbox answers, by Slack method name."""

from __future__ import annotations

from bot.sandbox.methods import assistant, chat, conversations, streams, views, workspace
from bot.sandbox.methods.args import ApiError, Call
from bot.sandbox.methods.common import ApiContext, Handler

METHODS: dict[str, Handler] = {
    **chat.HANDLERS,
    **streams.HANDLERS,
    **conversations.HANDLERS,
    **assistant.HANDLERS,
    **workspace.HANDLERS,
    **views.HANDLERS,
}

__all__ = ["METHODS", "ApiContext", "ApiError", "Call", "Handler"]
