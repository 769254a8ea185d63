"""Tasks as people hand them over: ``/task <goal>`` (or "task: …" in a mention), and
``/task list | show ID | cancel ID``.

A task is posted as its card in the channel first, then waits for one of ``max_tasks`` slots
and works in the card's thread through the same answer path as a mention (tools, memory,
approvals; a durable workflow when answers are). The task capability of the core
(:mod:`bot.core.tasks.capability`) gives the run its instructions, ``update_plan`` and budget
checks, and reports each change here, where the card is redrawn. At the end the thread gets a
closing line that mentions the requester and says what was done and what was not.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.store.tasks import TaskStore
from bot.core.tasks.live import LiveTask, LiveTasks
from bot.core.tasks.model import Budget, BudgetLimits, Task
from bot.slack.admins import Admins
from bot.slack.exactly_once import Work
from bot.slack.render import task_card
from bot.slack.reply import ReplyOutcome, ReplyTarget
from bot.slack.task_card_painter import CardPainter
from bot.slack.task_options import TaskAsk, parse_task

if TYPE_CHECKING:
    from bot.slack.services import Services

log = logging.getLogger("teammate.slack.tasks")

NOT_IN_CHANNEL = (
    "I'm not in this channel yet, so I can't work on a task here. Invite me with "
    "`/invite @Teammate` and try again."
)


@dataclass
class TaskDesk:
    store: TaskStore
    live: LiveTasks
    limits: BudgetLimits
    admins: Admins
    priced: bool
    """Whether the catalog has prices for the model tasks run on (``--cost`` needs them)."""
    max_tasks: int = 4
    interval: float = 1.0
    _slots: asyncio.Semaphore = field(init=False)

    def __post_init__(self) -> None:
        self._slots = asyncio.Semaphore(self.max_tasks)

    def refusal(self, text: str) -> str | None:
        """The line that refuses ``text`` at once (bad options, over a cap), or None."""
        ask = parse_task(text)
        if isinstance(ask, str):
            return ask
        budget = self._budget(ask)
        return budget if isinstance(budget, str) else None

    async def start(
        self,
        work: Work,
        services: Services,
        client: AsyncWebClient,
        *,
        team_id: str,
        channel: str,
        user: str,
        text: str,
        on_card: Callable[[Task], None] | None = None,
    ) -> str | None:
        """Post the card, then work on the task; returns the line for the asker alone when it
        could not start."""
        ask = parse_task(text)
        if isinstance(ask, str):
            return ask
        budget = self._budget(ask)
        if isinstance(budget, str):
            return budget
        task = await self.store.create(team_id, channel, user, ask.goal, budget)
        card_text, blocks = task_card.card(task)
        try:
            posted = await client.chat_postMessage(channel=channel, text=card_text, blocks=blocks)
        except SlackApiError as exc:
            if exc.response.get("error") not in {"not_in_channel", "channel_not_found"}:
                raise
            await self.store.save(task, state="failed")
            return NOT_IN_CHANNEL
        await self.store.save(task, card_ts=posted["ts"])
        if on_card is not None:  # the card is up: whoever handed the task over may say so
            on_card(task)
        async with self._slots:
            await self._work(work, services, client, task)
        return None

    async def cancel(self, client: AsyncWebClient, short_id: str, user: str) -> str:
        """Stop a task at its next step (the requester or an admin only)."""
        task = await self.store.get(short_id)
        if task is None:
            return f"There is no task `{short_id}`."
        if user != task.requester and not await self.admins.is_admin(client, user):
            return f"Only <@{task.requester}> or an admin can cancel task `{task.short_id}`."
        if task.finished:
            return f"Task `{task.short_id}` has already ended ({task.state})."
        live = self.live.by_short_id(task.short_id)
        reason = f"cancelled by <@{user}>"
        if live is None:  # still queued, or its process is gone: nothing runs it here
            await self.store.save(task, state="stopped", stop_reason=reason)
            return f"Task `{task.short_id}` is cancelled."
        live.stop_reason = reason
        return f"Task `{task.short_id}` stops at its next step."

    async def show(self, short_id: str) -> str:
        task = await self.store.get(short_id)
        if task is None:
            return f"There is no task `{short_id}`."
        live = self.live.by_short_id(task.short_id)
        shown = live.task if live is not None else task
        elapsed = live.elapsed if live is not None else None
        lines = [f"*Task* `{shown.short_id}` · {task_card.STATE_LABELS[shown.state]}: {shown.goal}"]
        if shown.plan:
            lines.append(task_card.checklist(shown))
        lines.append(task_card.status(shown, elapsed))
        return "\n".join(lines)

    async def listed(self, channel: str, user: str) -> str:
        tasks = await self.store.listed(channel, user)
        shown = [(live.task if (live := self.live.by_short_id(t.short_id)) else t) for t in tasks]
        return task_card.listing(shown)

    def _budget(self, ask: TaskAsk) -> Budget | str:
        return self.limits.budget(ask.minutes, ask.tokens, ask.cost_usd, priced=self.priced)

    async def _work(
        self, work: Work, services: Services, client: AsyncWebClient, task: Task
    ) -> None:
        fresh = await self.store.get(task.short_id)
        if fresh is not None and fresh.finished:  # cancelled while it waited
            return
        live = LiveTask(task)
        painter = CardPainter(client, live, self.interval)
        live.on_change = painter.changed
        self.live.add(live)
        await self.store.save(task, state="running")
        await painter.changed(live)
        target = ReplyTarget(task.channel, task.card_ts or "", task.team_id, task.requester)
        outcome: ReplyOutcome | None = None
        try:
            outcome = await services.answer(work, client, target, text=task.goal)
        finally:
            if outcome is None or outcome.status != "paused":
                self.live.remove(live)
            await self._end(task, live, outcome)
            await painter.finish()
        await self._report(client, live, outcome)

    async def _end(self, task: Task, live: LiveTask, outcome: ReplyOutcome | None) -> None:
        usage = outcome.usage if outcome is not None else None
        tokens = usage.input_tokens + usage.output_tokens if usage else task.tokens_used
        if outcome is not None and outcome.status == "paused":
            state, reference = "running", None
        elif live.stop_reason is not None:
            state, reference = "stopped", None
        elif outcome is None or outcome.status == "failed":
            state, reference = "failed", outcome.error_ref if outcome else None
        else:
            state, reference = "done", None
        await self.store.save(
            task,
            state=state,
            tokens_used=max(tokens, task.tokens_used),
            cost_usd=(usage.cost_usd if usage and usage.cost_usd is not None else task.cost_usd),
            stop_reason=live.stop_reason,
            error_reference=reference,
            plan=task.plan,
        )

    async def _report(
        self, client: AsyncWebClient, live: LiveTask, outcome: ReplyOutcome | None
    ) -> None:
        """The closing line in the thread, for the requester."""
        task = live.task
        if task.state == "running":  # waiting for an approval: it goes on after the click
            return
        if task.state == "done":
            head = f"<@{task.requester}> task `{task.short_id}` is done."
        elif task.state == "stopped":
            head = f"<@{task.requester}> task `{task.short_id}` stopped: {task.stop_reason}."
        else:
            ref = f" (ref `{task.error_reference}`)" if task.error_reference else ""
            head = f"<@{task.requester}> task `{task.short_id}` failed{ref}."
        done = [s.title for s in task.plan if s.status == "done"]
        left = [s.title for s in task.plan if s.status not in {"done", "skipped"}]
        lines = [head]
        if done:
            lines.append("Done: " + "; ".join(done) + ".")
        if left:
            lines.append("Not done: " + "; ".join(left) + ".")
        await client.chat_postMessage(
            channel=task.channel, thread_ts=task.card_ts, text="\n".join(lines)
        )
