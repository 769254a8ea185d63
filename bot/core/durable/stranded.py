"""The runs an earlier build left: recorded under another application version, which this
build's DBOS neither recovers nor takes off a queue.

A build whose step layout changed (bot.core.durable.layout) runs under a version of its own, so
a run the build before it left PENDING (cut by the deploy) or ENQUEUED (never taken) would wait
forever. What to do with each is the product's choice (bot.slack.upgrades); this finds them,
with one select on DBOS's ``workflow_status`` that returns those runs only, and does it to
DBOS's records through ``DBOSClient`` (no workflow runs here, so the same code serves a start
and `teammate recover`):

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

import sqlalchemy as sa
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
    def __init__(self, client: DBOSClient, engine: sa.Engine) -> None:
        self.client = client
        self.engine = engine
        """Where the look reads DBOS's tables (its writes go through ``client``)."""

    async def left(self, executor_id: str, version: str, prefix: str) -> list[LeftRun]:
        """The runs of workflows named ``prefix…`` recorded under a version other than
        ``version``: PENDING ones of ``executor_id``, ENQUEUED ones of any. One query that
        returns those only (DBOS lists by a version, not by "another version", so listing
        through it read every queued run of this version too, and each one's steps after)."""
        statement = _left_statement(self.engine.dialect.name, executor_id, version, prefix)

        def read() -> list[LeftRun]:
            with self.engine.connect() as connection:
                rows = connection.execute(statement).all()
            return [
                LeftRun(
                    row.workflow_uuid,
                    row.name,
                    row.status,
                    row.application_version,
                    row.queue_name,
                    row.queue_partition_key,
                    bool(row.started),
                )
                for row in rows
            ]

        return await asyncio.to_thread(read)

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


def _left_statement(dialect: str, executor_id: str, version: str, prefix: str) -> sa.Select:
    """The select of :meth:`EarlierRuns.left` on DBOS's tables (in the schema ``dbos`` on
    PostgreSQL; SQLite has none). Whether a run recorded a step is read in the same query."""
    schema = None if dialect == "sqlite" else SCHEMA
    status = sa.table(
        "workflow_status",
        *(sa.column(name) for name in _STATUS_COLUMNS),
        schema=schema,
    )
    steps = sa.table("operation_outputs", sa.column("workflow_uuid"), schema=schema)
    started = sa.exists().where(steps.c.workflow_uuid == status.c.workflow_uuid)
    return sa.select(
        status.c.workflow_uuid,
        status.c.name,
        status.c.status,
        status.c.application_version,
        status.c.queue_name,
        status.c.queue_partition_key,
        started.label("started"),
    ).where(
        status.c.name.startswith(prefix, autoescape=True),
        status.c.application_version.is_not(None),
        status.c.application_version != version,
        sa.or_(
            sa.and_(status.c.status == "PENDING", status.c.executor_id == executor_id),
            status.c.status == "ENQUEUED",
        ),
    )


_STATUS_COLUMNS = (
    "workflow_uuid",
    "name",
    "status",
    "executor_id",
    "application_version",
    "queue_name",
    "queue_partition_key",
)


@asynccontextmanager
async def earlier_runs(database_url: str) -> AsyncIterator[EarlierRuns]:
    """DBOS's records in the product's database, for the time of a look."""
    url = system_database_url(database_url)
    client = await asyncio.to_thread(DBOSClient, system_database_url=url, dbos_system_schema=SCHEMA)
    engine = sa.create_engine(
        url.replace("postgresql://", "postgresql+psycopg://", 1), poolclass=sa.NullPool
    )
    try:
        yield EarlierRuns(client, engine)
    finally:
        await asyncio.to_thread(engine.dispose)
        await asyncio.to_thread(client.destroy)
