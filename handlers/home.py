"""App Home: opening Teammate's Home tab publishes what it can do, its model and the person's
recent threads (the Messages tab needs nothing)."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.exactly_once import Listeners
from bot.slack.home_view import home_view, recent_threads
from bot.slack.services import Services


async def home_opened(services: Services, event: dict, client: AsyncWebClient) -> None:
    if event.get("tab") != "home":
        return
    user = event["user"]
    model = services.responder.agent.resolve()
    threads = await recent_threads(client, services.threads, user)
    view = home_view(model.label, model.note, threads)
    await client.views_publish(user_id=user, view=view)


def register(on: Listeners) -> None:
    on.event("app_home_opened")(home_opened)
