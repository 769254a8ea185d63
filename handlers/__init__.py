"""One module per entry point; each has ``register(on)`` and top-level handler functions.

Handlers stay thin: parse, then hand the work to `bot.slack.services.Services`. They are
registered through `bot.slack.exactly_once.Listeners`, never on the app directly, so each runs
under its request's claim, exactly once.

Every event reaching the app is acknowledged, even one no listener wants: Bolt's default answer
to an unhandled request is 404, which Slack counts as a failure and retries three times.
"""

from __future__ import annotations

import re

from slack_bolt.async_app import AsyncApp

from bot.slack.exactly_once import Listeners
from bot.slack.services import Services
from handlers import (
    approvals,
    ask,
    assistant,
    deep,
    feedback,
    help,
    home,
    memory,
    mention,
    reasoning,
    schedule,
    task,
    thread_reply,
)

# `help` takes every `/teammate` the modules before it did not (subcommands register first).
MODULES = (
    assistant,
    mention,
    thread_reply,
    ask,
    schedule,  # its /task subcommands before task's catch-all
    task,
    feedback,
    reasoning,
    approvals,
    home,
    deep,
    memory,
    help,
)
ANY_EVENT = re.compile(r".+")


async def nothing_to_do() -> None:
    """An event no other listener took: acknowledged (and its claim finished), nothing more."""


def register(app: AsyncApp, services: Services) -> None:
    on = Listeners(app, services.claims, services.tracker, provides={"services": services})
    for module in MODULES:
        module.register(on)
    on.event(ANY_EVENT)(nothing_to_do)  # last: Bolt runs the first listener that matches
    on.finish()
