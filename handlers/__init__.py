"""One module per entry point; each has ``register(app, services)``. Handlers stay thin:
parse, ack, then hand the work to `bot.slack.services.Services`."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.slack.services import Services
from handlers import ask, assistant, feedback, help, mention, thread_reply


def register(app: AsyncApp, services: Services) -> None:
    for module in (assistant, mention, thread_reply, ask, help, feedback):
        module.register(app, services)
