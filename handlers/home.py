"""App Home: opening Teammate's Home tab publishes what it can do, its model and the person's
recent threads (the Messages tab needs nothing)."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.home_view import home_view, recent_threads
from bot.slack.services import Services


def register(app: AsyncApp, services: Services) -> None:
    @app.event("app_home_opened")
    async def on_home_opened(event: dict, context: dict, client: AsyncWebClient) -> None:
        if event.get("tab") != "home":
            await services.skip(context)
            return
        claim = await services.claimed(context)
        if claim is None:
            return
        user = event["user"]
        model = services.responder.agent.resolve()
        threads = await recent_threads(client, services.threads, user)
        view = home_view(model.label, model.provider == "local", threads)
        await client.views_publish(user_id=user, view=view)
        await services.claims.finish(claim)
