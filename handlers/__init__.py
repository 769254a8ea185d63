"""One module per entry point; each has ``register(on)`` and top-level handler functions.

Handlers stay thin: parse, then hand the work to `bot.slack.services.Services`. They are
registered through `bot.slack.exactly_once.Listeners`, never on the app directly, so each runs
under its request's claim, exactly once.
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.slack.exactly_once import Listeners
from bot.slack.services import Services
from handlers import ask, assistant, feedback, help, mention, thread_reply

MODULES = (assistant, mention, thread_reply, ask, help, feedback)


def register(app: AsyncApp, services: Services) -> None:
    on = Listeners(app, services.claims, services.tracker, provides={"services": services})
    for module in MODULES:
        module.register(on)
    on.finish()
