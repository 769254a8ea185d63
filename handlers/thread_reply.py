"""Messages that need no mention: follow-ups in a thread Teammate is in, and direct messages.

A channel message that mentions Teammate is left to the app_mention handler (Slack sends
both events). Edits, deletions and bots (Teammate included) carry a subtype or bot_id and
are ignored. DM messages inside a thread go to the assistant handler (Bolt routes them).
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.services import Services


def register(app: AsyncApp, services: Services) -> None:
    @app.event("message")
    async def on_message(body: dict, event: dict, context: dict, client: AsyncWebClient) -> None:
        if event.get("subtype") or event.get("bot_id"):
            return
        channel, thread_ts = event["channel"], event.get("thread_ts")
        is_dm = event.get("channel_type") == "im"
        mentioned = f"<@{services.identity.user_id}>" in event.get("text", "")
        follow_up = (
            not is_dm
            and thread_ts is not None
            and not mentioned
            and await services.threads.is_member(channel, thread_ts, event["ts"])
        )
        if not (follow_up or (is_dm and thread_ts is None)):
            await services.skip(context)
            return
        await services.answer_message(context, client, body, event)
