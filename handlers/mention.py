"""`@Teammate question` in a channel: answer in the thread (a new one under the mention)."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.exactly_once import Listeners, Work
from bot.slack.services import Services


async def on_mention(
    work: Work, services: Services, body: dict, event: dict, client: AsyncWebClient
) -> None:
    await services.answer_message(work, client, body, event)


def register(on: Listeners) -> None:
    on.event("app_mention")(on_mention)
