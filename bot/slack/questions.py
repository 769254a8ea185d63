"""The message a `/ask` posts for its asker ("<@user> asked: …"), whose thread holds the answer.

Posted by whoever runs the answer: the process that acknowledged the command when it answers
itself, or, when workers run the answers, the worker, inside the answer's workflow (so the
process that acknowledges posts nothing). The message carries the question's mark with the
claim's key, so a run cut between Slack posting it and the run learning its ts finds it again
instead of asking twice. In a channel Teammate is not in, the asker alone is told how to invite
it, through the command's ``response_url``: it works from any process for 30 minutes, and
``chat.postEphemeral`` would fail there for the same reason the post did.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.slack import marks

log = logging.getLogger("teammate.slack.questions")

NOT_IN_CHANNEL = (
    "I'm not in this channel yet, so I can't answer here. Invite me with "
    "`/invite @Teammate` and ask again, or ask me in a direct message."
)
UNREACHABLE = {"not_in_channel", "channel_not_found"}


@dataclass(frozen=True)
class AskedQuestion:
    """A `/ask` as its command carried it: plain data, stored in the answer's workflow."""

    channel: str
    user: str
    team_id: str
    question: str
    response_url: str
    asked_at: float
    """When the command came (seconds): a resumed run looks for its question from then on."""


async def ask(client: AsyncWebClient, asked: AskedQuestion, claim_key: str) -> str | None:
    """Post the question and return its ts; None when Teammate cannot post in the channel
    (the asker has been told)."""
    try:
        posted = await client.chat_postMessage(
            channel=asked.channel,
            text=f"<@{asked.user}> asked: {asked.question}",
            metadata=marks.mark(
                marks.QUESTION, user=asked.user, question=asked.question, claim=claim_key
            ),
        )
    except SlackApiError as exc:
        if exc.response.get("error") not in UNREACHABLE:
            raise
        await tell_not_in_channel(asked)
        return None
    return str(posted["ts"])


async def asked_before(client: AsyncWebClient, asked: AskedQuestion, claim_key: str) -> str | None:
    """The ts of the question a cut run of ``claim_key`` had posted, if Slack has it (one
    ``conversations.history`` read: only a resumed run looks)."""
    with contextlib.suppress(SlackApiError):
        found = await marks.in_channel(
            client,
            asked.channel,
            asked.asked_at - marks.CARD_LOOKBACK,
            marks.QUESTION,
            claim=claim_key,
        )
        return str(found["ts"]) if found else None
    return None


async def tell_not_in_channel(asked: AskedQuestion) -> None:
    """Tell the asker alone how to invite Teammate (an expired ``response_url``: nobody)."""
    try:
        await AsyncWebhookClient(asked.response_url).send(
            text=NOT_IN_CHANNEL, response_type="ephemeral"
        )
    except Exception:  # noqa: BLE001 - the note is a courtesy; the answer is over either way
        log.warning("could not tell %s that Teammate is not in %s", asked.user, asked.channel)
