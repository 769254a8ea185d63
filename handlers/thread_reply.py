"""Messages that need no mention: follow-ups in a thread Teammate is in, and direct messages.

A channel message that mentions Teammate is left to the app_mention handler (Slack sends
both events). Edits, deletions and bots (Teammate included) carry a subtype or bot_id and
are ignored. DM messages inside a thread go to the assistant handler (Bolt routes them).
A reply in a running task's thread is not answered: it steers the task (kept for its next
model request).
"""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.exactly_once import Listeners, Work
from bot.slack.services import Services


async def on_message(
    work: Work, services: Services, body: dict, event: dict, client: AsyncWebClient
) -> None:
    if event.get("subtype") or event.get("bot_id"):
        return
    mentioned = f"<@{services.identity.user_id}>" in event.get("text", "")
    if not mentioned and services.tasks is not None and await services.tasks.steer(event):
        return  # a running task's thread: it steers the task (a mention does, in on_mention)
    direct = event.get("channel_type") == "im" and event.get("thread_ts") is None
    if direct or await services.is_follow_up(event):
        await services.answer_message(work, client, body, event)


def register(on: Listeners) -> None:
    on.event("message")(on_message)
