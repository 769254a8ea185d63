"""The App Home tab: what Teammate can do, how to ask, which model answers, and the person's
recent threads with it (linked, so one click goes back to the conversation)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass

from slack_sdk.web.async_client import AsyncWebClient

from bot.core.store import ThreadStore

RECENT_THREADS = 5
HOW_TO_ASK = (
    "• *Mention me* in a channel: `@Teammate how do I rotate the API keys?` — I answer in a "
    "thread, and follow-ups there need no new mention.\n"
    "• *Message me* here in Messages, or open me in the assistant panel.\n"
    '• `/ask <question>` from any channel I\'m in; add `--deep` (or say "think hard") for '
    "harder problems (`--no-deep` for a quick one), or `/teammate deep on` in a channel for "
    "every answer there.\n"
    "• `/task <goal>` hands me a longer job: I post a card in the channel, work in its thread "
    "with a checklist, and report when done (`/task list` shows yours).\n"
    "• `/teammate help` shows what I can do, in any channel."
)


@dataclass(frozen=True)
class RecentThread:
    channel: str
    thread_ts: str
    started_at: float
    link: str | None = None


async def recent_threads(
    client: AsyncWebClient, threads: ThreadStore, user: str
) -> list[RecentThread]:
    """The person's latest threads with Teammate, each with its permalink when Slack gives one
    (chat.getPermalink is in Slack's most generous rate tier)."""
    rows = await threads.started_by(user, RECENT_THREADS)

    async def link(channel: str, ts: str) -> str | None:
        with contextlib.suppress(Exception):
            return str(
                (await client.chat_getPermalink(channel=channel, message_ts=ts))["permalink"]
            )
        return None

    links = await asyncio.gather(*(link(row.channel, row.thread_ts) for row in rows))
    return [
        RecentThread(row.channel, row.thread_ts, row.created_at, url)
        for row, url in zip(rows, links, strict=True)
    ]


def home_view(model_label: str, model_note: str | None, threads: list[RecentThread]) -> dict:
    """The Home tab view for views.publish; ``model_note`` is the catalog's word on the model
    (the embedded model's says what it cannot do)."""
    model = f"I answer with *{model_label}*." + (f" {model_note}" if model_note else "")
    blocks: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "text": "Teammate"}},
        _text(
            "I answer questions where your team works, with the thread as context: "
            "explanations, drafts, summaries, code."
        ),
        _text(HOW_TO_ASK),
        {"type": "context", "elements": [{"type": "mrkdwn", "text": model}]},
        {"type": "divider"},
        _text("*Your recent threads with me*"),
    ]
    if threads:
        blocks.append(_text("\n".join(_thread_line(thread) for thread in threads)))
    else:
        blocks.append(_text("None yet: mention me in a channel or send me a message."))
    return {"type": "home", "blocks": blocks}


def _thread_line(thread: RecentThread) -> str:
    where = "our direct messages" if thread.channel.startswith("D") else f"<#{thread.channel}>"
    when = time.strftime("%b %d, %H:%M UTC", time.gmtime(thread.started_at))
    stamp = f"<!date^{int(thread.started_at)}^{{date_short_pretty}} at {{time}}|{when}>"
    opened = f" · <{thread.link}|open the thread>" if thread.link else ""
    return f"• {where} · {stamp}{opened}"


def _text(markdown: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": markdown}}
