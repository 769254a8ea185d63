"""The DBOS engine of one process: where its records live, who it is, and its start and stop.

DBOS keeps every workflow's status, inputs and each completed step's output in its system
tables. On start (``launch``) it re-runs the workflows this executor left PENDING, of this
application version: the one that died mid-answer resumes with no Slack retry, its completed
steps not run again. So:

- the executor id is stable across restarts (``TEAMMATE_EXECUTOR_ID``; one per process that
  runs sessions), and the application version is pinned to the product's release and its step
  layout (:func:`release`) rather than DBOS's default hash of the code, so a restart on the
  same build recovers what it left whatever else changed;
- on SQLite the tables are in their own file beside the product's database (DBOS opens its own
  synchronous connections; a file of its own keeps its writes from waiting on the product's),
  on PostgreSQL they are in the product's database, in the schema ``dbos``.

At rest a launched DBOS spends its CPU in its background threads looking at the database. The
one that costs most, its background jobs (once a second: DELAYED workflows whose delay is up,
workflows whose timeout passed, each a fresh SQLAlchemy statement and, on PostgreSQL, an
advisory lock), serves features the product does not use (no workflow is delayed or given a
timeout), so :meth:`DurableEngine.launch` stops it: about a third of what a process running
sessions spends at rest, and what ten long answers at once were charged for it while they
streamed. Its other threads stay: the queues' pollers (a process that runs sessions takes them
from there, and a resumed workflow goes on DBOS's internal queue), the notifications listener
and the schedules' poller.

DBOS is one instance per process (its decorators register on a global registry), so a process
has one engine. ``launch`` must run inside the event loop that serves the bot: DBOS then runs
recovered async workflows on that loop, beside the HTTP clients they use.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from dbos import DBOS, DBOSConfig
from dbos import _dbos as dbos_instance

from bot.core.durable.layout import STEP_LAYOUT

log = logging.getLogger("teammate.core.durable")

APP_NAME = "teammate"
SQLITE_FILE = "dbos.sqlite"
SCHEMA = "dbos"
LISTENER_POLL_SECONDS = 0.1
NOTIFIER_SECONDS = 0.1
"""How often DBOS's notifier thread sends the NOTIFYs that events and streams written since
(neither is used here) owe their readers; its default, 0.01 s, wakes it 100 times a second
for nothing. A stop joins it, so its sleep bounds every stop too."""

_running: DurableEngine | None = None
"""The engine launched in this process (DBOS is one per process)."""


def release() -> str:
    """The application version workflows are recorded and recovered under: the product's
    release and its step layout (``0.1.0+steps.3``), so a build that changes the steps a run
    records does not replay the runs of the build before it."""
    try:
        package = version("teammate")
    except PackageNotFoundError:  # running from a checkout that was never installed
        package = "0"
    return f"{package}+steps.{STEP_LAYOUT}"


def system_database_url(database_url: str) -> str:
    """DBOS's system database for the product's SQLAlchemy async URL: a file beside a SQLite
    database, the same PostgreSQL database (DBOS speaks psycopg, not asyncpg)."""
    for prefix in ("sqlite+aiosqlite:///", "sqlite:///"):
        if database_url.startswith(prefix):
            path = Path(database_url[len(prefix) :])
            return f"sqlite:///{path.with_name(SQLITE_FILE)}"
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if database_url.startswith(prefix):
            return "postgresql://" + database_url[len(prefix) :]
    raise ValueError(f"no DBOS system database for {database_url.split(':', 1)[0]} URLs")


class DurableEngine:
    """Starts and stops DBOS for this process. Register workflows (import their modules)
    before :meth:`launch`: recovery looks them up by name."""

    def __init__(
        self,
        database_url: str,
        executor_id: str,
        *,
        application_version: str | None = None,
        log_level: str = "WARNING",
    ) -> None:
        self.executor_id = executor_id
        self.application_version = application_version or release()
        self._system_database_url = system_database_url(database_url)
        self._config = DBOSConfig(
            name=APP_NAME,
            system_database_url=self._system_database_url,
            dbos_system_schema=SCHEMA,
            executor_id=executor_id,
            application_version=self.application_version,
            log_level=log_level,
            # The thread that wakes DBOS's waits for messages and events (none here: every
            # wait is for a workflow's outcome, which polls on its own); a stop joins it, so
            # its sleep bounds every stop. Idle, a wake-up reads nothing.
            notification_listener_polling_interval_sec=LISTENER_POLL_SECONDS,
            notification_coalesce_sec=NOTIFIER_SECONDS,
        )
        self._launched = False

    async def migrate(self) -> None:
        """Create or migrate DBOS's tables, in a thread. On PostgreSQL a migration may build an
        index CONCURRENTLY, which waits for every open transaction in the database: run on the
        event loop (as ``DBOS.launch`` would), it would wait for this process's own transactions
        that the blocked loop can no longer finish."""
        await asyncio.to_thread(DBOS.migrate, self._system_database_url, schema=SCHEMA)

    def launch(self) -> None:
        """Resume this executor's pending workflows (they start in the background, on the
        running event loop). Call :meth:`migrate` first: DBOS then finds its tables current.
        A second engine launched in the process is refused: DBOS would quietly go on with the
        first one's database, and the first to stop would stop it for both."""
        global _running
        if _running is not None:
            raise RuntimeError("this process runs durable workflows already: one engine each")
        DBOS(config=self._config)
        DBOS.launch()
        _stop_background_jobs()
        self._launched, _running = True, self
        log.info(
            "durable runs on as executor %s, version %s",
            self.executor_id,
            self.application_version,
        )

    def stop_taking(self) -> None:
        """Take no more work off the queues, at once: a stop has begun. Queued sessions stay
        ENQUEUED for the other processes that run sessions (or for this one's restart), while
        the ones running here go on to finish in the stop's grace time."""
        if self._launched:
            _stop_dequeuing()

    async def stop(self, grace_seconds: int = 5) -> None:
        """Stop DBOS, first giving the workflows that are finishing up to ``grace_seconds`` to
        record their outcome (a workflow whose last step is done but whose outcome is not
        written would run again at the next start). One still running stays PENDING and is
        resumed by the next start of this executor. DBOS's wait sleeps a whole second before
        it first looks, so it waits only when a workflow runs here; DBOS waits with blocking
        calls, so in a thread."""
        global _running
        if self._launched:
            self._launched = False
            wait = grace_seconds if _workflows_run_here() else 0
            await asyncio.to_thread(DBOS.destroy, workflow_completion_timeout_sec=wait)
            _restore_thread_pool(asyncio.get_running_loop())
            _running = None


