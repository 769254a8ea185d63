"""The sessions queue: where a session waits for a process that runs sessions to take it
(and the tasks queue, where a task waits its turn before it).

One DBOS queue, partitioned by workspace: at most ``per_workspace`` sessions of one workspace
run at once across every worker (DBOS counts a partition's running workflows in the system
tables, so the limit holds whatever the number of workers); the rest wait their turn there.

Enqueueing is :func:`enqueue_session`, whoever calls it (an answer, a task): the workflow's id
names the session, and enqueueing an id that exists attaches to that workflow instead of
queueing a second one, so a Slack retry or a second replica never enqueues twice.

Tasks wait on a queue of their own first, ``teammate.tasks`` (:func:`enqueue_task`), that lets
at most ``max_tasks`` run at once across every worker (DBOS counts the queue's running
workflows in its tables, as for a partition): a task's turn there holds its place while the
task itself runs as a session. Tasks beyond the limit wait on that queue, so they take none of
their workspace's sessions from its answers.

Two ways in, one per kind of process:

- a process that runs sessions (a worker, or one that does everything) enqueues through its
  launched DBOS (:class:`RunningQueue`); its queue thread takes sessions off the queue too;
- a process that only acknowledges (`teammate serve` with ``TEAMMATE_SESSIONS=workers``)
  enqueues as a DBOS client does (:class:`ClientQueue`) and runs no workflow: no recovery,
  queue or scheduler threads of DBOS's compete with the acknowledgements.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from dbos import DBOS, DBOSClient, EnqueueOptions, SetEnqueueOptions, SetWorkflowID

from bot.core.batches import Batches
from bot.core.durable.engine import APP_NAME, SCHEMA, release, system_database_url
from bot.core.store import claim_statements
from bot.core.store.claims import DONE, Claim

log = logging.getLogger("teammate.core.durable.queues")

SESSIONS_QUEUE = "teammate.sessions"
TASKS_QUEUE = "teammate.tasks"
POLL_SECONDS = 0.2
"""How often a worker looks for sessions: the most a session waits on an idle queue. Each look
is three small queries (DBOS reads the queue's settings, its scopes and its partitions with
work), about 11–13 ms of CPU a second per worker at rest; DBOS's queue thread sleeps on an event
only its stop sets, so nothing (a NOTIFY from the enqueueing replica included) can wake it
sooner, and a longer interval would be waited by every answer."""
TASKS_POLL_SECONDS = 1.0
"""How often a worker looks for tasks' turns: a task runs for minutes, so its start may wait a
second, and the look (a whole claim transaction even when nothing is queued) costs a fifth of
what it did every 0.2 s: it was the dearest thing a worker did at rest."""
_RECYCLE_SECONDS = 1800  # connections a database proxy may cut after idling are replaced
NO_WORKSPACE = "-"
"""The partition of sessions without a workspace (every enqueue on it must name one)."""


@dataclass(frozen=True, slots=True)
class _Put:
    """A workflow to queue: DBOS's options for it, its arguments, the claim it finishes."""

    workflow: Callable[..., Any]
    args: tuple[Any, ...]
    options: EnqueueOptions
    finishing: Claim | None = None


class SessionQueue:
    """Where this process queues sessions, and tasks' turns (:class:`RunningQueue` in a
    process that runs sessions, :class:`ClientQueue` in one that only acknowledges)."""

    async def enqueue(
        self,
        workflow: Callable[..., Any],
        *args: Any,
        workflow_id: str,
        workspace: str,
        finishing: Claim | None = None,
    ) -> bool:
        """On the sessions queue, in ``workspace``'s partition. True when ``finishing`` (the
        claim of the request handed over) was marked done in the same transaction, so nobody
        needs to write it again (only a process that merely acknowledges does this)."""
        options = _options(workflow, workflow_id, SESSIONS_QUEUE)
        options["queue_partition_key"] = _partition(workspace)
        return await self._put(_Put(workflow, args, options, finishing))

    async def enqueue_task(
        self, workflow: Callable[..., Any], *args: Any, workflow_id: str
    ) -> None:
        """On the tasks queue (it has no partitions)."""
        await self._put(_Put(workflow, args, _options(workflow, workflow_id, TASKS_QUEUE)))

    async def _put(self, put: _Put) -> bool:
        raise NotImplementedError

    async def close(self) -> None:
        return None


