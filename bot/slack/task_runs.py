"""A task's work, from its start to its closing report, wherever it runs.

The same steps whether the task runs in the background of the process that took the
``/task`` (durable answers off) or as its own durable workflow (:mod:`bot.slack.durable_tasks`):
wait for one of ``max_tasks`` slots, mark the task working (its start stored once), attach it
to the live tasks so the core's capability treats the answer's run as this task's (budgets,
the plan tool, its inbox of stops and replies), run the answer in the card's thread, and end:
the state stored, the card drawn a last time, the closing line that mentions the requester.

A task is rebuilt from its row each time it is attached (plan, tokens used, its stored start),
so a task taken up after a restart, or after an approval clicked in another process, goes on
where its card left it. A run that pauses for an approval leaves the task waiting, attached;
:meth:`TaskRuns.resumed` ends it once the click's resumed run is done.

The end happens once in the thread however often it runs: a durable run cut in its end (after
the state was stored, before the step was recorded) ends it again, and then the closing line,
posted with metadata naming the task, is looked for in the thread before it is posted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.conversation import Scope
from bot.core.store import ClaimStore
from bot.core.store.tasks import TaskStore
from bot.core.tasks.live import LiveTask, LiveTasks
from bot.core.tasks.model import Task
from bot.slack import marks
from bot.slack.render import task_card
from bot.slack.reply import ReplyOutcome, ReplyTarget
from bot.slack.task_card_painter import CardPainter

log = logging.getLogger("teammate.slack.tasks")


def owner_key(task_id: str) -> str:
    """The claim held by the process that works on the task (bot.slack.task_salvage)."""
    return f"task:{task_id}"


Answer = Callable[[Task, ReplyTarget], Awaitable[ReplyOutcome | None]]
End = Callable[[str, ReplyOutcome | None], Awaitable[None]]
NOTHING_RESUMES = "it stopped with the process that ran it, and nothing resumes it"
NEVER_STARTED = "it stopped with the process that was starting it, and nothing runs it"
UPGRADED = "an upgrade changed how tasks run, so the new version cannot go on with it"
"""Why an interrupted task is not resumed, in its closing line."""


class TaskRuns:
    def __init__(
        self, store: TaskStore, live: LiveTasks, max_tasks: int = 4, interval: float = 1.0
    ) -> None:
        self.store = store
        self.live = live
        self.interval = interval
        self.slots = asyncio.Semaphore(max_tasks)
        self._painters: dict[str, CardPainter] = {}

    async def work(
        self,
        client: AsyncWebClient,
        task_id: str,
        answer: Answer,
        end: End | None = None,
    ) -> None:
        """Work on the task once a slot is free: its answer, then its end (``end``: how a
        durable run records it, by default :meth:`end`). A durable run that finds its task
        ended after it had begun ended it itself and was cut before it recorded so: it goes
        on (its answer recorded) and ends it again."""
        async with self.slots:
            task = await self.store.begin(task_id)
            if task is None and end is not None:
                task = await self.store.by_id(task_id)
                task = task if task is not None and task.started_at is not None else None
            if task is None:  # stopped while it waited, or ended before a restart
                return
            live = self.attach(client, task)
            await live.changed()
            outcome = await self._answered(live, answer)
            if end is not None:
                await end(task_id, outcome)
            else:
                await self.end(client, task_id, outcome)

    async def _answered(self, live: LiveTask, answer: Answer) -> ReplyOutcome | None:
        task = live.task
        target = ReplyTarget(task.channel, task.card_ts or "", task.team_id, task.requester)
        try:
            return await answer(task, target)
        except Exception:  # noqa: BLE001 - the answer told the thread; the task says failed
            log.exception("task %s failed", task.short_id)
            return None

    def attach(self, client: AsyncWebClient, task: Task) -> LiveTask:
        """The live task for ``task`` (as stored), its card painted by this process; the one
        attached already when there is one."""
        live = self.live.add(LiveTask(task, inbox=self.store))
        if live.task is not task:  # attached already: the stored row is the fresher
            live.task.plan = task.plan or live.task.plan
            live.task.state, live.task.started_at = task.state, task.started_at
        painter = self._painters.get(task.id)
        if painter is None:
            painter = CardPainter(client, live, self.interval, keep=self._keep)
            self._painters[task.id] = painter
            live.on_change = painter.changed
        return live

    async def restore(self, client: AsyncWebClient) -> int:
        """Attach the tasks that were working or waiting for an approval when the process
        stopped, before anything resumes their runs."""
        tasks = await self.store.unfinished()
        for task in tasks:
            self.attach(client, task)
        return len(tasks)

    async def resumed(
        self,
        client: AsyncWebClient,
        scope: Scope,
        resume: Callable[[], Awaitable[ReplyOutcome]],
        claims: ClaimStore,
    ) -> ReplyOutcome | None:
        """Run ``resume`` (a paused answer going on after its approvals, durable answers off);
        when it is a task's (its thread is a task card's), as that task: budgets and plan go
        on, it ends, and the task's claim is held meanwhile, as by the run before its pause: a
        process that dies in it leaves a lease that runs out, and the task is ended as
        interrupted (bot.slack.task_salvage) instead of staying "working"."""
        task = await self.store.in_thread(scope.channel_id, scope.thread_ts)
        if task is None:
            return await resume()
        claim = await claims.adopt(owner_key(task.id))
        async with claims.held(claim):
            task = await self.store.begin(task.id) or task
            live = self.attach(client, task)
            live.new_run()
            await live.changed()
            outcome: ReplyOutcome | None = None
            try:
                outcome = await resume()
            finally:
                await self.end(client, task.id, outcome)
        return outcome

    async def end(self, client: AsyncWebClient, task_id: str, outcome: ReplyOutcome | None) -> None:
        """Store how the task ended, draw its card a last time and post the closing line; a
        run paused for an approval leaves it waiting instead."""
        live = next((t for t in self._live_tasks() if t.task.id == task_id), None)
        if live is None:
            stored = await self.store.by_id(task_id)
            if stored is None:
                return
            live = self.attach(client, stored)
        task = live.task
        if task.finished:  # ended by a run cut before it recorded so: the end again, once
            await self._close(client, live, outcome, look_first=True)
            return
        usage = outcome.usage if outcome is not None else None
        if live.stop_reason is None:  # asked during the last request: it counts as stopped
            live.stop_reason = await self.store.stop_requested(task_id)
        if outcome is not None and outcome.status == "paused":
            state, reference = "waiting", None
        elif live.stop_reason is not None:
            state, reference = "stopped", None
        elif outcome is None or outcome.status == "failed":
            state, reference = "failed", outcome.error_ref if outcome else None
        else:
            state, reference = "done", None
        tokens = live.base_tokens + usage.input_tokens + usage.output_tokens if usage else 0
        cost = usage.cost_usd if usage is not None else None
        await self.store.save(
            task,
            state=state,
            tokens_used=max(tokens, task.tokens_used),
            cost_usd=(live.base_cost or 0.0) + cost if cost is not None else task.cost_usd,
            stop_reason=live.stop_reason,
            error_reference=reference,
            plan=task.plan,
        )
        if state == "waiting":
            await live.changed()
            return
        await self._close(client, live, outcome)

    async def _close(
        self,
        client: AsyncWebClient,
        live: LiveTask,
        outcome: ReplyOutcome | None,
        look_first: bool = False,
    ) -> None:
        """The card's last drawing and the closing line (``look_first``: unless the line is
        in the thread already)."""
        task = live.task
        self.live.remove(live)
        painter = self._painters.pop(task.id, None)
        if painter is not None:
            await painter.finish()
        if look_first and await self._reported(client, task):
            return
        await self._report(client, task, outcome)

    async def interrupted(
        self, client: AsyncWebClient, task: Task, why: str = NOTHING_RESUMES
    ) -> None:
        """The end of a task that nothing will resume (its process died, bot.slack.
        task_salvage; an upgrade changed its steps, bot.slack.upgrades): its card drawn a last
        time and the closing line, saying ``why``. One attached here is detached first; one
        that died before its card was posted has neither, and its requester is told privately
        in its channel."""
        if task.card_ts is None:
            with contextlib.suppress(SlackApiError):
                await client.chat_postEphemeral(
                    channel=task.channel, user=task.requester, text=task_card.cut_short(task)
                )
            return
        live = next((t for t in self._live_tasks() if t.task.id == task.id), None)
        if live is not None:  # attached at this start (restore), but nothing works on it
            live.task = task
            self.live.remove(live)
            painter = self._painters.pop(task.id, None)
            if painter is not None:
                await painter.finish()
        else:
            text, blocks = task_card.card(task)
            with contextlib.suppress(SlackApiError):
                await client.chat_update(
                    channel=task.channel, ts=task.card_ts or "", text=text, blocks=blocks
                )
        await self._report(client, task, None, why)

    @staticmethod
    async def _reported(client: AsyncWebClient, task: Task) -> bool:
        """Whether the task's closing line is in its thread."""
        thread = task.card_ts or ""
        return bool(
            await marks.in_thread(client, task.channel, thread, marks.TASK_REPORT, task_id=task.id)
        )

    def _live_tasks(self) -> list[LiveTask]:
        return [p.live for p in self._painters.values()]

    async def _keep(self, live: LiveTask) -> None:
        """Store the progress the card is about to show, and learn of a Stop another process
        took in meanwhile (it drew "stopping" on the card: this drawing keeps it)."""
        await self.store.keep(live.task)

    async def _report(
        self,
        client: AsyncWebClient,
        task: Task,
        outcome: ReplyOutcome | None,
        why: str = NOTHING_RESUMES,
    ) -> None:
        """The closing line in the thread, for the requester."""
        if task.state == "done":
            head = f"<@{task.requester}> task `{task.short_id}` is done."
        elif task.state == "stopped":
            head = f"<@{task.requester}> task `{task.short_id}` stopped: {task.stop_reason}."
        elif task.state == "interrupted":
            head = (
                f"<@{task.requester}> task `{task.short_id}` was {task_card.INTERRUPTED}"
                f" (ref `{task.error_reference}`): {why}. Start it again if it is still needed."
            )
        else:
            why = f": {outcome.error}" if outcome is not None and outcome.error else ""
            ref = f" (ref `{task.error_reference}`)" if task.error_reference else ""
            head = f"<@{task.requester}> task `{task.short_id}` failed{ref}{why}"
            head = head if head.endswith(".") else head + "."
        done = [s.title for s in task.plan if s.status == "done"]
        left = [s.title for s in task.plan if s.status not in {"done", "skipped"}]
        lines = [head]
        if done:
            lines.append("Done: " + "; ".join(done) + ".")
        if left:
            lines.append("Not done: " + "; ".join(left) + ".")
        await client.chat_postMessage(
            channel=task.channel,
            thread_ts=task.card_ts,
            text="\n".join(lines),
            metadata=marks.mark(marks.TASK_REPORT, task_id=task.id),
        )
