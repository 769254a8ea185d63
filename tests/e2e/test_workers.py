"""Scaled out on PostgreSQL: `teammate serve` replicas acknowledge and enqueue, `teammate
worker` processes run the answers. Every mention is answered once, the workspace's limit on
sessions at once holds across workers, and a worker killed mid-answers has its sessions
finished by its restart, or by `teammate recover` when it stays down."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import signal
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import pytest

from bot.testkit.fakes import Text
from bot.testkit.fakes.script import Dynamic
from bot.testkit.processes import free_port, start_serve, start_worker, stop_gracefully
from bot.testkit.stack import bot_environment
from tests.conftest import postgres_database
from tests.e2e.test_cli import teammate
from tests.e2e.test_exactly_once import mention_event_id

pytestmark = pytest.mark.timeout(600)  # four bot processes start and answer on two cores

LIMIT = 3
ANSWER = "Here is the answer, one word at a time, for every question asked."
SLOW_ANSWER = " ".join(f"word{i}" for i in range(60))
STARTING = 300.0
"""Seconds for a process to be ready: several start at once on a loaded two-core machine."""


class Deployment:
    """Serve replicas and workers sharing one PostgreSQL database, wired to the sandbox.

    The first process starts alone: processes that all create DBOS's tables in a fresh
    database at once contend for DBOS's migration lock, and on a loaded machine that can stall
    a start for minutes."""

    def __init__(self, sandbox, model, tmp_path: Path, database_url: str) -> None:
        self.sandbox, self.model, self.tmp_path = sandbox, model, tmp_path
        self.database_url = database_url
        self.env = {
            **os.environ,
            **bot_environment(sandbox, model, tmp_path),
            "TEAMMATE_DATABASE_URL": database_url,
            "TEAMMATE_WORKSPACE_SESSIONS": str(LIMIT),
            "TEAMMATE_STREAM_INTERVAL": "0.2",
        }
        self.replicas: list[str] = []
        self.workers: dict[str, tuple[subprocess.Popen[bytes], int]] = {}
        self._processes: list[subprocess.Popen[bytes]] = []

    async def serve(self, count: int) -> None:
        """``count`` ack-only replicas (no executor of their own)."""
        env = {**self.env, "TEAMMATE_SESSIONS": "workers"}
        ports = [free_port() for _ in range(count)]
        started = await asyncio.gather(
            *(start_serve(env, p, self.tmp_path / f"serve-{p}.log", STARTING) for p in ports)
        )
        self._processes += started
        self.replicas += [f"http://127.0.0.1:{p}/slack/events" for p in ports]

    async def work(self, *executors: str) -> None:
        """A worker for each executor id (a restart reuses the id and the health port)."""
        await asyncio.gather(*(self._start_worker(e) for e in executors))

    async def _start_worker(self, executor: str) -> None:
        port = self.workers[executor][1] if executor in self.workers else free_port()
        env = {**self.env, "TEAMMATE_EXECUTOR_ID": executor}
        process = await start_worker(env, port, self.tmp_path / f"{executor}.log", STARTING)
        self.workers[executor] = (process, port)
        self._processes.append(process)

    def kill(self, executor: str) -> None:
        process, _ = self.workers[executor]
        process.send_signal(signal.SIGKILL)
        process.wait()

    async def mention(self, count: int, text: str = "question") -> list[dict]:
        """``count`` mentions in #general, each delivered to the next replica in turn."""
        posted = []
        for number in range(count):
            self.sandbox.request_url = self.replicas[number % len(self.replicas)]
            message = self.sandbox.post_message(
                "alice", "general", f"<@{self.sandbox.bot_user_id}> {text} {number}"
            )
            ids = set(message["event_ids"])
            await self.sandbox.wait_for(  # delivered before the next one picks its replica
                lambda ids=ids: ids <= {a["id"] for a in self.sandbox.delivery.attempts("event")},
                10,
            )
            posted.append(message)
        return posted

    async def answered(self, posted: list[dict], text: str, within: float) -> None:
        """Every thread holds exactly one reply, finished, with ``text``."""

        def done() -> bool:
            for message in posted:
                replies = self.sandbox.replies("general", message["ts"], from_bot=True)
                if not any(text in r["text"] and not r["streaming"] for r in replies):
                    return False
            return True

        await self.sandbox.wait_for(done, within)
        await self.sandbox.settle()
        for message in posted:
            replies = self.sandbox.replies("general", message["ts"], from_bot=True)
            assert [r["text"].strip() for r in replies] == [text]

    async def sessions(self, **where: str) -> list[asyncpg.Record]:
        """Rows of DBOS's record of the answers' workflows."""
        url = self.database_url.replace("postgresql+asyncpg://", "postgresql://")
        connection = await asyncpg.connect(url)
        try:
            clauses = " ".join(f"AND {column} = '{value}'" for column, value in where.items())
            return await connection.fetch(
                "SELECT workflow_uuid, executor_id, status, queue_name, queue_partition_key "
                f"FROM dbos.workflow_status WHERE name = 'teammate.answer' {clauses}"
            )
        finally:
            await connection.close()

    async def finished_sessions(self, count: int, within: float = 30.0) -> list[asyncpg.Record]:
        """The ``count`` answers' workflows once each has recorded its outcome (that comes
        just after the answer shows in Slack)."""
        deadline = asyncio.get_running_loop().time() + within
        while True:
            sessions = await self.sessions()
            if len(sessions) == count and {s["status"] for s in sessions} == {"SUCCESS"}:
                return sessions
            if asyncio.get_running_loop().time() > deadline:
                statuses = sorted(s["status"] for s in sessions)
                raise AssertionError(f"not all {count} sessions finished: {statuses}")
            await asyncio.sleep(0.2)

    async def stop(self) -> None:
        for process in self._processes:
            if process.poll() is None:
                process.terminate()
        for process in self._processes:
            await stop_gracefully(process)


