"""The 👍 / 👎 buttons under an answer: acknowledged to the person who clicked."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.slack.blocks import FEEDBACK_BAD, FEEDBACK_GOOD
from bot.slack.services import Services

log = logging.getLogger("teammate.feedback")


def register(app: AsyncApp, services: Services) -> None:
    @app.action(FEEDBACK_GOOD)
    @app.action(FEEDBACK_BAD)
    async def feedback(ack: AsyncAck, body: dict, respond: AsyncRespond, context: dict) -> None:
        await ack()
        action = body["actions"][0]["action_id"]
        log.info("feedback %s from %s", action, body.get("user", {}).get("id"))
        await respond(
            text="Thanks for the feedback!",
            response_type="ephemeral",
            replace_original=False,
        )
        await services.skip(context)
