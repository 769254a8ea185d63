"""What a start of this build does with the runs an earlier step layout left queued, on DBOS's
own records (SQLite): each is queued again under this version on its own queue and partition,
or cancelled when it belongs to a task; runs of this version are left alone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa
from dbos import DBOS, DBOSClient

from bot.core.durable.engine import SCHEMA, release, system_database_url
from bot.core.durable.queues import SESSIONS_QUEUE, TASKS_QUEUE
from bot.core.durable.stranded import earlier_runs
from bot.slack.upgrades import PREFIX, Upgrade
from tests.conftest import postgres_database

EARLIER = "0.0.9+steps.0"


def queued(client: DBOSClient, name: str, workflow_id: str, queue: str, **more: str) -> None:
    client.enqueue(
        {"workflow_name": name, "queue_name": queue, "workflow_id": workflow_id, **more}, "x"
    )


async def test_runs_an_earlier_layout_queued_go_on_under_this_version(tmp_path) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'teammate.db'}"
    url = system_database_url(database_url)
    await asyncio.to_thread(DBOS.migrate, url, schema=SCHEMA)
    client = DBOSClient(system_database_url=url, dbos_system_schema=SCHEMA)
    try:
        for name in (SESSIONS_QUEUE, TASKS_QUEUE):
            client.register_queue(name)
        partition = {"queue_partition_key": "T1"}
        queued(
            client, "teammate.answer", "event:1", SESSIONS_QUEUE, app_version=EARLIER, **partition
        )
        queued(client, "teammate.task.turn", "task:t1:turn", TASKS_QUEUE, app_version=EARLIER)
        queued(
            client,
            "teammate.answer",
            "task:t2:answer",
            SESSIONS_QUEUE,
            app_version=EARLIER,
            **partition,
        )
        queued(
            client, "teammate.answer", "event:2", SESSIONS_QUEUE, app_version=release(), **partition
        )
        queued(client, "other.flow", "other:1", SESSIONS_QUEUE, app_version=EARLIER, **partition)

        handled = await Upgrade(database_url, release(), None, None).handle("local")

        assert sorted(handled) == ["event:1", "task:t1:turn", "task:t2:answer"]
        runs = {w.workflow_id: w for w in client.list_workflows(load_input=False)}
        seen = {
            i: (w.status, w.app_version, w.queue_name, w.queue_partition_key)
            for i, w in runs.items()
        }
        assert seen == {
            "event:1": ("ENQUEUED", release(), SESSIONS_QUEUE, "T1"),
            "task:t1:turn": ("ENQUEUED", release(), TASKS_QUEUE, None),
            "task:t2:answer": ("CANCELLED", EARLIER, None, "T1"),  # an older layout's task child
            "event:2": ("ENQUEUED", release(), SESSIONS_QUEUE, "T1"),  # of this version already
            "other:1": ("ENQUEUED", EARLIER, SESSIONS_QUEUE, "T1"),  # not this application's
        }
    finally:
        client.destroy()


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request, tmp_path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'teammate.db'}"
    else:
        async with postgres_database() as db:
            yield db.url


async def test_a_long_queue_of_this_version_costs_a_start_one_query(database_url) -> None:
    """Many queued runs of this version and one an earlier layout left: the look for what
    earlier versions left is one query that returns that run alone, and only it is rewound."""
    url = system_database_url(database_url)
    await asyncio.to_thread(DBOS.migrate, url, schema=SCHEMA)
    client = DBOSClient(system_database_url=url, dbos_system_schema=SCHEMA)
    try:
        client.register_queue(SESSIONS_QUEUE)
        partition = {"queue_partition_key": "T1"}
        for number in range(200):
            queued(
                client,
                "teammate.answer",
                f"event:{number}",
                SESSIONS_QUEUE,
                app_version=release(),
                **partition,
            )
        queued(
            client, "teammate.answer", "event:old", SESSIONS_QUEUE, app_version=EARLIER, **partition
        )

        async with earlier_runs(database_url) as runs:
            statements: list[str] = []
            sa.event.listen(
                runs.engine, "before_cursor_execute", lambda *call: statements.append(call[2])
            )
            left = await runs.left("local", release(), PREFIX)
        assert [(r.workflow_id, r.status, r.version, r.started) for r in left] == [
            ("event:old", "ENQUEUED", EARLIER, False)
        ]
        assert len(statements) == 1, statements

        assert await Upgrade(database_url, release(), None, None).handle("local") == ["event:old"]
        runs_now = {w.workflow_id: w for w in client.list_workflows(load_input=False)}
        assert len(runs_now) == 201
        assert {(w.status, w.app_version) for w in runs_now.values()} == {("ENQUEUED", release())}
    finally:
        client.destroy()
