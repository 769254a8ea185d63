"""Tasks whose process died, without durable answers: ended visibly instead of "working" forever.

Without durable answers a task's run lives only in the process that took it up, which holds
the task's claim (``task:<task id>``) from the queue to the end and keeps its lease alive. A
task still queued or working whose claim's lease ran out (or that never got one) was left by a
process that is gone: nothing resumes it. At start, and every lease from then on (another
replica may die while this one lives), each such task is ended as interrupted: its card says so
with a reference id (the log line's), and the requester is told in its thread. Taking the
claim over first makes one process do it, however many share the database; a task whose claim
a live process holds is left alone. Running it again is not safe in general (its tools may
have written already), so it is not.
"""

from __future__ import annotations

import asyncio
import logging
import time

from slack_sdk.web.async_client import AsyncWebClient

from bot.core.background import cancel_and_wait
from bot.core.references import new_reference
from bot.core.store import ClaimStore
from bot.core.store.tasks import TaskStore
from bot.slack.task_runs import TaskRuns

log = logging.getLogger("teammate.slack.task_salvage")


def owner_key(task_id: str) -> str:
    """The claim held by the process that works on the task."""
    return f"task:{task_id}"


class TaskSalvage:
    def __init__(
        self, store: TaskStore, claims: ClaimStore, runs: TaskRuns, client: AsyncWebClient
    ) -> None:
        self.store = store
        self.claims = claims
        self.runs = runs
        self.client = client
        self._loop: asyncio.Task[None] | None = None

    async def sweep(self) -> int:
        """End the tasks left running by a process that is gone; how many."""
        ended = 0
        for task in await self.store.left_running(time.time() - self.claims.lease_seconds):
            claim = await self.claims.claim(owner_key(task.id))
            if not claim.acquired:  # a live process works on it (or resumes it after a click)
                continue
            reference = new_reference()
            log.warning(
                "task %s was left %s by a process that is gone; it is ended as interrupted ref=%s",
                task.short_id,
                task.state,
                reference,
            )
            interrupted = await self.store.interrupt(task.id, reference)
            if interrupted is not None:
                await self.runs.interrupted(self.client, interrupted)
                ended += 1
            await self.claims.finish(claim)
        return ended

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
