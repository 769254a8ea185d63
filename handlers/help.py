"""`/teammate help`: what Teammate can do, shown only to the person who asked."""

from __future__ import annotations

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.slack.services import Services

HELP = """*Teammate* answers in threads, with the thread as context.
• *Mention me* in a channel: `@Teammate how do I rotate the API keys?` — I answer in the thread, \
and follow-ups there need no new mention.
• *Message me directly*, or open me in the assistant panel.
• `/ask <question>` — ask from any channel I'm in; `/ask --deep <question>` (or say "think hard") \
for harder problems.
• `/teammate help` — this message."""


def register(app: AsyncApp, services: Services) -> None:
    @app.command("/teammate")
    async def teammate(ack: AsyncAck, command: dict, context: dict) -> None:
        await ack(text=HELP)
        await services.skip(context)
