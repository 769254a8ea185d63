"""Where DBOS keeps its records, who a process is to it, and its start and stop."""

import asyncio
import contextlib
import re
import sqlite3
import threading
from pathlib import Path

import pytest
from dbos import DBOS
from dbos._workflow_commands import BACKGROUND_JOBS_THREAD_NAME

from bot.core.durable import system_database_url
from bot.core.durable.engine import DurableEngine, release
from bot.settings import load_settings


def test_sqlite_keeps_dbos_in_its_own_file_beside_the_database() -> None:
    url = system_database_url("sqlite+aiosqlite:////srv/teammate/teammate.db")
    assert url == "sqlite:////srv/teammate/dbos.sqlite"


def test_postgres_keeps_dbos_in_the_same_database_through_its_own_driver() -> None:
    url = system_database_url("postgresql+asyncpg://bot:pw@db:5432/teammate")
    assert url == "postgresql://bot:pw@db:5432/teammate"


def test_an_unknown_database_is_refused() -> None:
    with pytest.raises(ValueError, match="mysql"):
        system_database_url("mysql://db/teammate")


def test_the_version_is_the_release_and_the_executor_is_the_setting(monkeypatch) -> None:
    monkeypatch.setenv("TEAMMATE_EXECUTOR_ID", "worker-7")
    settings = load_settings(_env_file=None)
    assert settings.durable_answers  # every answer is durable unless an admin turns it off
    engine = DurableEngine(settings.resolved_database_url, settings.executor_id)
    assert engine.executor_id == "worker-7"
    assert engine.application_version == release() != ""


def test_an_admin_can_turn_durable_answers_off(monkeypatch) -> None:
    monkeypatch.setenv("TEAMMATE_DURABLE_ANSWERS", "false")
    assert not load_settings(_env_file=None).durable_answers


def test_an_empty_executor_id_fails_at_start(monkeypatch) -> None:
    monkeypatch.setenv("TEAMMATE_EXECUTOR_ID", "")
    with pytest.raises(Exception, match="TEAMMATE_EXECUTOR_ID"):
        load_settings(_env_file=None)


async def test_after_a_stop_the_loop_runs_threads_and_the_engine_starts_again(tmp_path) -> None:
    """What closes after the engine, and a bot started again in the same process, still run
    work in threads on the same loop (DBOS shuts down the pool it lent the loop)."""
    engine = DurableEngine(f"sqlite+aiosqlite:///{tmp_path}/teammate.db", "local")
    for _ in range(2):
        await engine.migrate()
        engine.launch()
        assert await DBOS.list_workflows_async() == []  # the loop now lends DBOS's pool
        await engine.stop()
        assert await asyncio.to_thread(lambda: "still runs") == "still runs"


async def test_a_second_engine_in_the_process_is_refused(tmp_path) -> None:
    first = DurableEngine(f"sqlite+aiosqlite:///{tmp_path}/first/teammate.db", "local")
    second = DurableEngine(f"sqlite+aiosqlite:///{tmp_path}/second/teammate.db", "local")
    (tmp_path / "first").mkdir()
    await first.migrate()
    first.launch()
    try:
        with pytest.raises(RuntimeError, match="one engine each"):
            second.launch()
    finally:
        await first.stop()


@DBOS.workflow(name="tests.engine.finishing")
async def finishing(seconds: float) -> str:
    await asyncio.sleep(seconds)
    return "done"


async def test_a_stop_lets_a_workflow_that_is_finishing_record_its_outcome(tmp_path) -> None:
    engine = DurableEngine(f"sqlite+aiosqlite:///{tmp_path}/teammate.db", "local")
    await engine.migrate()
    engine.launch()
    await DBOS.start_workflow_async(finishing, 0.3)
    await engine.stop(grace_seconds=5)
    with contextlib.closing(sqlite3.connect(tmp_path / "dbos.sqlite")) as db:
        [(status,)] = db.execute("SELECT status FROM workflow_status").fetchall()
    assert status == "SUCCESS"  # not left PENDING, to run again at the next start


async def test_a_stopping_engine_takes_nothing_more_off_its_queues(tmp_path) -> None:
    """Once a stop begins the queue thread takes no more work (read from DBOS's instance:
    this guards the pinned release's fields), while the workflow it had taken finishes."""
    engine = DurableEngine(f"sqlite+aiosqlite:///{tmp_path}/teammate.db", "local")
    await engine.migrate()
    engine.launch()
    try:
        queue = await DBOS.register_queue_async("tests.engine.queue", polling_interval_sec=0.05)
        running = await queue.enqueue_async(finishing, 0.5)
        for _ in range(200):  # taken off the queue
            status = await running.get_status()
            if status.status == "PENDING":
                break
            await asyncio.sleep(0.05)
        engine.stop_taking()
        left = await queue.enqueue_async(finishing, 0.0)
        assert await running.get_result() == "done"
        await asyncio.sleep(0.5)  # ten looks of a queue thread that still took work
        assert (await left.get_status()).status == "ENQUEUED"
    finally:
        await engine.stop()


async def test_a_launched_engine_runs_no_background_jobs_and_its_workflows_still_run(
    tmp_path,
) -> None:
    """DBOS's background jobs (delayed workflows, timeouts: neither used) cost a process that
    runs sessions a third of its CPU at rest; the engine stops them at launch, and what the
    product uses, workflows started here and the queues' threads, goes on."""
    engine = DurableEngine(f"sqlite+aiosqlite:///{tmp_path}/teammate.db", "local")
    await engine.migrate()
    engine.launch()
    try:
        [jobs] = [t for t in threading.enumerate() if t.name == BACKGROUND_JOBS_THREAD_NAME]
        await asyncio.to_thread(jobs.join, 10)
        assert not jobs.is_alive()
        assert any("queue_thread" in t.name for t in threading.enumerate())
        handle = await DBOS.start_workflow_async(finishing, 0)
        assert await handle.get_result() == "done"
    finally:
        await engine.stop()


def test_no_workflow_is_delayed_or_given_a_timeout() -> None:
    """The engine stops DBOS's background jobs, which alone move delayed workflows on and
    cancel timed-out ones: a workflow given either would wait forever."""
    uses = re.compile(r"SetWorkflowTimeout|workflow_timeout|delay_seconds|deadline_epoch")
    root = Path(__file__).resolve().parents[2] / "bot"
    found = [str(p) for p in root.rglob("*.py") if uses.search(p.read_text(encoding="utf-8"))]
    assert found == []
