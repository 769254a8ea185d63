"""One module per entry point; each has ``register(app, services)``. Handlers stay thin:
parse, ack, then hand the work to `bot.slack.services.Services`.

Every event reaching the app is acknowledged, even one no listener wants: Bolt's default answer
to an unhandled request is 404, which Slack counts as a failure and retries three times.
"""

from __future__ import annotations

import re

from slack_bolt.async_app import AsyncApp

from bot.slack.services import Services
from handlers import ask, assistant, feedback, help, home, mention, thread_reply

ANY_EVENT = re.compile(r".+")


def register(app: AsyncApp, services: Services) -> None:
    for module in (assistant, mention, thread_reply, ask, help, feedback, home):
        module.register(app, services)

    @app.event(ANY_EVENT)  # last: only events no listener above matched
    async def acknowledge(context: dict) -> None:
        await services.skip(context)