def _workflows_run_here() -> bool:
    """Whether DBOS runs a workflow in this process (what its stop waits for) or has one
    started that is yet to run. DBOS keeps both in memory and to itself (read here from the
    pinned release's instance); asking its database instead would hang a stop while the
    database is unreachable."""
    instance = dbos_instance._dbos_global_instance
    if instance is None:
        return False
    return bool(instance._active_workflows_set.activeList() or instance._workflow_tasks)


def _stop_dequeuing() -> None:
    """Set the stop events of DBOS's threads that start workflows: its queues' thread (which
    takes workflows off every queue), its scheduler's and its pollers'. DBOS's own stop sets
    the same events first and only then waits for what runs, so until then a draining process
    went on taking new work. DBOS has no public call for it (``listen_queues`` applies before
    launch only): the events are read from the pinned release's instance (guarded by
    tests/unit/test_durable_engine.py)."""
    instance = dbos_instance._dbos_global_instance
    if instance is None:
        return
    for event in instance.background_thread_stop_events:
        event.set()


def _stop_background_jobs() -> None:
    """End DBOS's background jobs thread (see the module's doc: it moves DELAYED workflows on
    and cancels timed-out ones, and no workflow here is either). Its loop ends at the next
    look at its stop event, which DBOS's own stop sets again and joins on (read here from the
    pinned release's instance). Were a workflow ever delayed or given a timeout, this has to
    go."""
    instance = dbos_instance._dbos_global_instance
    if instance is not None:
        instance._background_jobs_stop_event.set()


def _restore_thread_pool(loop: asyncio.AbstractEventLoop) -> None:
    """DBOS makes its own thread pool the loop's default (where ``asyncio.to_thread`` runs) and
    shuts that pool down when it stops, leaving the loop a default that refuses all work: what
    runs on the loop after the stop (closing the rest of the process, another start of the bot
    in the same process) would fail. The loop gets a pool of its own again."""
    loop.set_default_executor(ThreadPoolExecutor(thread_name_prefix="asyncio"))
