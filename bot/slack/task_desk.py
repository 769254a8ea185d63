"""Tasks as people hand them over: ``/task <goal>`` (or "task: …" in a mention),
``/task list | show ID | cancel ID``, the card's Stop button, Slack's Stop of the streaming
answer (``agent_session_stopped``) and replies in a running task's thread.

A task is posted as its card in the channel and recorded; the request that asked returns then,
and the work runs apart from it (:mod:`bot.slack.task_runs`): in the background of this
process, or as the task's own durable workflow when answers are durable
(:mod:`bot.slack.durable_tasks`). A Stop, a cancel and a steering reply are stored on the task
(its row, its steering table), so they reach the run at its next model request whichever
process took them in.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.store import Claim, ClaimOutcome, ClaimStore
from bot.core.store.tasks import TaskStore
from bot.core.tasks.live import LiveTasks
from bot.core.tasks.model import Budget, BudgetLimits, Task
from bot.slack import marks
from bot.slack.admins import Admins
from bot.slack.exactly_once import Work
from bot.slack.render import task_card
from bot.slack.reply import ReplyOutcome, ReplyTarget
from bot.slack.task_options import TaskAsk, parse_task
from bot.slack.task_runs import Answer, TaskRuns, owner_key
from bot.slack.task_salvage import card_key

if TYPE_CHECKING:
    from bot.slack.durable_tasks import DurableTasks
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
    durable: DurableTasks | None = None
    """Set when tasks run as durable workflows (with TEAMMATE_DURABLE_ANSWERS)."""
    runs: TaskRuns = field(init=False)
    _background: set[asyncio.Task[None]] = field(init=False, default_factory=set)

    def __post_init__(self) -> None:
        self.runs = TaskRuns(self.store, self.live, self.max_tasks, self.interval)

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
        """Post the card, record the task and set it working (apart from this request);
        returns the line for the asker alone when it could not start."""
        ask = parse_task(text)
        if isinstance(ask, str):
            return ask
        budget = self._budget(ask)
        if isinstance(budget, str):
            return budget
        key = work.claim.key
        task = await self.store.create(team_id, channel, user, ask.goal, budget, key=key)
        if task.finished and task.card_ts is None:  # refused before, or cut before its card
            return task_card.cut_short(task) if task.state == "interrupted" else NOT_IN_CHANNEL
        if task.card_ts is None:
            again = work.claim.outcome is ClaimOutcome.TAKEN_OVER
            refused = await self._post_card(client, task, services.claims, look_first=again)
            if refused:
                return refused
        elif task.finished or self.durable is None:
            # Started before by this request, whose claim is taken over now: a run without
            # durable answers died with its process (bot.slack.task_salvage ends it).
            if on_card is not None:
                on_card(task)
            return None
        if on_card is not None:  # the card is up: whoever handed the task over may say so
            on_card(task)
        if self.durable is not None:
            await self.durable.start(task)  # the same workflow, if it was started before
        else:
            self._in_background(services, client, task)
        return None

    async def _post_card(
        self, client: AsyncWebClient, task: Task, claims: ClaimStore, look_first: bool = False
    ) -> str | None:
        """Post the task's card, marked with the task's id; the refusal line when Teammate is
        not in the channel. Under the claim of its posting, kept alive meanwhile: a task whose
        process dies before its card is recorded is told apart by it, and ended
        (bot.slack.task_salvage). ``look_first`` (the request is taken over from a process
        that died): a card that process posted without storing its ts is found in the channel
        and kept."""
        claim = await claims.adopt(card_key(task.id))
        async with claims.held(claim):
            if look_first and await self._adopt_card(client, task):
                return None
            card_text, blocks = task_card.card(task)
            try:
                posted = await client.chat_postMessage(
                    channel=task.channel,
                    text=card_text,
                    blocks=blocks,
                    metadata=marks.mark(marks.TASK_CARD, task_id=task.id),
                )
            except SlackApiError as exc:
                if exc.response.get("error") not in {"not_in_channel", "channel_not_found"}:
                    raise
                await self.store.save(task, state="failed")
                return NOT_IN_CHANNEL
            await self.store.save(task, card_ts=posted["ts"])
        return None

    async def _adopt_card(self, client: AsyncWebClient, task: Task) -> bool:
        """Whether the task's card was in the channel already (its ts is stored then)."""
        try:
            card = await marks.task_card(client, task.channel, task.id, task.created_at)
        except SlackApiError as exc:
            log.warning("could not look for the card of task %s: %s", task.short_id, exc)
            return False
        if card is None:
            return False
        log.info("task %s: its card was posted before the restart; kept", task.short_id)
        await self.store.save(task, card_ts=card["ts"])
        return True

    async def cancel(self, client: AsyncWebClient, short_id: str, user: str) -> str:
        """``/task cancel``: stop a task at its next step (the requester or an admin only)."""
        task = await self.store.get(short_id)
        if task is None:
            return f"There is no task `{short_id}`."
        return await self._stop(client, task, user, f"cancelled by <@{user}>", "cancel")

    async def stop_clicked(self, client: AsyncWebClient, body: dict) -> None:
        """The card's Stop button; the one who clicked is told what happens, privately."""
        action = body["actions"][0]
        user = (body.get("user") or {}).get("id", "")
        channel = (body.get("channel") or {}).get("id", "")
        task = await self.store.get(action.get("value") or "")
        if task is None:
            return
        said = await self._stop(client, task, user, f"stopped by <@{user}>", "stop")
        with contextlib.suppress(SlackApiError):
            await client.chat_postEphemeral(channel=channel or task.channel, user=user, text=said)

    async def session_stopped(
        self, client: AsyncWebClient, channel: str, thread_ts: str, user: str
    ) -> None:
        """Slack's Stop on the streaming answer of a task's thread (``agent_session_stopped``)."""
        task = await self.store.in_thread(channel, thread_ts)
        if task is None:
            return
        reason = f"stopped by <@{user}>" if user else "stopped in Slack"
        said = await self._stop(client, task, user, reason, "stop", check=bool(user))
        log.info("task %s: %s", task.short_id, said)

    async def steer(self, event: dict) -> bool:
        """A message in a running task's thread (a reply or a mention): kept for the task's
        next model request (True), instead of being answered on its own, so the thread has
        one run of the agent at a time."""
        thread_ts, text = event.get("thread_ts"), event.get("text") or ""
        if not thread_ts or thread_ts == event.get("ts") or not text:
            return False
        task = await self.store.in_thread(event["channel"], thread_ts)
        if task is None:
            return False
        await self.store.steer(task.id, event.get("user", ""), event["ts"], text)
        return True

    async def show(self, short_id: str) -> str:
        task = await self.store.get(short_id)
        if task is None:
            return f"There is no task `{short_id}`."
        live = self.live.by_short_id(task.short_id)
        shown = live.task if live is not None else task
        lines = [f"*Task* `{shown.short_id}` · {task_card.STATE_LABELS[shown.state]}: {shown.goal}"]
        if shown.plan:
            lines.append(task_card.checklist(shown))
        lines.append(task_card.status(shown, _elapsed(shown)))
        return "\n".join(lines)

    async def listed(self, channel: str, user: str) -> str:
        tasks = await self.store.listed(channel, user)
        shown = [(live.task if (live := self.live.by_short_id(t.short_id)) else t) for t in tasks]
        return task_card.listing(shown)

    def _budget(self, ask: TaskAsk) -> Budget | str:
        return self.limits.budget(ask.minutes, ask.tokens, ask.cost_usd, priced=self.priced)

    async def _stop(
        self,
        client: AsyncWebClient,
        task: Task,
        user: str,
        reason: str,
        verb: str,
        *,
        check: bool = True,
    ) -> str:
        """Ask ``task`` to stop, stored on its row for whichever process runs it; a queued
        task stops at once. Only its requester or an admin may."""
        if check and user != task.requester and not await self.admins.is_admin(client, user):
            return f"Only <@{task.requester}> or an admin can {verb} task `{task.short_id}`."
        if task.finished:
            return f"Task `{task.short_id}` has already ended ({task.state})."
        state = await self.store.request_stop(task.id, reason)
        if state is None:
            return f"Task `{task.short_id}` has already ended."
        if state == "stopped":  # it had not started: nothing runs it
            await self._redraw(client, task.short_id)
            return f"Task `{task.short_id}` is cancelled."
        live = self.live.by_short_id(task.short_id)
        if live is not None:
            live.task.stop_requested = live.task.stop_requested or reason
            await live.changed()
        else:  # it runs in another process (a worker): the card says "stopping" from now
            await self._redraw(client, task.short_id)
        return f"Task `{task.short_id}` stops at its next step."

    async def _redraw(self, client: AsyncWebClient, short_id: str) -> None:
        """Draw the card from the task's row: the progress the process that runs it stored
        last, the replies its run took in, and what was asked of it since."""
        task = await self.store.get(short_id)
        if task is None or task.card_ts is None:
            return
        taken_in = [reply for reply in await self.store.steering(task.id) if reply.taken]
        text, blocks = task_card.card(task, _elapsed(task), taken_in)
        with contextlib.suppress(SlackApiError):
            await client.chat_update(
                channel=task.channel, ts=task.card_ts, text=text, blocks=blocks
            )

    def _in_background(self, services: Services, client: AsyncWebClient, task: Task) -> None:
        """Work on ``task`` in this process, counted as work in flight for a graceful stop."""

        async def run() -> None:
            async with services.tracker.busy():
                try:
                    # Held from the queue to the end: its lease tells every process this one
                    # is alive and works on it (bot.slack.task_salvage).
                    claim = await services.claims.adopt(owner_key(task.id))
                    async with services.claims.held(claim):
                        await self.runs.work(client, task.id, _answer(services, client, claim))
                except Exception:
                    log.exception("task %s broke", task.short_id)

        job = asyncio.create_task(run())
        self._background.add(job)
        job.add_done_callback(self._background.discard)


def _answer(services: Services, client: AsyncWebClient, claim: Claim) -> Answer:
    """A task's answer in its card's thread, under the task's claim."""

    async def answer(task: Task, target: ReplyTarget) -> ReplyOutcome | None:
        return await services.answer(Work(claim), client, target, text=task.goal)

    return answer


def _elapsed(task: Task) -> float | None:
    """Seconds of work so far, for a task that has started."""
    if task.started_at is None:
        return None
    end = task.updated_at if task.finished else time.time()
    return end - task.started_at
