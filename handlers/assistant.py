"""Slack's assistant panel (and threads in a DM with Teammate).

A new thread gets suggested prompts; a message gets the "is thinking…" status while the answer
streams, and the first question becomes the thread's title.
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp, AsyncAssistant
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.services import Services

GREETING = "Hi! I'm Teammate. Ask me anything, or pick a suggestion below."
_TITLE_LIMIT = 60


def register(app: AsyncApp, services: Services) -> None:
    assistant = AsyncAssistant()

    @assistant.thread_started
    async def started(say, set_suggested_prompts, context: dict) -> None:  # type: ignore[no-untyped-def]
        claim = await services.claimed(context)
        if claim is None:
            return
        await say(GREETING)
        if services.suggested_prompts:
            await set_suggested_prompts(prompts=services.suggested_prompts)
        await services.claims.finish(claim)

    @assistant.user_message
    async def user_message(  # type: ignore[no-untyped-def]
        body: dict, payload: dict, context: dict, client: AsyncWebClient, set_title
    ) -> None:
        text = payload.get("text", "")
        if not await services.threads.is_member(payload["channel"], payload["thread_ts"]):
            await set_title(_title(text))
        await services.answer_message(context, client, body, payload)

    app.assistant(assistant)


def _title(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _TITLE_LIMIT else text[: _TITLE_LIMIT - 1].rstrip() + "…"
