"""Tasks whose process died and that nothing resumes: ended visibly instead of left as they were.

Without durable answers a task's run lives only in the process that took it up, which holds
the task's claim (``task:<task id>``) from the queue to the end and keeps its lease alive. A
task still queued or working whose claim's lease ran out (or that never got one) was left by a
process that is gone: nothing resumes it. Running it again is not safe in general (its tools
may have written already), so it is not.

With durable answers or without, a task is recorded first and its card posted next, under the
claim ``card:<task id>`` (held alive while Slack is asked): a task still queued with no card
whose posting claim's lease ran out (or that never got one) was being started by a process
that died. No workflow was started for it (that comes once the card is up), so with durable
answers too nothing would ever run it: it stayed queued in `/task list` for good. (A
schedule's slot is the exception: the scheduler takes the slot up again and posts its card.)

At start, and every lease from then on (another process may die while this one lives), each
such task is ended as interrupted with a reference id (the log line's): its card says so and
the requester is told in its thread, or, with no card to draw, privately in its channel. A card
Slack posted while its process died before it stored the ts is looked for first, by its mark
(one ``conversations.history`` read): found, it is drawn interrupted too, not left "queued".
Taking the claim over first makes one process do it, however many share the database; a task
whose claim a live process holds is left alone.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.background import cancel_and_wait
from bot.core.references import new_reference
from bot.core.store import ClaimStore
from bot.core.store.tasks import TaskStore
from bot.core.tasks.model import Task
from bot.slack import marks
from bot.slack.task_runs import NEVER_STARTED, NOTHING_RESUMES, TaskRuns, owner_key

log = logging.getLogger("teammate.slack.task_salvage")


def card_key(task_id: str) -> str:
    """The claim held by the process that posts the task's card."""
    return f"card:{task_id}"


class TaskSalvage:
    def __init__(
        self,
        store: TaskStore,
        claims: ClaimStore,
        runs: TaskRuns,
        client: AsyncWebClient,
        *,
        durable: bool = False,
        taken_up: Callable[[], Awaitable[set[str]]] | None = None,
    ) -> None:
        self.store = store
        self.claims = claims
        self.runs = runs
        self.client = client
        self.durable = durable
        """With durable answers, a task with a card is resumed by its workflow: only the ones
        left without a card are ended."""
        self.taken_up = taken_up
        """The ids of the tasks that something else starts again (a schedule's slots)."""
        self._loop: asyncio.Task[None] | None = None

    async def sweep(self) -> int:
        """End the tasks left by a process that is gone; how many."""
        before = time.time() - self.claims.lease_seconds
        ended = 0
        cut = await self.store.left_without_card(before)
        elsewhere = await self.taken_up() if cut and self.taken_up is not None else set()
        for task in cut:
            if task.id not in elsewhere:
                ended += await self._end(task, card_key(task.id), NEVER_STARTED)
        if not self.durable:
            for task in await self.store.left_running(before):
                ended += await self._end(task, owner_key(task.id))
        return ended

    async def _end(self, task: Task, key: str, why: str = NOTHING_RESUMES) -> int:
        """End ``task`` as interrupted unless a live process holds ``key``; 1 when it did."""
        claim = await self.claims.claim(key)
        if not claim.acquired:  # a live process works on it (or resumes it after a click)
            return 0
        if task.card_ts is None:
            await self._find_card(task)
        reference = new_reference()
        log.warning(
            "task %s was left %s by a process that is gone; it is ended as interrupted ref=%s",
            task.short_id,
            task.state,
            reference,
        )
        interrupted = await self.store.interrupt(task.id, reference)
        if interrupted is not None:
            await self.runs.interrupted(self.client, interrupted, why)
        await self.claims.finish(claim)
        return 1 if interrupted is not None else 0

    async def _find_card(self, task: Task) -> None:
        """Store the ts of ``task``'s card if Slack posted it (found by its mark: the process
        died before it heard back), so the card is drawn interrupted rather than left queued."""
        try:
            card = await marks.task_card(self.client, task.channel, task.id, task.created_at)
        except SlackApiError as exc:
            log.warning("could not look for the card of task %s: %s", task.short_id, exc)
            return
        if card is not None:
            log.info("task %s: its card was posted before its process died", task.short_id)
            await self.store.save(task, card_ts=card["ts"])

    def start(self) -> None:
        """Sweep every lease in the background (the first sweep runs at start, before it)."""
        self._loop = asyncio.create_task(self._every_lease())

    async def stop(self) -> None:
        await cancel_and_wait(self._loop)

    async def _every_lease(self) -> None:
        while True:
            await asyncio.sleep(self.claims.lease_seconds)
            try:
                await self.sweep()
            except Exception:  # a database hiccup: the next sweep tries again
                log.exception("the sweep for interrupted tasks failed")
