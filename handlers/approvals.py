"""Approve / Deny / Always allow on an approval prompt: the desk checks who clicked, decides
once, and resumes the paused answer."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.exactly_once import Listeners, Work
from bot.slack.render.approval_view import ACTIONS
from bot.slack.services import Services


async def decide(work: Work, services: Services, body: dict, client: AsyncWebClient) -> None:
    if services.approvals is not None:
        await services.approvals.click(client, body)


def register(on: Listeners) -> None:
    for action_id in ACTIONS:
        on.action(action_id)(decide)
