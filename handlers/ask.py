"""`/ask <question>`: post the question in the channel and answer it in that thread.

Acknowledged at once (with the usage line when there is no question); the work runs after. In
a channel Teammate is not in, the asker alone is told how to invite it.
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack import marks
from bot.slack.exactly_once import Listeners, Work
from bot.slack.parsing import parse_deep, parse_question
from bot.slack.reply import ReplyTarget
from bot.slack.services import Services

USAGE = (
    "Usage: `/ask [--deep | --no-deep] <question>` — for example `/ask what is our on-call "
    "rota?`; `--no-deep` answers quickly where the channel thinks longer by default."
)
NOT_IN_CHANNEL = (
    "I'm not in this channel yet, so I can't answer here. Invite me with "
    "`/invite @Teammate` and ask again, or ask me in a direct message."
)


async def acknowledge(command: dict) -> str | None:
    question, _ = parse_question(command.get("text", ""))
    return None if question else USAGE


async def ask(
    work: Work, services: Services, respond: AsyncRespond, command: dict, client: AsyncWebClient
) -> None:
    text = command.get("text", "")
    question, deep = parse_question(text)[0], parse_deep(text)
    if not question:
        return
    user, channel = command["user_id"], command["channel_id"]
    try:
        posted = await client.chat_postMessage(
            channel=channel,
            text=f"<@{user}> asked: {question}",
            metadata=marks.mark(marks.QUESTION, user=user, question=question),
        )
    except SlackApiError as exc:
        if exc.response.get("error") not in {"not_in_channel", "channel_not_found"}:
            raise
        await respond(text=NOT_IN_CHANNEL, response_type="ephemeral")
        return
    target = ReplyTarget(channel, posted["ts"], command.get("team_id", ""), user)
    await services.answer(work, client, target, text=question, deep=deep)


def register(on: Listeners) -> None:
    on.command("/ask", ack=acknowledge)(ask)
