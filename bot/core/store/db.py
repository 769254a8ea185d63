"""The database handle: one async engine, sessions, write transactions, and migrations.

Migrations are Alembic's, run programmatically on the engine's own connection (the cookbook's
"run migrations on an async connection" pattern), so no alembic.ini or sync driver is needed.

Every store writes through :meth:`Database.write`. SQLite has one writer at a time; left to
itself, each connection that wants to write polls in SQLite's busy handler (sleeps of up to
100 ms) while holding a pool connection, so at a few hundred answers at once the writers took
the pool and the readers waited behind them for seconds. So on SQLite the process's writes
take turns on one asyncio lock, taken before a connection is (a write waiting its turn holds
none), and the driver opens each write transaction with ``BEGIN IMMEDIATE`` at its first
INSERT, UPDATE or DELETE, taking SQLite's write lock there and then (a read before it in the
block runs on its own; within the process nothing can write between the two, as the lock is
held). Reads do not take the lock: in WAL mode they go on beside the one writer. Another
process on the same file still meets SQLite's busy timeout, as before; SQLite is for one
process, PostgreSQL for several. PostgreSQL has row locks and many writers at once, so there a
write is an ordinary transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

MIGRATIONS = Path(__file__).parent / "migrations"
_T = TypeVar("_T")


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.dialect = "sqlite" if self.is_sqlite else "postgresql"
        """The SQL dialect the database speaks, for statements written per dialect."""
        if self.is_sqlite:
            _ensure_parent(url)
            self.engine: AsyncEngine = create_async_engine(
                url, connect_args={"timeout": 30}, pool_size=5, max_overflow=10
            )
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        else:
            self.engine = create_async_engine(
                url, pool_size=10, max_overflow=20, pool_pre_ping=True
            )
            self._autocommit = create_async_engine(  # one batch of claims at a time uses it
                url, pool_size=1, max_overflow=2, pool_pre_ping=True, isolation_level="AUTOCOMMIT"
            )
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._writer = asyncio.Lock()
        self._writes = 0  # write transactions this process has committed
        self._reads: dict[Hashable, asyncio.Future[Any]] = {}

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A transaction that writes: committed when the block ends, rolled back if it raises.

        On SQLite it waits for the process's earlier writes (without holding a connection)
        and holds SQLite's write lock from its first statement."""
        if not self.is_sqlite:
            async with self.sessions.begin() as session:
                yield session
            self._writes += 1
            return
        session = self.sessions()
        try:
            async with self._writer, session.begin():
                yield session
            self._writes += 1
        finally:
            await session.close()  # the pool's reset of the connection, after the turn

    @contextlib.asynccontextmanager
    async def statement(self) -> AsyncIterator[AsyncConnection | AsyncSession]:
        """A turn for one statement that writes and is atomic by itself (an INSERT of a batch
        with its RETURNING). On PostgreSQL it is a connection in autocommit of a small pool of
        its own: the statement and the pool's check are a round trip each, where a transaction
        on the main pool is six (its check alone opens and rolls back one). On SQLite it is a
        write like any other."""
        if self.is_sqlite:
            async with self.write() as session:
                yield session
            return
        async with self._autocommit.connect() as connection:
            yield connection
        self._writes += 1

    async def shared_read(self, key: Hashable, read: Callable[[], Awaitable[_T]]) -> _T:
        """``read()``, or the same read already in flight: answers that need the same row at
        the same moment (a crowd asking in one channel) share one query and one connection
        instead of each waiting for its own. A read is shared only until this process commits
        a write, so what a caller wrote before asking is always in what it reads."""
        key = (key, self._writes)
        running = self._reads.get(key)
        if running is None:
            running = self._reads[key] = asyncio.ensure_future(read())
            running.add_done_callback(lambda _: self._reads.pop(key, None))
        # shielded: one caller given up on does not cancel the read others wait for
        return await asyncio.shield(running)

    async def migrate(self) -> None:
        """Bring the schema to the newest revision (idempotent; safe on every start)."""
        async with self._writer, self.engine.begin() as conn:
            await conn.run_sync(_upgrade)

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.exec_driver_sql("SELECT 1")

    async def close(self) -> None:
        await self.engine.dispose()
        if not self.is_sqlite:
            await self._autocommit.dispose()


def _upgrade(conn: Connection) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = conn
    command.upgrade(config, "head")


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    # WAL lets readers work while one writer commits; busy_timeout waits for another process.
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
    # The driver opens a transaction itself before the first INSERT, UPDATE or DELETE (reads
    # before it run on their own): opened IMMEDIATE, it takes the write lock then and there,
    # in the same call to the database's thread as the statement.
    dbapi_conn.isolation_level = "IMMEDIATE"


def _ensure_parent(url: str) -> None:
    path = url.split(":///", 1)[-1]
    if path and path != ":memory:" and not path.startswith(":"):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