_queue: SessionQueue | None = None


def install(queue: SessionQueue | None) -> None:
    """Make ``queue`` the one :func:`enqueue_session` uses in this process."""
    global _queue
    _queue = queue


async def enqueue_session(
    workflow: Callable[..., Any], *args: Any, workflow_id: str, workspace: str
) -> None:
    """Queue ``workflow(*args)`` as the session ``workflow_id`` of ``workspace`` (nothing more
    when that session exists already)."""
    if _queue is None:
        raise RuntimeError("no sessions queue: durable sessions are off in this process")
    await _queue.enqueue(workflow, *args, workflow_id=workflow_id, workspace=workspace)


async def enqueue_task(workflow: Callable[..., Any], *args: Any, workflow_id: str) -> None:
    """Queue ``workflow(*args)`` for one of the ``max_tasks`` places of the tasks queue."""
    if _queue is None:
        raise RuntimeError("no sessions queue: durable sessions are off in this process")
    await _queue.enqueue_task(workflow, *args, workflow_id=workflow_id)


def _partition(workspace: str) -> str:
    return workspace or NO_WORKSPACE


def _limits(per_workspace: int, max_tasks: int) -> dict[str, dict[str, Any]]:
    """Each queue's settings, the same whoever registers them (the last to start wins)."""
    return {
        SESSIONS_QUEUE: {
            "partition_concurrency": per_workspace,
            "polling_interval_sec": POLL_SECONDS,
            "on_conflict": "always_update",
        },
        TASKS_QUEUE: {
            "global_concurrency": max_tasks,
            "polling_interval_sec": TASKS_POLL_SECONDS,
            "on_conflict": "always_update",
        },
    }


def _options(workflow: Callable[..., Any], workflow_id: str, queue: str) -> EnqueueOptions:
    return {
        "workflow_name": _registered_name(workflow),
        "queue_name": queue,
        "workflow_id": workflow_id,
    }


def _registered_name(workflow: Callable[..., Any]) -> str:
    """The name DBOS registered ``workflow`` under (``@DBOS.workflow(name=...)``)."""
    name = getattr(workflow, "dbos_function_name", None)
    if not name:
        raise TypeError(f"{workflow!r} is not a DBOS workflow")
    return str(name)


class RunningQueue(SessionQueue):
    """The queues in a process whose DBOS is launched: :meth:`open` after the launch registers
    them (with their limits), which also makes this process take sessions from them."""

    def __init__(self, per_workspace: int, max_tasks: int) -> None:
        self.per_workspace = per_workspace
        self.max_tasks = max_tasks
        self._queues: dict[str, Any] = {}
        self._opening = asyncio.Lock()

    async def open(self) -> None:
        async with self._opening:
            if not self._queues:
                for name, limits in _limits(self.per_workspace, self.max_tasks).items():
                    self._queues[name] = await DBOS.register_queue_async(name, **limits)

    async def _put(self, put: _Put) -> bool:
        await self.open()
        options = put.options
        with (
            SetWorkflowID(options["workflow_id"]),
            SetEnqueueOptions(queue_partition_key=options.get("queue_partition_key")),
        ):
            await self._queues[options["queue_name"]].enqueue_async(put.workflow, *put.args)
        return False  # the claim's holder finishes it, as for any work done here


