"""The loop that runs recurring tasks: every ``tick`` seconds it finds the schedules whose slot
has come, claims each slot in the store (one process wins it, whatever the replicas) and starts
the task through the task desk, as ``/task`` would: a card in the channel, the work and the
report in its thread.

Each run holds a claim keyed ``schedule:<id>:<slot>`` (what an answer needs, and the durable
run's id when answers are durable) and counts as work in flight, so a graceful stop waits for
it as for any answer. A slot missed while no process ran is run once at the next start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from slack_sdk.web.async_client import AsyncWebClient

from bot.core.store.schedules import Schedule, ScheduleStore
from bot.slack.exactly_once import Work

if TYPE_CHECKING:
    from bot.slack.services import Services
    from bot.slack.task_desk import TaskDesk

log = logging.getLogger("teammate.slack.scheduler")


def claim_key(schedule: Schedule, slot: int) -> str:
    return f"schedule:{schedule.id}:{datetime.fromtimestamp(slot, UTC).isoformat()}"


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
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop

    async def tick(self, now: float | None = None) -> list[asyncio.Task[None]]:
        """Claim the slots due at ``now`` and start their runs; the runs started."""
        now = time.time() if now is None else now
        started = []
        for schedule in await self.store.due(now):
            if not self.services.tracker.accepting:
                break
            slot = await self.store.claim(schedule, now)
            if slot is None:
                continue
            run = asyncio.create_task(self._run(schedule, slot))
            self._runs.add(run)
            run.add_done_callback(self._runs.discard)
            started.append(run)
        return started

    async def _every_tick(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception:  # a database hiccup: the next tick tries again
                log.exception("schedule tick failed")
            await asyncio.sleep(self.tick_seconds)

    async def _run(self, schedule: Schedule, slot: int) -> None:
        claims = self.services.claims
        state, note = "failed", None
        async with self.services.tracker.busy():
            try:
                claim = await claims.claim(claim_key(schedule, slot))
                if not claim.acquired:  # the slot's row is ours: only a leftover claim does this
                    state, note = "skipped", "its claim was held already"
                    return
                log.info("schedule %s runs its slot %s", schedule.short_id, slot)
                async with claims.held(claim):
                    refused = await self.tasks.start(
                        Work(claim),
                        self.services,
                        self.client,
                        team_id=schedule.team_id,
                        channel=schedule.channel,
                        user=schedule.creator,
                        text=schedule.text,
                    )
                state, note = ("refused", refused) if refused else ("done", None)
                if refused:
                    log.warning("schedule %s could not run: %s", schedule.short_id, refused)
            except Exception:
                log.exception("schedule %s failed its slot %s", schedule.short_id, slot)
            finally:
                with contextlib.suppress(Exception):
                    await self.store.finish(schedule.id, slot, state, note)
