"""`/ask <question>`: post the question in the channel and answer it in that thread.

Acknowledged at once (with the usage line when there is no question); the work runs after. In
a channel Teammate is not in, the asker alone is told how to invite it.
"""

from __future__ import annotations

import time

from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.exactly_once import Listeners, Work
from bot.slack.parsing import parse_deep, parse_question
from bot.slack.questions import AskedQuestion
from bot.slack.services import Services

USAGE = (
    "Usage: `/ask [--deep | --no-deep] <question>` — for example `/ask what is our on-call "
    "rota?`; `--no-deep` answers quickly where the channel thinks longer by default."
)


async def acknowledge(command: dict) -> str | None:
    question, _ = parse_question(command.get("text", ""))
    return None if question else USAGE


async def ask(work: Work, services: Services, command: dict, client: AsyncWebClient) -> None:
    text = command.get("text", "")
    question, deep = parse_question(text)[0], parse_deep(text)
    if not question:
        return
    asked = AskedQuestion(
        channel=command["channel_id"],
        user=command["user_id"],
        team_id=command.get("team_id", ""),
        question=question,
        response_url=command.get("response_url", ""),
        asked_at=time.time(),
    )
    await services.ask(work, client, asked, deep=deep)


def register(on: Listeners) -> None:
    on.command("/ask", ack=acknowledge)(ask)
