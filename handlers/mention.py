"""`@Teammate question` in a channel: answer in the thread (a new one under the mention);
`@Teammate task: <goal>` hands over a task, as `/task <goal>` does. A mention in a running
task's thread steers that task instead of starting a second run there."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.exactly_once import Listeners, Work
from bot.slack.services import Services
from bot.slack.task_options import task_in_mention


async def on_mention(
    work: Work, services: Services, body: dict, event: dict, client: AsyncWebClient
) -> None:
    if services.tasks is not None and await services.tasks.steer(event):
        return
    goal = task_in_mention(event.get("text", ""))
    if goal is not None and services.tasks is not None:
        refused = services.tasks.refusal(goal) or await services.tasks.start(
            work,
            services,
            client,
            team_id=event.get("team") or body.get("team_id", ""),
            channel=event["channel"],
            user=event.get("user", ""),
            text=goal,
        )
        if refused:
            await client.chat_postEphemeral(
                channel=event["channel"], user=event.get("user", ""), text=refused
            )
        return
    await services.answer_message(work, client, body, event)


def register(on: Listeners) -> None:
    on.event("app_mention")(on_mention)
