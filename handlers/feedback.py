"""The 👍 / 👎 buttons under an answer: acknowledged to the person who clicked."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncRespond

from bot.slack.blocks import FEEDBACK_BAD, FEEDBACK_GOOD
from bot.slack.exactly_once import Listeners

log = logging.getLogger("teammate.feedback")


async def feedback(body: dict, respond: AsyncRespond) -> None:
    action = body["actions"][0]["action_id"]
    log.info("feedback %s from %s", action, body.get("user", {}).get("id"))
    await respond(
        text="Thanks for the feedback!", response_type="ephemeral", replace_original=False
    )


def register(on: Listeners) -> None:
    on.action(FEEDBACK_GOOD)(feedback)
    on.action(FEEDBACK_BAD)(feedback)
