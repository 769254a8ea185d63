"""The loop that runs recurring tasks: every ``tick`` seconds it finds the schedules whose slot
has come, claims each slot in the store (one process wins it, whatever the replicas) and starts
the task through the task desk, as ``/task`` would: a card in the channel, the work and the
report in its thread.

Each run holds a claim keyed ``schedule:<id>:<slot>`` (what an answer needs, and the durable
run's id when answers are durable) and counts as work in flight, so a graceful stop waits for
it as for any answer; the slot's task is keyed by that claim. A process killed after claiming
a slot and before its task started leaves the slot's row running and its claim's lease
running out: the next tick of any process takes the claim over and starts the task (the one
recorded already, if it was), so the slot still runs once. A slot missed while no process ran
is run once at the next start. A slot that comes while the schedule's previous run still works
is skipped (said once in that run's thread): a schedule never runs twice at once. A slot
taken up after its process died between Slack posting the card and the card's ts being stored
keeps that card (found by its mark, bot.slack.marks) instead of posting a second one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.background import cancel_and_wait
from bot.core.store.claims import DONE
from bot.core.store.schedules import Schedule, ScheduleStore
from bot.core.store.tasks import task_id_for
from bot.core.tasks.model import Task
from bot.slack import marks
from bot.slack.exactly_once import Work
from bot.slack.schedule_desk import when

if TYPE_CHECKING:
    from bot.slack.services import Services
    from bot.slack.task_desk import TaskDesk

log = logging.getLogger("teammate.slack.scheduler")

ENDED_UNNOTED = "its process ended before noting how the run went"


def claim_key(schedule: Schedule, slot: int) -> str:
    return _slot_key(schedule.id, slot)


def _slot_key(schedule_id: str, slot: int) -> str:
    return f"schedule:{schedule_id}:{datetime.fromtimestamp(slot, UTC).isoformat()}"


async def slots_tasks(store: ScheduleStore) -> set[str]:
    """The ids of the tasks of slots whose run has not yet started its task: a tick takes each
    up again (its card posted then) when its process died, so nothing else must end them."""
    return {
        task_id_for(_slot_key(run.schedule_id, run.slot))
        for run in await store.unstarted(time.time())
    }


class Scheduler:
    def __init__(
        self,
        store: ScheduleStore,
        tasks: TaskDesk,
        services: Services,
        client: AsyncWebClient,
        tick: float = 15.0,
    ) -> None:
        self.store = store
        self.tasks = tasks
        self.services = services
        self.client = client
        self.tick_seconds = tick
        self._loop: asyncio.Task[None] | None = None
        self._runs: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        self._loop = asyncio.create_task(self._every_tick())

    async def stop(self) -> None:
        """No more slots are claimed; runs already started go on (the drain waits for them)."""
        await cancel_and_wait(self._loop)

    async def tick(self, now: float | None = None) -> list[asyncio.Task[None]]:
        """Claim the slots due at ``now`` and start their runs, and take up the slots claimed
        by a process that died before their task started; the runs started."""
        now = time.time() if now is None else now
        started = []
        for schedule in await self.store.due(now):
            if not self.services.tracker.accepting:
                break
            slot = await self.store.claim(schedule, now)
            if slot is not None:
                started.append(self._start(schedule, slot))
        for run in await self.store.unstarted(now - self.services.claims.lease_seconds):
            left = await self.store.by_id(run.schedule_id)
            if left is not None and self.services.tracker.accepting:
                started.append(self._start(left, run.slot))
        return started

    def _start(self, schedule: Schedule, slot: int) -> asyncio.Task[None]:
        run = asyncio.create_task(self._run(schedule, slot))
        self._runs.add(run)
        run.add_done_callback(self._runs.discard)
        return run

    async def _every_tick(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception:  # a database hiccup: the next tick tries again
                log.exception("schedule tick failed")
            await asyncio.sleep(self.tick_seconds)

    async def _run(self, schedule: Schedule, slot: int) -> None:
        """The slot's run under its claim: a slot claimed here, or one whose claim a dead
        process left (its task, keyed by the claim, is found again rather than made twice)."""
        claims = self.services.claims
        async with self.services.tracker.busy():
            key = claim_key(schedule, slot)
            claim = await claims.claim(key)
            if not claim.acquired:  # a live process runs the slot, or one ran it and died
                if await claims.state(key) == DONE:  # before noting it: the row is closed
                    await self.store.finish(schedule.id, slot, "done", ENDED_UNNOTED)
                return
            state, note = "failed", None
            try:
                log.info("schedule %s runs its slot %s", schedule.short_id, slot)
                async with claims.held(claim):
                    state, note = await self._slot(schedule, slot, Work(claim))
            except Exception:
                log.exception("schedule %s failed its slot %s", schedule.short_id, slot)
            finally:
                with contextlib.suppress(Exception):
                    await self.store.finish(schedule.id, slot, state, note)

    async def _slot(self, schedule: Schedule, slot: int, work: Work) -> tuple[str, str | None]:
        """Start the slot's task, unless the schedule's previous run still works: its state
        and note."""
        working = await self._still_working(schedule, slot)
        if working is not None:
            log.info("schedule %s skips its slot %s: %s", schedule.short_id, slot, working)
            return "skipped", working
        refused = await self.tasks.start(
            work,
            self.services,
            self.client,
            team_id=schedule.team_id,
            channel=schedule.channel,
            user=schedule.creator,
            text=schedule.text,
        )
        if refused:
            log.warning("schedule %s could not run: %s", schedule.short_id, refused)
            return "refused", refused
        return "done", None

    async def _still_working(self, schedule: Schedule, slot: int) -> str | None:
        """Why the slot is skipped (a schedule never runs twice at once), or None. The first
        slot skipped for a run that still works says so in that run's thread."""
        previous = await self.store.previous(schedule.id, slot)
        if previous is None:
            return None
        task = await self.tasks.store.by_id(task_id_for(claim_key(schedule, previous.slot)))
        if task is None:
            return "the previous run is still starting" if previous.state == "running" else None
        if task.finished:
            return None
        told = await self.store.skipped_since(schedule.id, previous.slot)
        if task.card_ts and not told:
            with contextlib.suppress(SlackApiError):  # the skip stands, said or not
                await self.client.chat_postMessage(
                    channel=task.channel,
                    thread_ts=task.card_ts,
                    text=skipped_line(schedule, slot, task),
                    metadata=marks.mark(marks.SCHEDULE_SKIP, schedule_id=schedule.id),
                )
        return f"task `{task.short_id}` still works"


def skipped_line(schedule: Schedule, slot: int, task: Task) -> str:
    return (
        f"Schedule `{schedule.short_id}` skipped its run of {when(slot, schedule.tz)}: this run,"
        f" task `{task.short_id}`, still works. A schedule never runs twice at once, so its"
        " slots are skipped until this task ends; the next one after that runs as usual."
    )