@contextlib.asynccontextmanager
async def deployment(sandbox, model, tmp_path) -> AsyncIterator[Deployment]:
    async with postgres_database() as db:
        deployed = Deployment(sandbox, model, tmp_path, db.url)
        try:
            yield deployed
        finally:
            await deployed.stop()


async def test_two_replicas_and_two_workers_answer_every_mention_once(
    sandbox, model, tmp_path
) -> None:
    model.default = Text(ANSWER, delay=0.03)
    async with deployment(sandbox, model, tmp_path) as deployed:
        await deployed.work("worker-1")  # alone: it creates DBOS's tables (see the class)
        await asyncio.gather(deployed.serve(2), deployed.work("worker-2"))
        posted = await deployed.mention(50)
        await deployed.answered(posted, ANSWER, within=180)
        assert len(model.requests) == 50  # none answered twice
        assert 1 < model.most_in_flight <= LIMIT  # the workspace's limit, across both workers
        sessions = await deployed.finished_sessions(50)
        assert {s["queue_name"] for s in sessions} == {"teammate.sessions"}
        # Both workers took sessions; the replicas ran none (they have no executor).
        ran = {s["executor_id"] for s in sessions}
        assert ran == {"worker-1", "worker-2"}


async def test_a_draining_worker_takes_no_new_session(sandbox, model, tmp_path) -> None:
    """SIGTERM to a worker running as many answers as the workspace may: they finish, and it
    takes none of the answers still queued though its slots free up one after another while it
    drains. Those stay queued, and the other worker answers each of them once."""
    let_go, order = asyncio.Event(), itertools.count()

    async def after_the_signal(body: dict) -> Text:
        await let_go.wait()
        turn = next(order)
        await asyncio.sleep(turn if turn < LIMIT else 0)  # one slot frees at a time
        return Text(ANSWER, delay=0.01)

    model.default = Dynamic(after_the_signal)
    async with deployment(sandbox, model, tmp_path) as deployed:
        await deployed.work("worker-1")  # alone: it creates DBOS's tables (see the class)
        await deployed.serve(1)
        posted = await deployed.mention(2 * LIMIT)
        for _ in range(600):
            running = await deployed.sessions(executor_id="worker-1", status="PENDING")
            if len(running) == LIMIT and len(model.requests) == LIMIT:
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("worker-1 never ran the workspace's limit of answers")
        taken = {row["workflow_uuid"] for row in running}

        worker, _ = deployed.workers["worker-1"]
        worker.send_signal(signal.SIGTERM)
        await asyncio.sleep(0.5)  # the signal is taken in before the answers go on
        let_go.set()
        assert await asyncio.to_thread(worker.wait, 120) == 0
        after = {row["workflow_uuid"]: row for row in await deployed.sessions()}
        ran = {key for key, row in after.items() if row["executor_id"] == "worker-1"}
        assert ran == taken  # none taken after the signal
        assert {after[key]["status"] for key in taken} == {"SUCCESS"}  # finished in the drain
        assert {row["status"] for key, row in after.items() if key not in taken} == {"ENQUEUED"}

        await deployed.work("worker-2")
        await deployed.answered(posted, ANSWER, within=180)
        sessions = await deployed.finished_sessions(2 * LIMIT)
        assert {s["executor_id"] for s in sessions if s["workflow_uuid"] not in taken} == {
            "worker-2"
        }
        assert len(model.requests) == 2 * LIMIT  # each answered once


