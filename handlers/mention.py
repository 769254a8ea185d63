"""`@Teammate question` in a channel: answer in the thread (a new one under the mention)."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.services import Services


def register(app: AsyncApp, services: Services) -> None:
    @app.event("app_mention")
    async def on_mention(body: dict, event: dict, context: dict, client: AsyncWebClient) -> None:
        await services.answer_message(context, client, body, event)
