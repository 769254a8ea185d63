"""`@Teammate question` in a channel: answer in the thread (a new one under the mention)."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.parsing import parse_question
from bot.slack.reply import ReplyTarget
from bot.slack.services import Services


def register(app: AsyncApp, services: Services) -> None:
    @app.event("app_mention")
    async def on_mention(body: dict, event: dict, context: dict, client: AsyncWebClient) -> None:
        _, deep = parse_question(event.get("text", ""))
        target = ReplyTarget(
            channel=event["channel"],
            thread_ts=event.get("thread_ts") or event["ts"],
            team_id=event.get("team") or body.get("team_id", ""),
            user_id=event.get("user", ""),
        )
        await services.answer(context, client, target, deep=deep, asked_ts=event["ts"])
