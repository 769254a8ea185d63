"""Fresh databases for tests and benchmarks, migrated like the bot's own: SQLite in a folder,
or a PostgreSQL database made for the caller and dropped afterwards (None when the server
cannot be reached)."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]

from bot.core.store import Database

POSTGRES_ADMIN_URL = os.environ.get(
    "TEAMMATE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)


@contextlib.asynccontextmanager
async def fresh_sqlite(folder: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite+aiosqlite:///{folder / 'teammate.db'}")
    await db.migrate()
    try:
        yield db
    finally:
        await db.close()


@contextlib.asynccontextmanager
async def fresh_postgres(
    admin_url: str = POSTGRES_ADMIN_URL, prefix: str = "teammate_test"
) -> AsyncIterator[tuple[Database | None, Exception | None]]:
    """(a new migrated database, None), or (None, why) when PostgreSQL is not reachable."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    try:
        admin = await asyncpg.connect(admin_url, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        yield None, exc
        return
    await admin.execute(f'CREATE DATABASE "{name}"')
    base = admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    db = Database(f"{base}/{name}")
    try:
        await db.migrate()
        yield db, None
    finally:
        await db.close()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
