"""`/teammate help`: what Teammate can do, shown only to the person who asked."""

from __future__ import annotations

from bot.slack.exactly_once import Listeners

HELP = """*Teammate* answers in threads, with the thread as context.
• *Mention me* in a channel: `@Teammate how do I rotate the API keys?` — I answer in the thread, \
and follow-ups there need no new mention.
• *Message me directly*, or open me in the assistant panel.
• `/ask <question>` — ask from any channel I'm in; `/ask --deep <question>` (or say "think hard") \
for harder problems; *Show reasoning* under such an answer shows you how it got there.
• `/task <goal>` — I work on it in a thread, ticking off a checklist, and report to you at the \
end; `--minutes N`, `--tokens N` or `--cost USD` before the goal set its budget. \
`/task list`, `/task show ID`, `/task cancel ID`; "@Teammate task: …" works too. \
`/task every 1d <goal>` or `/task every monday 09:00 <goal>` repeats it here; `/task schedules` \
lists them and `/task cancel ID` stops one.
• `/teammate deep on` — every answer in this channel thinks longer (`off` to stop); \
`/ask --no-deep <question>` answers one question quickly all the same.
• `/teammate memory` — the notes I keep for this channel (or for you, in a DM), to edit or clear; \
"remember for this channel: …" adds one.
• `/teammate help` — this message."""


async def help_text() -> str:
    return HELP


async def teammate() -> None:
    """Nothing to do after the help is shown."""


def register(on: Listeners) -> None:
    on.command("/teammate", ack=help_text)(teammate)