async def killed_mid_answers(deployed: Deployment, count: int) -> list[dict]:
    """``count`` slow mentions; worker-1 is killed once one of its answers shows text."""
    posted = await deployed.mention(count)
    by_key = {f"event:{e}": m for m in posted for e in m["event_ids"]}

    async def showing_on_worker_1() -> bool:
        for row in await deployed.sessions(executor_id="worker-1", status="PENDING"):
            message = by_key.get(row["workflow_uuid"])
            if message and any(
                r["text"] for r in deployed.sandbox.replies("general", message["ts"], from_bot=True)
            ):
                return True
        return False

    for _ in range(600):
        if await showing_on_worker_1():
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("worker-1 never showed an answer")
    deployed.kill("worker-1")
    assert await deployed.sessions(executor_id="worker-1", status="PENDING"), (
        "the kill left worker-1 with no session running"
    )
    return posted


@contextlib.asynccontextmanager
async def worker_1_killed(
    sandbox, model, tmp_path
) -> AsyncIterator[tuple[Deployment, list[dict], set[str]]]:
    """One replica and worker-1 alone (so the sessions it takes are certain); six slow
    mentions, worker-1 killed mid-answers. Yields the deployment, the six posted mentions and
    the ids of the sessions worker-1 left running."""
    model.default = Text(SLOW_ANSWER, delay=0.05)
    async with deployment(sandbox, model, tmp_path) as deployed:
        await deployed.work("worker-1")  # alone: it creates DBOS's tables (see the class)
        await deployed.serve(1)
        posted = await killed_mid_answers(deployed, 6)
        left = {
            row["workflow_uuid"]
            for row in await deployed.sessions(executor_id="worker-1", status="PENDING")
        }
        yield deployed, posted, left


async def test_a_killed_worker_finishes_its_sessions_when_it_restarts(
    sandbox, model, tmp_path
) -> None:
    async with worker_1_killed(sandbox, model, tmp_path) as (deployed, posted, left):
        await deployed.work("worker-1")  # the same executor id: it resumes what it left
        await deployed.answered(posted, SLOW_ANSWER, within=180)
        sessions = await deployed.finished_sessions(6)
        assert {s["executor_id"] for s in sessions if s["workflow_uuid"] in left} == {"worker-1"}


