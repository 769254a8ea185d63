"""`/teammate deep on|off`: every answer in this channel thinks longer, or no longer.

`/teammate deep` alone says which it is now. Only the person who asked is told.
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncRespond

from bot.slack.exactly_once import Listeners, Work
from bot.slack.services import Services

USAGE = "Usage: `/teammate deep on` or `/teammate deep off` — deep mode for every answer here."
ON = (
    "Deep mode is on in this channel: every answer here thinks longer first (slower, and more "
    "tokens). `/teammate deep off` switches it off."
)
OFF = (
    "Deep mode is off in this channel. Ask for it per question with `/ask --deep` or by "
    'saying "think hard"; `/teammate deep on` makes it the default here.'
)


def _choice(command: dict) -> str:
    words = (command.get("text") or "").lower().split()
    return words[1] if len(words) == 2 else "" if len(words) == 1 else "?"


async def acknowledge(command: dict) -> str | None:
    return None if _choice(command) in ("on", "off", "") else USAGE


async def deep(work: Work, services: Services, respond: AsyncRespond, command: dict) -> None:
    choice, channel = _choice(command), command["channel_id"]
    if choice not in ("on", "off", ""):
        return
    if choice:
        on = choice == "on"
        await services.set_deep(work, channel, on, command.get("team_id", ""), command["user_id"])
    else:
        on = await services.deep(channel)
    await respond(text=ON if on else OFF, response_type="ephemeral")


def register(on: Listeners) -> None:
    on.command("/teammate", subcommand="deep", ack=acknowledge)(deep)
