"""`/task <goal>` and `/task list | show ID | cancel ID`: tasks worked on in a card's thread;
the card's Stop button and Slack's Stop of a task's streaming answer (`agent_session_stopped`).

Bad options and budgets over the caps are refused in the acknowledgement; a good ask posts its
card and returns, and the work runs apart from the request (see bot.slack.task_desk).
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.exactly_once import Listeners, Work
from bot.slack.render.task_card import STOP
from bot.slack.services import Services

USAGE = (
    "Usage: `/task [--minutes N] [--tokens N] [--cost USD] <goal>` — for example "
    "`/task --minutes 20 summarise this week's incidents`; `/task list`, `/task show ID`, "
    "`/task cancel ID`; `/task every 1d <goal>` or `/task every monday 09:00 <goal>` to repeat "
    "it, `/task schedules`."
)


def _argument(command: dict) -> str:
    """The word after the subcommand (a task id)."""
    words = (command.get("text") or "").split()
    return words[1].strip("`").lower() if len(words) > 1 else ""


async def acknowledge(command: dict, services: Services) -> str | None:
    text = (command.get("text") or "").strip()
    if not text or services.tasks is None:
        return USAGE
    return services.tasks.refusal(text)


async def task(
    work: Work, services: Services, respond: AsyncRespond, command: dict, client: AsyncWebClient
) -> None:
    if services.tasks is None or not (command.get("text") or "").strip():
        return
    refused = await services.tasks.start(
        work,
        services,
        client,
        team_id=command.get("team_id", ""),
        channel=command["channel_id"],
        user=command["user_id"],
        text=command["text"],
    )
    if refused:
        await respond(text=refused, response_type="ephemeral")


async def task_list(services: Services, respond: AsyncRespond, command: dict) -> None:
    if services.tasks is not None:
        text = await services.tasks.listed(command["channel_id"], command["user_id"])
        await respond(text=text, response_type="ephemeral")


async def task_show(services: Services, respond: AsyncRespond, command: dict) -> None:
    if services.tasks is not None:
        text = await services.tasks.show(_argument(command)) if _argument(command) else USAGE
        await respond(text=text, response_type="ephemeral")


async def task_cancel(
    services: Services, respond: AsyncRespond, command: dict, client: AsyncWebClient
) -> None:
    short_id = _argument(command)
    if short_id and services.schedules is not None:  # a schedule's id, or else a task's
        said = await services.schedules.cancel(client, short_id, command["user_id"])
        if said is not None:
            await respond(text=said, response_type="ephemeral")
            return
    if services.tasks is not None:
        text = (
            await services.tasks.cancel(client, short_id, command["user_id"]) if short_id else USAGE
        )
        await respond(text=text, response_type="ephemeral")


async def stop_clicked(services: Services, body: dict, client: AsyncWebClient) -> None:
    if services.tasks is not None:
        await services.tasks.stop_clicked(client, body)


async def session_stopped(
    services: Services, event: dict, context: dict, client: AsyncWebClient
) -> None:
    """Slack's Stop on a streaming answer: its thread is in the context (or the event)."""
    channel = context.get("channel_id") or event.get("channel") or ""
    thread_ts = event.get("thread_ts") or context.get("thread_ts") or ""
    if services.tasks is not None and channel and thread_ts:
        await services.tasks.session_stopped(client, channel, thread_ts, event.get("user", ""))


def register(on: Listeners) -> None:
    on.action(STOP)(stop_clicked)
    on.event("agent_session_stopped")(session_stopped)
    on.command("/task", subcommand="list")(task_list)
    on.command("/task", subcommand="show")(task_show)
    on.command("/task", subcommand="cancel")(task_cancel)
    on.command("/task", ack=acknowledge)(task)
