"""The runs an earlier build left: recorded under another application version, which this
build's DBOS neither recovers nor takes off a queue.

A build whose step layout changed (bot.core.durable.layout) runs under a version of its own, so
a run the build before it left PENDING (cut by the deploy) or ENQUEUED (never taken) would wait
forever. What to do with each is the product's choice (bot.slack.upgrades); this finds them
and does it to DBOS's records, through ``DBOSClient`` (no workflow runs here, so the same code
serves a start and `teammate recover`):

- :meth:`EarlierRuns.restart` puts a run back on its queue under this version with none of its
  steps: DBOS's rewind, which keeps the workflow's id (its claim's key, so a Slack retry or a
  second replica still finds this one run) and applies to a run that has ended, so the run is
  cancelled first. Whoever takes it runs it from the start.
- :meth:`EarlierRuns.end` cancels it.

Only PENDING runs of one executor are looked at (another live executor of the earlier build
finishes its own, as in a rolling deploy), and ENQUEUED ones of any: they never ran anywhere.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from dbos import DBOSClient

from bot.core.durable.engine import SCHEMA, system_database_url


@dataclass(frozen=True)
class LeftRun:
    workflow_id: str
    name: str
    status: str
    """PENDING (cut mid-run) or ENQUEUED (waiting on a queue)."""
    version: str
    queue_name: str | None
    partition: str | None
    started: bool
    """Whether it recorded a step: a run that never started can run here from the start."""


class EarlierRuns:
    def __init__(self, client: DBOSClient) -> None:
        self.client = client

    async def left(self, executor_id: str, version: str, prefix: str) -> list[LeftRun]:
        """The runs of workflows named ``prefix…`` recorded under a version other than
        ``version``: PENDING ones of ``executor_id``, ENQUEUED ones of any executor."""
        pending = await self.client.list_workflows_async(
            status="PENDING", executor_id=executor_id, load_input=False, load_output=False
        )
        queued = await self.client.list_workflows_async(
            status="ENQUEUED", load_input=False, load_output=False
        )
        runs = []
        for status in [*pending, *queued]:
            if not status.name.startswith(prefix) or status.app_version in (None, version):
                continue
            steps = await self.client.list_workflow_steps_async(
                status.workflow_id, load_output=False, limit=1
            )
            runs.append(
                LeftRun(
                    status.workflow_id,
                    status.name,
                    status.status,
                    status.app_version or "",
                    status.queue_name,
                    status.queue_partition_key,
                    bool(steps),
                )
            )
        return runs

    async def restart(self, run: LeftRun, version: str) -> None:
        """``run`` queued again under ``version`` (on its own queue and partition), from its
        start."""
        await self.client.cancel_workflow_async(run.workflow_id)
        await self.client.rewind_workflow_async(
            run.workflow_id,
            start_step=1,
            application_version=version,
            queue_name=run.queue_name,
            queue_partition_key=run.partition,
        )

    async def end(self, run: LeftRun) -> None:
        await self.client.cancel_workflow_async(run.workflow_id)


@asynccontextmanager
async def earlier_runs(database_url: str) -> AsyncIterator[EarlierRuns]:
    """DBOS's records in the product's database, for the time of a look."""
    client = await asyncio.to_thread(
        DBOSClient,
        system_database_url=system_database_url(database_url),
        dbos_system_schema=SCHEMA,
    )
    try:
        yield EarlierRuns(client)
    finally:
        await asyncio.to_thread(client.destroy)