async def test_recover_hands_a_dead_workers_sessions_to_the_other(sandbox, model, tmp_path) -> None:
    async with worker_1_killed(sandbox, model, tmp_path) as (deployed, posted, left):
        await deployed.work("worker-2")
        status, said = await teammate("recover", "worker-1", env=deployed.env, cwd=tmp_path)
        assert status == 0, said
        assert said.startswith(f"worker-1: {len(left)} run"), said
        await deployed.answered(posted, SLOW_ANSWER, within=180)
        sessions = await deployed.finished_sessions(6)
        # worker-1 never came back: what it had left ran on worker-2, still on the sessions
        # queue (where the workspace's limit holds).
        taken = [s for s in sessions if s["workflow_uuid"] in left]
        assert len(taken) == len(left)
        assert {s["executor_id"] for s in taken} == {"worker-2"}
        assert {s["queue_name"] for s in taken} == {"teammate.sessions"}


async def lease_ran_out(deployed: Deployment, key: str) -> None:
    """Once the lease of the claim ``key`` has run out (nothing renews a dead owner's)."""
    url = deployed.database_url.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(url)
    try:
        for _ in range(600):
            lease = await connection.fetchval("SELECT lease_until FROM claims WHERE key = $1", key)
            if lease is not None and lease < time.time():
                return
            await asyncio.sleep(0.1)
    finally:
        await connection.close()
    raise AssertionError(f"the lease of {key} never ran out")


async def test_a_slack_retry_at_a_replica_hands_a_dead_workers_answer_to_another(
    sandbox, model, tmp_path
) -> None:
    model.default = Text(SLOW_ANSWER, delay=0.05)
    async with deployment(sandbox, model, tmp_path) as deployed:
        deployed.env["TEAMMATE_CLAIM_LEASE_SECONDS"] = "2"
        await deployed.work("worker-1")  # alone: it creates DBOS's tables (see the class)
        await deployed.serve(1)
        [posted] = await killed_mid_answers(deployed, 1)
        event_id = mention_event_id(sandbox, posted)
        key = f"event:{event_id}"
        await deployed.work("worker-2")  # worker-1 does not come back
        await lease_ran_out(deployed, key)
        [left] = await deployed.sessions(workflow_uuid=key)
        assert (left["status"], left["executor_id"]) == ("PENDING", "worker-1")

        sandbox.request_url = deployed.replicas[0]
        attempt = await sandbox.redeliver(event_id, retry_num=1)
        assert attempt["status"] == 200
        await deployed.answered([posted], SLOW_ANSWER, within=120)
        [session] = await deployed.finished_sessions(1)
        assert session["executor_id"] == "worker-2"  # resumed by a live worker
        assert session["queue_name"] == "teammate.sessions"  # on its queue, under its limit
        assert session["queue_partition_key"] == sandbox.team_id
        assert len(model.requests) == 2  # the request the kill cut, sent once more

        # worker-1 back at last finds nothing of its own left running (DBOS reads what it
        # recovers as it launches, before the worker is ready): it answers nothing again.
        await deployed.work("worker-1")
        await sandbox.settle()
        [session] = await deployed.sessions(workflow_uuid=key)
        assert (session["status"], session["executor_id"]) == ("SUCCESS", "worker-2")
        replies = sandbox.replies("general", posted["ts"], from_bot=True)
        assert [r["text"].strip() for r in replies] == [SLOW_ANSWER]
        assert len(model.requests) == 2


@pytest.mark.parametrize("command", [["worker"], ["serve"]])
async def test_workers_need_postgres(tmp_path, command) -> None:
    env = {
        "TEAMMATE_DATA_DIR": str(tmp_path),
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": "secret",
        "TEAMMATE_SESSIONS": "workers",
    }
    status, said = await teammate(*command, env=env, cwd=tmp_path)
    what = "teammate worker" if command == ["worker"] else "TEAMMATE_SESSIONS=workers"
    assert status == 2
    assert said.strip().splitlines() == [
        f"teammate: {what} needs PostgreSQL: set TEAMMATE_DATABASE_URL=postgresql://user@host/db "
        "(on SQLite one `teammate serve` or `run` answers by itself)"
    ]
