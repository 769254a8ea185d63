"""`/task every <rule> <goal>` and `/task schedules`: recurring tasks for the channel (see
bot.slack.schedule_desk); `/task cancel ID` takes a schedule's id too (handlers.task)."""

from __future__ import annotations

from slack_bolt.async_app import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.exactly_once import Listeners
from bot.slack.services import Services


async def acknowledge(command: dict, services: Services) -> str | None:
    if services.schedules is None:
        return None
    return services.schedules.refusal(command.get("text") or "")


async def every(
    services: Services, respond: AsyncRespond, command: dict, client: AsyncWebClient
) -> None:
    if services.schedules is None or services.schedules.refusal(command.get("text") or ""):
        return
    text = await services.schedules.create(
        client,
        team_id=command.get("team_id", ""),
        channel=command["channel_id"],
        user=command["user_id"],
        text=command["text"],
    )
    await respond(text=text, response_type="ephemeral")


async def schedules(services: Services, respond: AsyncRespond, command: dict) -> None:
    if services.schedules is not None:
        text = await services.schedules.listed(command["channel_id"])
        await respond(text=text, response_type="ephemeral")


def register(on: Listeners) -> None:
    on.command("/task", subcommand="every", ack=acknowledge)(every)
    on.command("/task", subcommand="schedules")(schedules)
