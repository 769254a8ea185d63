"""The "Show reasoning" button under an answer: its reasoning summary in a modal for whoever
clicked. The modal is theirs alone; nothing is posted in the channel.
"""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.blocks import SHOW_REASONING
from bot.slack.exactly_once import Listeners
from bot.slack.services import Services


async def show_reasoning(services: Services, body: dict, client: AsyncWebClient) -> None:
    reasoning_id = body["actions"][0].get("value", "")
    channel = (body.get("channel") or {}).get("id", "")
    view = await services.reasoning_modal(reasoning_id, channel)
    await client.views_open(trigger_id=body["trigger_id"], view=view)


def register(on: Listeners) -> None:
    on.action(SHOW_REASONING)(show_reasoning)