class ClientQueue(SessionQueue):
    """The queues seen from a process that runs no sessions. At :meth:`open` DBOS's tables are
    created (or brought up to date) and the queues registered, so this process can start
    before any worker has. Sessions asked for while a write runs (or, with ``linger``, in the
    few milliseconds after the first) go in one transaction (:class:`bot.core.batches.Batches`)
    through DBOS's ``enqueue_in_transaction``, on the client's own psycopg engine in a thread:
    DBOS runs its inserts there as statements it compiled once, where
    ``DBOSClient.enqueue_async`` would take a thread, a pool check and a transaction for each
    session, and a connection of the product's driver (asyncpg) would compile both inserts
    again for each. DBOS's tables are in the product's database, so the same transaction marks
    the handed-over requests' claims done: queued and done are one commit, and the request
    costs the replica two transactions' share, not three."""

    def __init__(
        self,
        database_url: str,
        per_workspace: int,
        max_tasks: int,
        version: str | None = None,
        linger: float = 0.0,
    ) -> None:
        self.url = system_database_url(database_url)
        self.per_workspace = per_workspace
        self.max_tasks = max_tasks
        self.version = version or release()
        self._engine: sa.Engine | None = None
        self._client: DBOSClient | None = None
        self._enqueues: Batches[None, _Put, bool]
        self._enqueues = Batches(contextlib.nullcontext, self._insert, linger)

    async def open(self) -> None:
        await asyncio.to_thread(DBOS.migrate, self.url, schema=SCHEMA)
        self._engine = sa.create_engine(
            self.url.replace("postgresql://", "postgresql+psycopg://", 1),
            pool_size=2,
            max_overflow=0,
            pool_recycle=_RECYCLE_SECONDS,
        )
        self._client = await asyncio.to_thread(
            DBOSClient,
            system_database_engine=self._engine,
            dbos_system_schema=SCHEMA,
            application_name=APP_NAME,
        )
        for name, limits in _limits(self.per_workspace, self.max_tasks).items():
            await self._client.register_queue_async(name, **limits)

    async def take_back(self, workflow_id: str) -> bool:
        """Queue again the session ``workflow_id`` if a worker left it running (PENDING); False
        when it is not. Called once its claim was taken over, so its lease ran out: the worker
        is gone. Back on its own queue and partition (its limits hold), whichever worker takes
        it resumes it at its last recorded step, under that worker's executor id; the dead
        worker's restart recovers only what is PENDING under its own, so it never runs it too."""
        client = self._opened()
        left = await client.list_workflows_async(
            workflow_ids=[workflow_id], status="PENDING", load_input=False, load_output=False
        )
        if not left:
            return False
        log.info("queueing %s again, left by executor %s", workflow_id, left[0].executor_id)
        await client.resume_workflow_async(workflow_id, queue_name=left[0].queue_name)
        return True

    def _opened(self) -> DBOSClient:
        if self._client is None:
            raise RuntimeError("ClientQueue.open() runs at start")
        return self._client

    async def _put(self, put: _Put) -> bool:
        client = self._opened()
        put.options["app_version"] = self.version
        try:
            return await self._enqueues.put(put)
        except Exception:  # noqa: BLE001 - one bad session must not fail the rest of its batch
            workflow_id = put.options["workflow_id"]
            log.warning("queueing %s with others failed; queueing it alone", workflow_id)
            await client.enqueue_async(put.options, *put.args)
            return False

    async def _insert(self, _: None, batch: list[_Put]) -> list[bool]:
        client, engine = self._client, self._engine
        assert client is not None and engine is not None
        finished: dict[str, list[str]] = {}
        for put in batch:
            if put.finishing is not None:
                finished.setdefault(put.finishing.owner, []).append(put.finishing.key)

        def insert_all() -> None:
            with engine.begin() as connection:
                for put in batch:
                    client.enqueue_in_transaction(connection, put.options, *put.args)
                now = time.time()
                for owner, keys in finished.items():
                    connection.execute(
                        *claim_statements.finish("postgresql", owner, DONE, keys, now)
                    )

        await asyncio.to_thread(insert_all)
        return [put.finishing is not None for put in batch]

    async def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            with contextlib.suppress(Exception):
                await asyncio.to_thread(client.destroy)
        if self._engine is not None:
            engine, self._engine = self._engine, None
            await asyncio.to_thread(engine.dispose)
