"""Slack's assistant panel (and threads in a DM with Teammate).

A new thread gets suggested prompts; a message gets the "is thinking…" status while the answer
streams, and the first question becomes the thread's title.
"""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.exactly_once import Listeners, Work
from bot.slack.services import Services

GREETING = "Hi! I'm Teammate. Ask me anything, or pick a suggestion below."
_TITLE_LIMIT = 60


async def thread_started(services: Services, say, set_suggested_prompts) -> None:  # type: ignore[no-untyped-def]
    await say(GREETING)
    if services.suggested_prompts:
        await set_suggested_prompts(prompts=services.suggested_prompts)


async def user_message(  # type: ignore[no-untyped-def]
    work: Work, services: Services, body: dict, payload: dict, client: AsyncWebClient, set_title
) -> None:
    if await services.is_new_thread(payload["channel"], payload["thread_ts"]):
        await set_title(title(payload.get("text", "")))
    await services.answer_message(work, client, body, payload)


def title(text: str) -> str:
    """The thread's title: its first question on one line, shortened."""
    text = " ".join(text.split())
    return text if len(text) <= _TITLE_LIMIT else text[: _TITLE_LIMIT - 1].rstrip() + "…"


def register(on: Listeners) -> None:
    on.thread_started(thread_started)
    on.user_message(user_message)
